"""Laplace operators and mass matrices: cotangent, robust (intrinsic Delaunay), point cloud.

Conventions
-----------
``L`` is the *weak*, positive semi-definite Laplacian: positive diagonal, non-positive off-diagonals
for the robust kind, ``L @ 1 = 0``; the strong Laplacian is ``-M^-1 L``. libigl's ``cotmatrix`` has the
opposite sign (``L = -igl.cotmatrix``). For the cotangent kind
``L_ij = -(cot alpha_ij + cot beta_ij) / 2`` over the angles opposite edge ``ij``.
All matrices are float64 ``scipy.sparse`` CSR of shape (V, V) with sorted indices.

Degenerate triangles
--------------------
Cotangents come from :func:`~manifoldnet.geometry.elements.halfedge_cotans_from_lengths` (area floored, so
finite). A face whose largest ``|cot|`` exceeds ``max_cotan`` (an angle below ~1/max_cotan radians)
has its three cotangents scaled down together by ``max_cotan / max|cot|``: the face's stiffness matrix
stays positive semi-definite (scaling preserves ``sum_k c_k c_(k+1) >= 0``), so ``L`` stays PSD, while one
sliver can no longer dominate the spectrum. :func:`~manifoldnet.geometry.gradient.face_gradient` and
:func:`~manifoldnet.geometry.gradient.divergence` use the same floored area and the same factor
(:func:`cotan_guard_scale`), so ``divergence @ face_gradient == -L`` on every mesh, slivers included.

Unreferenced vertices
---------------------
A vertex no face uses gets a zero row and column in ``L`` and a tiny positive mass
(``MASS_FLOOR`` times the mean vertex mass), so ``M`` stays invertible and ``M + t L`` stays
non-singular. The same floor applies to any vertex whose mass would be zero (only zero-area faces).
:func:`~manifoldnet.geometry.spectral.eigenbasis` leaves such isolated vertices out (their entries in
every eigenvector are 0), so they never use up eigenpairs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh
from .elements import face_areas_from_lengths, halfedge_cotans_from_lengths, halfedge_lengths
from .inputs import mesh_input

__all__ = [
    "MASS_FLOOR",
    "MASS_KINDS",
    "cotan_laplacian",
    "laplacian",
    "mass_matrix",
    "point_cloud_laplacian",
    "robust_laplacian",
]

MASS_FLOOR = 1e-10
"""Smallest vertex mass, relative to the mean mass of the vertices with positive mass."""

MASS_KINDS = ("lumped", "voronoi", "galerkin")
LAPLACIAN_KINDS = ("cotan", "robust")


def cotan_guard_scale(cot: np.ndarray, max_cotan: float) -> np.ndarray:
    """(F,) float64 per-face factor of the degenerate-triangle guard (module docstring): ``1`` where
    ``max|cot| <= max_cotan``, else ``max_cotan / max|cot|``. Shared with
    :func:`~manifoldnet.geometry.gradient.divergence`, so that ``divergence @ face_gradient == -L``."""
    peak = np.abs(cot).max(axis=1)
    return np.where(peak > max_cotan, max_cotan / np.where(peak > 0, peak, 1.0), 1.0)


def _scaled_cotans(lengths: np.ndarray, max_cotan: float) -> np.ndarray:
    """(F, 3) cotangents with the per-face guard described in the module docstring."""
    cot = halfedge_cotans_from_lengths(lengths)
    return cot * cotan_guard_scale(cot, max_cotan)[:, None]


def _assemble_symmetric(
    faces: np.ndarray, w: np.ndarray, n: int, twin: np.ndarray | None = None
) -> sp.csr_matrix:
    """Weak Laplacian from (F, 3) half-edge weights: ``L_ij -= w``, ``L_ii += w`` for
    each half-edge (i, j). With ``twin`` ((3F,) opposite half-edges, every one paired) each edge's two weights
    are added first: half the entries to sort and sum (the same matrix up to the order of additions)."""
    i = faces.reshape(-1)
    j = faces[:, [1, 2, 0]].reshape(-1)
    w = w.reshape(-1)
    if twin is not None:
        h = np.flatnonzero(np.arange(w.size) < twin)
        i, j, w = i[h], j[h], w[h] + w[twin[h]]
    diag = np.bincount(i, weights=w, minlength=n) + np.bincount(j, weights=w, minlength=n)
    ar = np.arange(n)
    L = sp.csr_matrix((np.r_[-w, -w, diag], (np.r_[i, j, ar], np.r_[j, i, ar])), shape=(n, n))
    L.sort_indices()
    return L


@mesh_input
def cotan_laplacian(mesh: Mesh, *, max_cotan: float = 1e5) -> sp.csr_matrix:
    """The weak PSD cotangent Laplacian.

    Parameters
    ----------
    mesh : Mesh (any triangle soup: boundaries, non-manifold edges and several components are fine).
    max_cotan : the per-face guard for degenerate triangles (module docstring).

    Returns
    -------
    L : (V, V) float64 CSR, symmetric, ``L @ 1 = 0``; zero rows at unreferenced vertices.
    """
    if not max_cotan > 0:
        raise MeshError(f"max_cotan must be positive, got {max_cotan}")
    cot = _scaled_cotans(halfedge_lengths(mesh), max_cotan)
    # half-edge k is opposite corner k+2: its weight is cot / 2
    return _assemble_symmetric(mesh.faces, 0.5 * cot, mesh.n_verts)


def _floor_masses(m: np.ndarray) -> np.ndarray:
    pos = m > 0
    ref = m[pos].mean() if pos.any() else 1.0
    return np.maximum(m, MASS_FLOOR * ref)


@mesh_input
def mass_matrix(mesh: Mesh, kind: str = "lumped") -> sp.csr_matrix:
    """Vertex mass matrix.

    Parameters
    ----------
    mesh : Mesh
    kind : ``"lumped"`` (barycentric: a third of each incident face's area), ``"voronoi"`` (mixed Voronoi
        areas of Meyer et al. 2003: circumcentric cells, and for an obtuse triangle half its area to the
        obtuse corner and a quarter to the others) or ``"galerkin"`` (the consistent P1 mass: ``A/6`` on the
        diagonal, ``A/12`` off it, per face).

    Returns
    -------
    M : (V, V) float64 CSR, diagonal except for ``"galerkin"``; ``M.sum()`` is the total area (up to the
        :data:`MASS_FLOOR` given to vertices of zero mass, e.g. unreferenced ones).
    """
    return _mass_from_lengths(mesh, kind, halfedge_lengths(mesh))


def _mass_from_lengths(mesh: Mesh, kind: str, lengths: np.ndarray) -> sp.csr_matrix:
    n, faces = mesh.n_verts, mesh.faces
    area = face_areas_from_lengths(lengths)
    if kind == "lumped":
        m = np.bincount(faces.reshape(-1), weights=np.repeat(area / 3.0, 3), minlength=n)
        return sp.diags(_floor_masses(m)).tocsr()
    if kind == "voronoi":
        cot = halfedge_cotans_from_lengths(lengths)
        l2 = lengths**2
        # corner k touches half-edges k and k+2; half-edge k's cotangent is the one opposite it
        vor = 0.125 * (l2 * cot + np.roll(l2 * cot, 1, axis=1))
        corner_cot = np.roll(cot, -1, axis=1)  # cot of the angle at corner k (opposite half-edge k+1)
        obtuse_at = corner_cot < 0
        degenerate = area <= 1e-14 * l2.mean(axis=1)
        share = np.where(obtuse_at, 0.5, 0.25) * area[:, None]
        share[degenerate] = (area[degenerate] / 3.0)[:, None]
        obtuse = obtuse_at.any(axis=1) | degenerate
        corner_mass = np.where(obtuse[:, None], share, vor)
        m = np.bincount(faces.reshape(-1), weights=corner_mass.reshape(-1), minlength=n)
        return sp.diags(_floor_masses(m)).tocsr()
    if kind == "galerkin":
        diag = np.bincount(faces.reshape(-1), weights=np.repeat(area / 6.0, 3), minlength=n)
        row_sum = 2.0 * diag  # diag A/6 + two neighbours A/12 = A/3 per face
        floored = _floor_masses(row_sum)
        diag = diag + (floored - row_sum)
        w = np.repeat(area / 12.0, 3).reshape(-1, 3)
        i = faces.reshape(-1)
        j = faces[:, [1, 2, 0]].reshape(-1)
        ar = np.arange(n)
        M = sp.csr_matrix(
            (np.r_[w.reshape(-1), w.reshape(-1), diag], (np.r_[i, j, ar], np.r_[j, i, ar])), shape=(n, n)
        )
        M.sort_indices()
        return M
    raise MeshError(f"unknown mass kind {kind!r}; expected one of {MASS_KINDS}")


def _clip_roundoff(L: sp.csr_matrix) -> sp.csr_matrix:
    """Zero the positive off-diagonals that are rounding noise (intrinsic right angles give +-1e-16) and move
    them onto the diagonal, in place, so the robust kind's off-diagonals are exactly non-positive and the row
    sums (``L @ 1 = 0``) and symmetry are kept."""
    # the diagonal is positive wherever a row has entries: no more positive entries
    # than that means none off it
    if int((L.data > 0).sum()) == int((L.diagonal() > 0).sum()):
        return L
    n = L.shape[0]
    rows = np.repeat(np.arange(n), np.diff(L.indptr))
    on_diag = L.indices == rows
    pos = (L.data > 0) & ~on_diag
    add = np.bincount(rows[pos], weights=L.data[pos], minlength=n)
    L.data[pos] = 0.0
    L.data[on_diag] += add[rows[on_diag]]
    L.eliminate_zeros()
    return L


@mesh_input
def robust_laplacian(mesh: Mesh, *, mollify_factor: float = 1e-5) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The robust Laplacian of Sharp & Crane 2020 (intrinsic mollification, tufted cover, intrinsic Delaunay).

    Works on any triangle soup; off-diagonals are non-positive (rounding-level positive values, from intrinsic
    right angles, are set to 0 and the diagonal rebalanced). Thin wrapper over ``robust_laplacian``
    returning our sign and format, with unreferenced vertices handled as in the module docstring.

    Returns
    -------
    L : (V, V) float64 CSR weak PSD; M : (V, V) diagonal CSR lumped mass of the intrinsic triangulation.
    """
    import robust_laplacian as _rl

    if not mollify_factor >= 0:
        raise MeshError(f"mollify_factor must be non-negative, got {mollify_factor}")
    try:
        L, M = _rl.mesh_laplacian(
            np.asarray(mesh.verts), np.asarray(mesh.faces), mollify_factor=mollify_factor
        )
    except RuntimeError as exc:  # geometry-central assertion
        raise MeshError(f"robust_laplacian failed on {mesh!r}: {exc}") from exc
    # robust_laplacian returns a symmetric CSC matrix: its arrays are those of the CSR one (no conversion)
    L = sp.csr_matrix((np.asarray(L.data, np.float64), L.indices, L.indptr), shape=L.shape)
    L = _clip_roundoff(L)
    m = np.asarray(M.diagonal(), dtype=np.float64)
    if not mesh.referenced.all():
        # robust_laplacian gives an unreferenced vertex a lone 1 on the diagonal: zero its row and column
        unref = np.flatnonzero(~mesh.referenced)
        if (np.diff(L.indptr)[unref] == 1).all() and (L.indices[L.indptr[unref]] == unref).all():
            L.data[L.indptr[unref]] = 0.0
        else:
            keep = sp.diags(mesh.referenced.astype(np.float64))
            L = (keep @ L @ keep).tocsr()
        L.eliminate_zeros()
        m = np.where(mesh.referenced, m, 0.0)
    L.sort_indices()
    return L, sp.diags(_floor_masses(m)).tocsr()


@mesh_input
def laplacian(
    mesh: Mesh,
    kind: str = "cotan",
    mass: str = "lumped",
    *,
    max_cotan: float = 1e5,
    mollify_factor: float = 1e-5,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(L, M)``: the weak PSD Laplacian and a mass matrix, both (V, V) float64 CSR.

    Parameters
    ----------
    mesh : Mesh
    kind : ``"cotan"`` (:func:`cotan_laplacian`) or ``"robust"`` (:func:`robust_laplacian`; for non-manifold
        and poorly triangulated meshes).
    mass : one of :data:`MASS_KINDS` (:func:`mass_matrix`). With ``kind="robust"``, ``"lumped"`` is the mass
        of the intrinsic Delaunay triangulation; the other kinds are computed on the input triangles.
    """
    if kind == "cotan":
        if not max_cotan > 0:
            raise MeshError(f"max_cotan must be positive, got {max_cotan}")
        lengths = halfedge_lengths(mesh)  # shared by L and M
        L = _assemble_symmetric(mesh.faces, 0.5 * _scaled_cotans(lengths, max_cotan), mesh.n_verts)
        return L, _mass_from_lengths(mesh, mass, lengths)
    if kind == "robust":
        if mass not in MASS_KINDS:
            raise MeshError(f"unknown mass kind {mass!r}; expected one of {MASS_KINDS}")
        L, M = robust_laplacian(mesh, mollify_factor=mollify_factor)
        return L, (M if mass == "lumped" else mass_matrix(mesh, mass))
    raise MeshError(f"unknown Laplacian kind {kind!r}; expected one of {LAPLACIAN_KINDS}")


def _check_points(points) -> np.ndarray:
    p = np.asarray(points)
    if p.dtype == object or p.dtype.kind not in "fiu":
        raise MeshError(f"points must be a real numeric array of shape (N, 3), got dtype {p.dtype}")
    if p.ndim != 2 or p.shape[1] != 3:
        raise MeshError(f"points must have shape (N, 3), got {p.shape}")
    p = np.ascontiguousarray(p, dtype=np.float64)
    bad = ~np.isfinite(p).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(f"points has {int(bad.sum())} non-finite points; first is point {i}: {p[i].tolist()}")
    return p


def point_cloud_laplacian(
    points, n_neighbors: int = 30, *, mollify_factor: float = 1e-5
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(L, M)`` of a point cloud: robust_laplacian's tufted-cover Laplacian of local Delaunay fans.

    Parameters
    ----------
    points : (N, 3) float64
    n_neighbors : neighbours per local triangulation; must be at least 3 and less than N.

    Raises
    ------
    MeshError
        wrong shape, non-finite points, fewer than ``n_neighbors + 1`` points, exact duplicate points
        (they make the local Delaunay fans degenerate: merge them first), all points on one line, or a
        result that is non-finite, has a positive off-diagonal or a non-positive mass (named by point).
    """
    import robust_laplacian as _rl

    p = _check_points(points)
    n = p.shape[0]
    if int(n_neighbors) != n_neighbors or n_neighbors < 3:
        raise MeshError(f"n_neighbors must be an integer >= 3, got {n_neighbors}")
    n_neighbors = int(n_neighbors)
    if n < n_neighbors + 1:
        raise MeshError(
            f"point cloud has {n} points; n_neighbors={n_neighbors} needs at least {n_neighbors + 1}"
        )
    uniq, first, inverse = np.unique(p, axis=0, return_index=True, return_inverse=True)
    if uniq.shape[0] < n:
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        i = int(np.flatnonzero(dup)[0])
        j = int(first[inverse.reshape(-1)[i]])
        raise MeshError(
            f"point cloud has {n - uniq.shape[0]} duplicate points; first: point {i} repeats point {j}"
        )
    centred = p - p.mean(axis=0)
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv[1] <= 1e-12 * sv[0]:
        raise MeshError("point cloud is degenerate: all points lie on one line")
    try:
        L, M = _rl.point_cloud_laplacian(p, mollify_factor=mollify_factor, n_neighbors=n_neighbors)
    except RuntimeError as exc:
        raise MeshError(f"robust_laplacian failed on the point cloud: {exc}") from exc
    L = sp.csr_matrix(L, dtype=np.float64)
    L.sort_indices()
    m = np.asarray(M.diagonal(), dtype=np.float64)
    coo = L.tocoo()
    bad_rows = coo.row[~np.isfinite(coo.data) | ((coo.row != coo.col) & (coo.data > 0))]
    bad = np.zeros(n, dtype=bool)
    bad[bad_rows] = True
    bad |= ~(m > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(
            f"point cloud Laplacian is invalid at {int(bad.sum())} points (non-finite, positive off-diagonal "
            f"or non-positive mass); first: point {i} at {p[i].tolist()} (a degenerate neighbourhood?)"
        )
    return L, sp.diags(m).tocsr()
