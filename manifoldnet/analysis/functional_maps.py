"""Functional maps between two shapes: from descriptors, to point-to-point maps, and ZoomOut refinement.

A functional map ``C`` (k_dst, k_src) transfers functions from ``src`` to ``dst`` in their truncated
eigenbases: a function with coefficients ``a`` on ``src`` becomes ``C @ a`` on ``dst``. A point-to-point
map ``p2p`` (V_dst,) gives every vertex of ``dst`` a vertex of ``src``; it transfers functions by pull-back,
``f_dst = f_src[p2p]``, and induces ``C = Phi_dst^T M_dst Phi_src[p2p]`` (:func:`p2p_to_fmap`).

The initial map minimises (Ovsjanikov et al. 2012; Nogneng & Ovsjanikov 2017; Ren et al. 2018)

    w_descr ||C A_src - A_dst||^2 + w_lap ||C L_src - L_dst C||^2
      + w_dcomm sum_f ||C X_src,f - X_dst,f C||^2 + w_orient sum_f ||C O_src,f -+ O_dst,f C||^2

with ``A`` the descriptor coefficients, ``L`` the diagonal of eigenvalues, ``X_f`` the multiplication
operator by descriptor ``f`` and ``O_f`` the orientation operator ``g -> <n x grad f, grad g>`` (``-`` keeps
the orientation, ``+`` reverses it). The energy is quadratic in ``C``; it is solved exactly (one dense SPD
solve of size ``k_src * k_dst``). ZoomOut (Melzi et al. 2019) then alternates ``C -> p2p -> C`` while growing
the basis one (or ``step``) eigenfunction at a time.

Conventions
-----------
evals (K,) ascending, evecs (V, K) M-orthonormal (``evecs.T @ diag(mass) @ evecs = I``), mass (V,) lumped
vertex areas. The energy is evaluated on both shapes rescaled to unit area (eigenvalues times area,
descriptors normalised per column), so its weights do not depend on the units; the returned ``C`` is expressed
in the shapes' own bases (``C_own = sqrt(area_dst / area_src) * C_unit``), so it agrees
with :func:`p2p_to_fmap`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ..errors import MeshError
from ..geometry.frames import vertex_normals
from ..geometry.gradient import face_gradient
from ..geometry.laplacian import laplacian
from ..geometry.spectral import eigenbasis
from ..mesh import Mesh
from ..progress import progress_bar

__all__ = [
    "SpectralShape",
    "descriptor_coefficients",
    "fmap_from_descriptors",
    "fmap_to_p2p",
    "multiplication_operators",
    "nearest_rows",
    "orientation_operators",
    "orientation_score",
    "p2p_to_fmap",
    "spectral_shape",
    "zoomout",
]

# brute force (matrix products) beats cKDTree above this embedding dimension
_KDTREE_MAX_DIM = 6
_DENSE_MAX_UNKNOWNS = 4900


@dataclass(frozen=True)
class SpectralShape:
    """A shape seen through its truncated Laplace-Beltrami eigenbasis.

    Attributes
    ----------
    evals : (K,) float64 ascending. evecs : (V, K) float64, M-orthonormal.
    mass : (V,) float64 lumped vertex areas (positive). mesh : the :class:`Mesh` (needed only by the
    orientation term), or None.
    """

    evals: np.ndarray
    evecs: np.ndarray
    mass: np.ndarray
    mesh: Mesh | None = None

    def __post_init__(self):
        evals = np.asarray(self.evals, dtype=np.float64)
        evecs = np.asarray(self.evecs, dtype=np.float64)
        mass = self.mass
        if sp.issparse(mass):
            if (mass - sp.diags(mass.diagonal())).count_nonzero():
                raise MeshError("SpectralShape needs a lumped (diagonal) mass matrix, got a non-diagonal one")
            mass = mass.diagonal()
        mass = np.asarray(mass, dtype=np.float64).reshape(-1)
        if evecs.ndim != 2 or evals.shape != (evecs.shape[1],):
            raise MeshError(f"evals must be (K,) and evecs (V, K); got {evals.shape} and {evecs.shape}")
        if mass.shape != (evecs.shape[0],):
            raise MeshError(f"mass must be (V,) = ({evecs.shape[0]},), got {mass.shape}")
        for name, a in (("evals", evals), ("evecs", evecs), ("mass", mass)):
            if not np.isfinite(a).all():
                raise MeshError(
                    f"{name} has non-finite entries (first at flat index "
                    f"{np.flatnonzero(~np.isfinite(a))[0]})"
                )
        if (mass <= 0).any():
            i = int(np.flatnonzero(mass <= 0)[0])
            raise MeshError(f"mass must be positive; vertex {i} has mass {mass[i]} (unreferenced vertex?)")
        if self.mesh is not None and self.mesh.n_verts != mass.size:
            raise MeshError(f"mesh has {self.mesh.n_verts} vertices but the basis has {mass.size} rows")
        object.__setattr__(self, "evals", evals)
        object.__setattr__(self, "evecs", evecs)
        object.__setattr__(self, "mass", mass)

    @property
    def n_verts(self) -> int:
        return self.evecs.shape[0]

    @property
    def k(self) -> int:
        return self.evecs.shape[1]

    @property
    def area(self) -> float:
        return float(self.mass.sum())

    def project(self, f: np.ndarray, k: int | None = None) -> np.ndarray:
        """Coefficients ``Phi[:, :k]^T M f``: (k,) or (k, D) for ``f`` (V,) or (V, D)."""
        k = self.k if k is None else k
        f = np.asarray(f, dtype=np.float64)
        w = f * self.mass if f.ndim == 1 else f * self.mass[:, None]
        return self.evecs[:, :k].T @ w


def spectral_shape(mesh: Mesh, k: int = 100, *, kind: str = "cotan") -> SpectralShape:
    """The first ``k`` eigenpairs of ``mesh`` (``laplacian(kind, mass="lumped")`` and ``eigenbasis``)."""
    L, M = laplacian(mesh, kind=kind, mass="lumped")
    evals, evecs = eigenbasis(L, M, k)
    return SpectralShape(evals, evecs, M.diagonal(), mesh)


# ---------------------------------------------------------------------------------------------- helpers
def _check_desc(shape: SpectralShape, desc, name: str) -> np.ndarray:
    d = np.asarray(desc, dtype=np.float64)
    if d.ndim == 1:
        d = d[:, None]
    if d.ndim != 2 or d.shape[0] != shape.n_verts:
        raise MeshError(f"{name} must be (V, D) with V = {shape.n_verts}, got {np.shape(desc)}")
    if not np.isfinite(d).all():
        i = int(np.flatnonzero(~np.isfinite(d).all(axis=1))[0])
        raise MeshError(f"{name} has non-finite values at vertex {i}")
    return d


def _check_k(shape: SpectralShape, k, name: str) -> int:
    k = int(k)
    if not 1 <= k <= shape.k:
        raise MeshError(f"{name} = {k} is outside [1, {shape.k}] (eigenpairs available)")
    return k


def _rms_normalize(shape: SpectralShape, d: np.ndarray) -> np.ndarray:
    """Columns scaled to unit root-mean-square over the surface (``int f^2 dA / area = 1``)."""
    rms = np.sqrt((shape.mass @ d**2) / shape.area)
    return d / np.where(rms > 0, rms, 1.0)


def descriptor_coefficients(shape: SpectralShape, desc: np.ndarray, k: int) -> np.ndarray:
    """(k, D) coefficients of the descriptors (columns scaled to unit RMS) in the unit-area basis."""
    d = _rms_normalize(shape, _check_desc(shape, desc, "desc"))
    return shape.project(d, k) / np.sqrt(shape.area)


def multiplication_operators(shape: SpectralShape, desc: np.ndarray, k: int) -> np.ndarray:
    """(D, k, k) operators ``Phi^T M diag(f) Phi`` of multiplication by each descriptor (unit RMS)."""
    d = _rms_normalize(shape, _check_desc(shape, desc, "desc"))
    phi = shape.evecs[:, :k]
    wphi_t = (phi * shape.mass[:, None]).T
    out = np.empty((d.shape[1], k, k))
    for s in range(0, d.shape[1], 16):  # (V, 16 * k) blocks bound the memory
        blk = (d[:, s : s + 16, None] * phi[:, None, :]).reshape(phi.shape[0], -1)
        out[s : s + 16] = (wphi_t @ blk).reshape(k, -1, k).transpose(1, 0, 2)
    return out


def orientation_operators(shape: SpectralShape, desc: np.ndarray, k: int) -> np.ndarray:
    """(D, k, k) operators ``g -> <n x grad f, grad g>`` in the unit-area basis, one per descriptor ``f``.

    Face gradients come from ``geometry.gradient.face_gradient``; face values return to vertices with the
    lumped-mass weights (``A_f / 3`` to each corner). Antisymmetric in (f, g); it flips sign under a
    reflection, which is what tells a map from its mirror image (Ren et al. 2018).
    """
    if shape.mesh is None:
        raise MeshError("the orientation term needs SpectralShape.mesh (build it with spectral_shape(mesh))")
    mesh = shape.mesh
    d = _rms_normalize(shape, _check_desc(shape, desc, "desc"))
    G = face_gradient(mesh)
    F = mesh.n_faces
    phi = shape.evecs[:, :k]
    grad_d = (G @ d).reshape(F, 3, -1)  # (F, 3, D)
    grad_phi = (G @ phi).reshape(F, 3, k)  # (F, 3, k)
    jgrad = np.cross(mesh.face_normals[:, :, None], grad_d, axis=1)  # n x grad f
    # face -> vertex with weights A_f / 3: S (V, F)
    a3 = np.repeat(mesh.face_areas / 3.0, 3)
    S = sp.csr_matrix((a3, (mesh.faces.reshape(-1), np.repeat(np.arange(F), 3))), shape=(mesh.n_verts, F))
    sphi = S.T @ phi  # (F, k): sum_f (A_f/3) phi_i at the face's corners
    # O[d, i, j] = sum_faces sphi[f, i] * <jgrad[f, :, d], grad_phi[f, :, j]>, times area (unit-area scaling)
    T = np.matmul(jgrad.transpose(0, 2, 1), grad_phi)  # (F, D, k)
    D = T.shape[1]
    return shape.area * (sphi.T @ T.reshape(F, D * k)).reshape(k, D, k).transpose(1, 0, 2)


def _kron_sum(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """sum_f kron(X_f, Y_f) for X (D, a, a), Y (D, b, b): (a*b, a*b)."""
    D, a, _ = X.shape
    b = Y.shape[1]
    P = X.reshape(D, a * a).T @ Y.reshape(D, b * b)  # [(i, j), (p, q)]
    return P.reshape(a, a, b, b).transpose(0, 2, 1, 3).reshape(a * b, a * b)


def _commutator_hessian(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Hessian of sum_f ||C X_f - Y_f C||^2 in column-major vec(C)."""
    ks, kd = X.shape[1], Y.shape[1]
    XX = np.einsum("dij,dkj->ik", X, X)
    YY = np.einsum("dji,djk->ik", Y, Y)
    S = _kron_sum(X, Y)
    return np.kron(XX, np.eye(kd)) + np.kron(np.eye(ks), YY) - S - S.T


def fmap_from_descriptors(
    src: SpectralShape,
    dst: SpectralShape,
    desc_src: np.ndarray,
    desc_dst: np.ndarray,
    *,
    k: int | tuple[int, int] = 30,
    w_descr: float = 1.0,
    w_lap: float = 1e-2,
    w_dcomm: float = 1.0,
    w_orient: float = 0.0,
    orientation: str = "direct",
    dcomm_every: int = 1,
) -> np.ndarray:
    """Functional map ``C`` (k_dst, k_src) from descriptor preservation and operator commutativity.

    Parameters
    ----------
    src, dst : SpectralShape. desc_src (V_src, D), desc_dst (V_dst, D) : corresponding descriptor columns
    (e.g. WKS/HKS at the same energies/times). k : basis size, an int or (k_src, k_dst).
    w_descr, w_lap, w_dcomm, w_orient : weights of the four terms (module docstring); the Laplacian term uses
    eigenvalues of the unit-area shapes divided by the largest one used.
    orientation : "direct" (orientation-preserving, both meshes consistently oriented) or "symmetric"
    (orientation-reversing: the mirror map). dcomm_every : use every n-th descriptor in the operator terms.
    """
    ks, kd = (k, k) if np.isscalar(k) else k
    ks, kd = _check_k(src, ks, "k_src"), _check_k(dst, kd, "k_dst")
    if ks * kd > _DENSE_MAX_UNKNOWNS:
        raise MeshError(
            f"k_src * k_dst = {ks * kd} exceeds {_DENSE_MAX_UNKNOWNS}: start small (k ~ 20-50) and grow with "
            "zoomout"
        )
    if orientation not in ("direct", "symmetric"):
        raise MeshError(f"orientation must be 'direct' or 'symmetric', got {orientation!r}")
    for name, w in (("w_descr", w_descr), ("w_lap", w_lap), ("w_dcomm", w_dcomm), ("w_orient", w_orient)):
        if not (np.isfinite(w) and w >= 0):
            raise MeshError(f"{name} must be a finite non-negative weight, got {w}")
    ds = _check_desc(src, desc_src, "desc_src")
    dd = _check_desc(dst, desc_dst, "desc_dst")
    if ds.shape[1] != dd.shape[1]:
        raise MeshError(
            f"desc_src has {ds.shape[1]} columns but desc_dst has {dd.shape[1]}: they must correspond"
        )

    n = ks * kd
    H = np.zeros((n, n))
    rhs = np.zeros(n)
    if w_descr > 0:
        A = descriptor_coefficients(src, ds, ks)
        B = descriptor_coefficients(dst, dd, kd)
        H += w_descr * np.kron(A @ A.T, np.eye(kd))
        rhs += w_descr * (B @ A.T).reshape(-1, order="F")
    if w_lap > 0:
        ls = src.evals[:ks] * src.area
        ld = dst.evals[:kd] * dst.area
        scale = max(np.abs(ls).max(), np.abs(ld).max(), 1e-300)
        D = ((ls[None, :] - ld[:, None]) / scale) ** 2  # (kd, ks)
        H[np.diag_indices(n)] += w_lap * D.reshape(-1, order="F")
    sel = slice(None, None, max(int(dcomm_every), 1))
    if w_dcomm > 0:
        X = multiplication_operators(src, ds[:, sel], ks)
        Y = multiplication_operators(dst, dd[:, sel], kd)
        H += (w_dcomm / X.shape[0]) * _commutator_hessian(X, Y)
    if w_orient > 0:
        X = orientation_operators(src, ds[:, sel], ks)
        Y = orientation_operators(dst, dd[:, sel], kd)
        # gradients make these operators large and unevenly scaled across k: bring their mean Frobenius norm
        # to that of a multiplication operator by a unit-RMS function (~ sqrt(k)), one factor for both shapes
        norm = np.sqrt(np.linalg.norm(X, axis=(1, 2)).mean() * np.linalg.norm(Y, axis=(1, 2)).mean())
        scale = np.sqrt(np.sqrt(ks * kd)) / max(norm, 1e-300)
        X, Y = X * scale, Y * (-scale if orientation == "symmetric" else scale)
        H += (w_orient / X.shape[0]) * _commutator_hessian(X, Y)
    if not rhs.any():
        raise MeshError(
            "the descriptor term is zero (w_descr = 0 or zero descriptors): the map would be C = 0"
        )
    ridge = 1e-12 * max(np.trace(H) / n, 1e-300)
    H[np.diag_indices(n)] += ridge
    c = sla.solve(H, rhs, assume_a="pos")
    C = c.reshape(kd, ks, order="F")
    return np.sqrt(dst.area / src.area) * C


def nearest_rows(points: np.ndarray, queries: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """(Q,) int64: index of the nearest row of ``points`` (N, d) for every row of ``queries`` (Q, d).

    ``scipy.spatial.cKDTree`` for d <= 6; above, a chunked search by float32 matrix products
    (``|p|^2 - 2 q.p``): a k-d tree degenerates to brute force in high dimension and was 5-20x slower on
    FAUST spectral embeddings (d = 20-120). Near-ties (relative 1e-6) may resolve either way.
    """
    P = np.asarray(points, dtype=np.float64)
    Q = np.asarray(queries, dtype=np.float64)
    if P.ndim != 2 or Q.ndim != 2 or P.shape[1] != Q.shape[1]:
        raise MeshError(f"points (N, d) and queries (Q, d) must share d; got {P.shape} and {Q.shape}")
    if P.shape[0] == 0:
        raise MeshError("points is empty")
    if not (np.isfinite(P).all() and np.isfinite(Q).all()):
        raise MeshError("points or queries has non-finite entries")
    if P.shape[1] <= _KDTREE_MAX_DIM:
        return cKDTree(P).query(Q, k=1)[1].astype(np.int64)
    centre = P.mean(axis=0)  # centring keeps |p|^2 small next to 2 q.p (float32 cancellation)
    P32 = np.ascontiguousarray(P - centre, dtype=np.float32)
    Q32 = np.ascontiguousarray(Q - centre, dtype=np.float32)
    pn = np.einsum("ij,ij->i", P32, P32)
    out = np.empty(Q.shape[0], dtype=np.int64)
    for s in range(0, Q.shape[0], chunk):
        d2 = Q32[s : s + chunk] @ P32.T
        d2 *= -2.0
        d2 += pn[None, :]
        out[s : s + chunk] = np.argmin(d2, axis=1)
    return out


def fmap_to_p2p(
    C: np.ndarray, src: SpectralShape, dst: SpectralShape, *, adjoint: bool = False
) -> np.ndarray:
    """(V_dst,) int64: the vertex of ``src`` each vertex of ``dst`` maps to, from ``C`` (k_dst, k_src).

    Default: rows of ``Phi_dst C`` (the pulled-back ``src`` basis, as ``dst`` sees it) against rows of
    ``Phi_src``, which needs no assumption on ``C``. ``adjoint=True``: rows of ``Phi_dst`` against rows of
    ``Phi_src C^T`` (the same for an orthogonal ``C``; the usual choice inside ZoomOut).
    """
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2:
        raise MeshError(f"C must be (k_dst, k_src), got shape {C.shape}")
    kd, ks = C.shape
    _check_k(src, ks, "k_src (C.shape[1])")
    _check_k(dst, kd, "k_dst (C.shape[0])")
    if not np.isfinite(C).all():
        raise MeshError("C has non-finite entries")
    if adjoint:
        s2 = dst.area / src.area  # C = sqrt(s2) * orthogonal, so (Phi_src C^T)[p2p[v]] ~ s2 * Phi_dst[v]
        return nearest_rows(src.evecs[:, :ks] @ C.T, dst.evecs[:, :kd] * s2)
    return nearest_rows(src.evecs[:, :ks], dst.evecs[:, :kd] @ C)


def _check_p2p(p2p, src: SpectralShape, dst: SpectralShape) -> np.ndarray:
    p = np.asarray(p2p)
    if p.shape != (dst.n_verts,) or p.dtype.kind not in "iu":
        raise MeshError(
            f"p2p must be an integer array of shape (V_dst,) = ({dst.n_verts},), got {p.dtype} {p.shape}"
        )
    bad = (p < 0) | (p >= src.n_verts)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(f"p2p[{i}] = {p[i]} is not a vertex of src ({src.n_verts} vertices)")
    return p.astype(np.int64)


def p2p_to_fmap(
    p2p: np.ndarray, src: SpectralShape, dst: SpectralShape, k_src: int, k_dst: int
) -> np.ndarray:
    """(k_dst, k_src) functional map ``Phi_dst^T M_dst Phi_src[p2p]`` induced by a pull-back map."""
    p = _check_p2p(p2p, src, dst)
    ks, kd = _check_k(src, k_src, "k_src"), _check_k(dst, k_dst, "k_dst")
    return dst.project(src.evecs[p, :ks], kd)


def zoomout(
    C: np.ndarray,
    src: SpectralShape,
    dst: SpectralShape,
    k_final: int | tuple[int, int],
    *,
    step: int = 1,
    adjoint: bool = True,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """ZoomOut (Melzi et al. 2019): grow ``C`` from its size to ``k_final`` by spectral upsampling.

    Each step converts the current map to a point map (:func:`fmap_to_p2p`) and back to a functional map
    ``step`` eigenfunctions larger (:func:`p2p_to_fmap`). Returns ``(C_final (kd, ks), p2p (V_dst,))``, the
    point map being the one read from ``C_final``. ``progress``: a bar over the steps (default: only when
    stderr is a terminal, :mod:`manifoldnet.progress`); on two 15k-vertex meshes from k = 30 to 128 the steps
    take tens of seconds.
    """
    C = np.asarray(C, dtype=np.float64)
    kd, ks = C.shape
    kfs, kfd = (k_final, k_final) if np.isscalar(k_final) else k_final
    kfs, kfd = _check_k(src, kfs, "k_final (src)"), _check_k(dst, kfd, "k_final (dst)")
    if kfs < ks or kfd < kd:
        raise MeshError(f"k_final {(kfs, kfd)} is smaller than the initial map size {(ks, kd)}")
    if int(step) < 1:
        raise MeshError(f"step must be a positive integer, got {step}")
    step = int(step)
    n_steps = max(-(-(kfs - ks) // step), -(-(kfd - kd) // step))
    with progress_bar(n_steps, "zoomout", progress, unit="step") as bar:
        while ks < kfs or kd < kfd:
            p2p = fmap_to_p2p(C, src, dst, adjoint=adjoint)
            ks, kd = min(ks + step, kfs), min(kd + step, kfd)
            C = p2p_to_fmap(p2p, src, dst, ks, kd)
            bar.update(1)
    return C, fmap_to_p2p(C, src, dst, adjoint=adjoint)


def orientation_score(p2p: np.ndarray, src: SpectralShape | Mesh, dst: SpectralShape | Mesh) -> float:
    """How orientation-preserving a point map is, in [-1, 1], without any ground truth.

    Every face of ``dst`` (counter-clockwise about its outward normal) is carried by ``p2p`` (V_dst,) onto
    three vertices of ``src``; the sign of the image triangle's normal against ``src``'s vertex normals there
    says whether it kept its orientation. Returns the area-weighted mean sign over faces whose image is a
    proper triangle: near +1 for an orientation-preserving map (both meshes outward-oriented), near -1 for a
    mirror map, in between for a map that flips some regions. Useful to choose between candidate maps.
    """
    sm = src.mesh if isinstance(src, SpectralShape) else src
    dm = dst.mesh if isinstance(dst, SpectralShape) else dst
    if not isinstance(sm, Mesh) or not isinstance(dm, Mesh):
        raise MeshError("orientation_score needs the meshes (SpectralShape.mesh or Mesh)")
    p = np.asarray(p2p)
    if p.shape != (dm.n_verts,) or p.dtype.kind not in "iu":
        raise MeshError(
            f"p2p must be an integer array of shape (V_dst,) = ({dm.n_verts},), got {p.dtype} {p.shape}"
        )
    if p.size and (p.min() < 0 or p.max() >= sm.n_verts):
        i = int(np.flatnonzero((p < 0) | (p >= sm.n_verts))[0])
        raise MeshError(f"p2p[{i}] = {p[i]} is not a vertex of src ({sm.n_verts} vertices)")
    img = p[dm.faces]  # (F, 3) src vertices
    P = sm.verts[img]
    n = np.cross(P[:, 1] - P[:, 0], P[:, 2] - P[:, 0])
    ref = vertex_normals(sm)[img].sum(axis=1)
    sign = np.sign(np.einsum("ij,ij->i", n, ref))
    proper = (img[:, 0] != img[:, 1]) & (img[:, 1] != img[:, 2]) & (img[:, 2] != img[:, 0]) & (sign != 0)
    w = dm.face_areas * proper
    if w.sum() <= 0:
        raise MeshError("no face of dst maps to a proper triangle: the map collapses everything")
    return float((w * sign).sum() / w.sum())
