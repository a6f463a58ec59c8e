"""The built-in sweep table: every public operator of manifoldnet, with the identities that apply to it.

THE one place where an operator joins the sweep: add a ``@register(...)`` entry here (or, for users' own
layers, in their module, see :func:`~manifoldnet.robustness.registry.register`). An optional dependency is
imported by the function that needs it (potpourri3d, pygeodesic, robust_laplacian inside geometry; torch
below), so an operator whose module is not installed shows as SKIP. Conventions and identities follow
``DESIGN.md`` section 6.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..geometry.curvature import gaussian_curvature, mean_curvature, principal_curvatures
from ..geometry.descriptors import heat_kernel_signature, wave_kernel_signature
from ..geometry.frames import face_frames, vertex_frames, vertex_normals
from ..geometry.geodesics import HeatMethodSolver, geodesic_distance
from ..geometry.gradient import divergence, face_gradient, vertex_gradient
from ..geometry.laplacian import cotan_laplacian, laplacian, mass_matrix
from ..geometry.logmap import one_ring_logmap, two_ring_logmap
from ..geometry.patches import geodesic_patches
from ..geometry.spectral import eigenbasis
from ..geometry.transport import connection_face_curvature, connection_laplacian, edge_transport
from ..geometry.vector_heat import vector_heat_logmap, vector_heat_transport
from ..io import load_mesh, save_mesh
from ..mesh import Mesh
from ..operators.compute import compute_operators
from ..operators.spec import FIELDS
from ..repair import clean
from ..testing import (
    ShapeMismatch,
    assert_distances,
    assert_eigenbasis,
    assert_gauss_bonnet,
    assert_laplacian_identities,
    assert_mass_identities,
    assert_orthonormal_frames,
    assert_shape,
    is_closed_manifold,
)
from .table import register

K_EIG = 8  # eigenpairs in the sweep: small, the identities do not need more
DENSE_MAX = 3000  # dense PSD / Hermitian checks up to this many vertices


def source_vertex(mesh: Mesh) -> int:
    """A deterministic source: the first referenced vertex of the largest component."""
    comp = mesh.vertex_components
    ref = mesh.referenced
    sizes = np.bincount(comp[ref], minlength=comp.max() + 1)
    return int(np.flatnonzero(ref & (comp == np.argmax(sizes)))[0])


def _unit_rows(x, mask, name):
    n = np.linalg.norm(np.asarray(x)[mask], axis=-1)
    if n.size and np.abs(n - 1).max() > 1e-8:
        i = int(np.flatnonzero(mask)[np.argmax(np.abs(n - 1))])
        raise AssertionError(
            f"{name}[{i}] is not a unit vector (norm {np.linalg.norm(np.asarray(x)[i]):.6g})"
        )


def _live_verts(mesh: Mesh) -> np.ndarray:
    """(V,) bool: vertices with a face of positive area (where normals and frames are defined)."""
    good = np.ones(mesh.n_faces, dtype=bool)
    good[mesh.zero_area_faces] = False
    live = np.zeros(mesh.n_verts, dtype=bool)
    live[mesh.faces[good].ravel()] = True
    return live


# ============================================================================ Laplacians (owner B)
def _check_lm(**kw):
    def check(mesh, out):
        L, M = out
        assert_laplacian_identities(L, M, mesh, psd=mesh.n_verts <= DENSE_MAX, **kw)

    return check


@register("laplacian.cotan", check=_check_lm())
def _lap_cotan(mesh):
    """Cotan L with lumped mass."""
    return laplacian(mesh, "cotan", "lumped")


@register("laplacian.voronoi", check=_check_lm())
def _lap_voronoi(mesh):
    """Cotan L with mixed Voronoi mass."""
    return laplacian(mesh, "cotan", "voronoi")


@register("laplacian.galerkin_mass", check=lambda mesh, M: assert_mass_identities(M, mesh))
def _mass_galerkin(mesh):
    return mass_matrix(mesh, "galerkin")


def _check_robust(mesh, out):
    L, M = out
    # intrinsic mollification lengthens every edge by ~1e-5 of the mean edge: on meshes with many tiny
    # edges (CAD parts) the mollified area grows by up to ~0.1%: area within 1e-2
    assert_laplacian_identities(
        L, M, mesh, psd=mesh.n_verts <= DENSE_MAX, nonpositive_offdiag=True, check_mass=False
    )
    assert_mass_identities(M, mesh, area_rtol=1e-2)


@register("laplacian.robust", check=_check_robust)
def _lap_robust(mesh):
    return laplacian(mesh, "robust", "lumped")


# ============================================================================ spectra, descriptors (owner B)
_EIG_MEMO: dict = {}


def _eig(mesh):
    """(L, M, evals, evecs), memoized for the last mesh (hks / wks reuse the eigenbasis entry's work)."""
    hit = _EIG_MEMO.get("mesh")
    if hit is not None and hit[0] is mesh:
        return hit[1]
    _EIG_MEMO.clear()
    L, M = laplacian(mesh)
    evals, evecs = eigenbasis(L, M, min(K_EIG, mesh.n_verts - 1))
    _EIG_MEMO["mesh"] = (mesh, (L, M, evals, evecs))
    return L, M, evals, evecs


def _check_eig(mesh, out):
    L, M, evals, evecs = out
    assert_eigenbasis(evals, evecs, L, M)
    if is_closed_manifold(mesh) and mesh.n_components == 1 and abs(evals[0]) > 1e-8 * abs(evals[-1]):
        raise AssertionError(f"first eigenvalue of a connected closed mesh is {evals[0]:.3g}, not 0")


@register("spectral.eigenbasis", check=_check_eig)
def _eigenbasis(mesh):
    """k=8 eigenpairs of the cotan Laplacian."""
    return _eig(mesh)


def _check_signature(mesh, out):
    assert_shape(out, (mesh.n_verts, None), "signature")
    if (np.asarray(out) < -1e-8 * max(np.abs(out).max(), 1e-300)).any():
        raise AssertionError("a heat/wave kernel signature is negative")


@register("descriptors.hks", check=_check_signature)
def _hks(mesh):
    _, _, evals, evecs = _eig(mesh)
    return heat_kernel_signature(evals, evecs, n_times=8)


@register("descriptors.wks", check=_check_signature)
def _wks(mesh):
    _, _, evals, evecs = _eig(mesh)
    return wave_kernel_signature(evals, evecs, n_energies=8)


# ============================================================================ curvature (owner B)
@register("curvature.gaussian", check=lambda mesh, K: assert_gauss_bonnet(K, mesh))
def _gauss(mesh):
    return gaussian_curvature(mesh)


@register("curvature.mean", check=lambda mesh, H: assert_shape(H, (mesh.n_verts,), "mean curvature"))
def _mean(mesh):
    return mean_curvature(mesh)


def _check_principal(mesh, out):
    k1, k2, d1, d2 = out
    V = mesh.n_verts
    for a, s, n in ((k1, (V,), "k1"), (k2, (V,), "k2"), (d1, (V, 3), "d1"), (d2, (V, 3), "d2")):
        assert_shape(a, s, n)
    live = _live_verts(mesh)
    if (np.asarray(k1)[live] < np.asarray(k2)[live] - 1e-9 * (np.abs(k1).max() + 1)).any():
        raise AssertionError("principal curvatures are not ordered k1 >= k2")
    dots = np.abs(np.einsum("ij,ij->i", d1, d2))[live]
    if dots.size and dots.max() > 1e-6:
        raise AssertionError(f"principal directions are not orthogonal (|d1.d2| up to {dots.max():.3g})")


@register("curvature.principal", check=_check_principal)
def _principal(mesh):
    return principal_curvatures(mesh)


# ============================================================================ frames (owner C)
def _check_normals(mesh, n):
    assert_shape(n, (mesh.n_verts, 3), "vertex normals")
    _unit_rows(n, _live_verts(mesh), "vertex normals")


@register("frames.vertex_normals", check=_check_normals)
def _normals(mesh):
    return vertex_normals(mesh)


def _check_vertex_frames(mesh, fr):
    assert_orthonormal_frames(fr, mesh.n_verts, name="vertex frames")
    live = _live_verts(mesh)
    err = np.abs(np.asarray(fr)[live, 2] - vertex_normals(mesh)[live]).max(initial=0.0)
    if err > 1e-8:
        raise AssertionError(f"vertex frame normal row differs from vertex_normals by {err:.3g}")


def _frames(gauge):
    def run(mesh):
        return vertex_frames(mesh, gauge=gauge)

    return run


for _g in ("intrinsic", "world", "principal"):
    register(f"frames.vertex_{_g}", check=_check_vertex_frames)(_frames(_g))


def _check_face_frames(mesh, fr):
    good = np.ones(mesh.n_faces, dtype=bool)
    good[mesh.zero_area_faces] = False
    assert_orthonormal_frames(fr, mesh.n_faces, mask=good, name="face frames")
    err = np.abs(np.asarray(fr)[good, 2] - mesh.face_normals[good]).max(initial=0.0)
    if err > 1e-8:
        raise AssertionError(f"face frame normal row differs from the face normal by {err:.3g}")


@register("frames.face", check=_check_face_frames)
def _face_frames(mesh):
    return face_frames(mesh)


# ============================================================================ log map, transport (owner C)
def _check_directed(mesh, edge_index, name):
    E = mesh.n_edges
    assert_shape(edge_index, (2, 2 * E), f"{name} edge_index")
    ei = np.asarray(edge_index)
    got = np.unique(np.sort(ei, axis=0), axis=1)
    if got.shape[1] != E or not np.array_equal(got.T, mesh.edges):
        raise AssertionError(f"{name} edge_index does not hold each mesh edge in both directions")


def _check_logmap(mesh, out):
    ei, r, theta = out
    _check_directed(mesh, ei, "logmap")
    n = 2 * mesh.n_edges
    assert_shape(r, (n,), "r")
    assert_shape(theta, (n,), "theta")
    ei = np.asarray(ei)
    length = np.linalg.norm(mesh.verts[ei[1]] - mesh.verts[ei[0]], axis=1)
    err = np.abs(np.asarray(r) - length)
    if err.max() > 1e-9 * max(length.max(), 1e-300):
        raise AssertionError(f"log-map radius differs from the edge length by up to {err.max():.3g}")


@register("logmap.one_ring", check=_check_logmap)
def _logmap(mesh):
    return one_ring_logmap(mesh)


def _check_two_ring(mesh, out):
    ei, r, theta = out[:3]
    P = np.shape(r)[0]
    assert_shape(ei, (2, P), "two-ring edge_index")
    assert_shape(theta, (P,), "two-ring theta")
    if P and ((np.asarray(ei) < 0).any() or (np.asarray(ei) >= mesh.n_verts).any()):
        raise AssertionError("two-ring edge_index out of range")
    if (np.asarray(r) < 0).any():
        raise AssertionError("negative two-ring radius")


@register("logmap.two_ring", check=_check_two_ring)
def _two_ring(mesh):
    return two_ring_logmap(mesh)


def _check_transport(mesh, out):
    ei, rho = out
    _check_directed(mesh, ei, "transport")
    assert_shape(rho, (2 * mesh.n_edges,), "rho")
    ei, rho = np.asarray(ei), np.asarray(rho)
    # rho_ji = -rho_ij (mod 2 pi): transport back undoes transport
    key = ei[0] * np.int64(mesh.n_verts) + ei[1]
    rkey = ei[1] * np.int64(mesh.n_verts) + ei[0]
    order = np.argsort(key)
    j = order[np.searchsorted(key[order], rkey)]
    err = np.abs(np.angle(np.exp(1j * (rho + rho[j]))))
    if err.max() > 1e-8:
        raise AssertionError(
            f"transport is not inverted by the reverse edge: |rho_ij + rho_ji| up to {err.max():.3g}"
        )
    if not (mesh.is_edge_manifold and mesh.is_vertex_manifold and mesh.is_oriented):
        return

    # holonomy: around each counter-clockwise face (a, b, c), a -> b -> c -> a rotates by the connection's
    # curvature of that face; on a closed mesh the faces sum to 2 pi chi (DESIGN.md section 3)
    def r(i, k):
        return rho[order[np.searchsorted(key[order], i * np.int64(mesh.n_verts) + k)]]

    a, b, c = mesh.faces.T
    hol = r(b, a) + r(c, b) + r(a, c)
    K = connection_face_curvature(mesh)
    err = np.abs(np.angle(np.exp(1j * (hol - K))))
    if err.max() > 1e-8:
        f = int(np.argmax(err))
        raise AssertionError(f"holonomy around face {f} is {hol[f]:.6g}, its connection curvature {K[f]:.6g}")
    if (
        is_closed_manifold(mesh)
        and abs(K.sum() - 2 * np.pi * mesh.euler_characteristic) > 1e-8 * mesh.n_faces
    ):
        raise AssertionError(f"total holonomy {K.sum():.9g} != 2 pi chi ({mesh.euler_characteristic})")


@register("transport.edge", check=_check_transport)
def _transport(mesh):
    return edge_transport(mesh)


def _check_connection_laplacian(mesh, Lc):
    """Hermitian; same diagonal and same |off-diagonal| as the scalar cotan L; PSD where
    the weights are >= 0."""
    V = mesh.n_verts
    assert_shape(Lc, (V, V), "connection Laplacian")
    Lc = sp.csr_matrix(Lc)
    L = cotan_laplacian(mesh)
    s = np.abs(L.data).max() if L.nnz else 1.0
    herm = Lc - Lc.conj().T
    if herm.nnz and np.abs(herm.data).max() > 1e-8 * s:
        raise AssertionError("connection Laplacian is not Hermitian")
    if np.abs(Lc.diagonal() - L.diagonal()).max() > 1e-8 * s:
        raise AssertionError("connection Laplacian diagonal differs from the scalar Laplacian's")
    mag = abs(Lc) - abs(L)
    if mag.nnz and np.abs(mag.data).max() > 1e-8 * s:
        raise AssertionError("connection Laplacian |weights| differ from the scalar Laplacian's")
    off = sp.triu(L, k=1)
    if V <= DENSE_MAX and (off.data <= 1e-12 * s).all():
        ev = np.linalg.eigvalsh(Lc.toarray())
        if ev[0] < -1e-7 * max(s, abs(ev[-1])):
            raise AssertionError(
                f"connection Laplacian is not PSD (non-negative weights): smallest eigenvalue {ev[0]:.3g}"
            )


@register("transport.connection_laplacian", check=_check_connection_laplacian)
def _connection_laplacian(mesh):
    return connection_laplacian(mesh)


# ============================================================================ gradients (owner C)
def _grad3(G, mesh):
    """(F, 3, V)-like access: returns a function x (V,) -> (F, 3) gradients, whatever the stacking."""
    F = mesh.n_faces
    if sp.issparse(G):
        assert_shape(G, (3 * F, mesh.n_verts), "face gradient")
        return lambda x: np.asarray(G @ x).reshape(F, 3)
    assert_shape(G, (F, 3, mesh.n_verts), "face gradient")
    return lambda x: np.einsum("fkv,v->fk", G, x)


def _check_face_gradient(mesh, G):
    grad = _grad3(G, mesh)
    scale = float(np.ptp(mesh.verts, axis=0).max()) or 1.0
    g1 = grad(np.ones(mesh.n_verts))
    if np.abs(g1).max() > 1e-8 / scale * 10:
        raise AssertionError(f"gradient of a constant is not 0 (up to {np.abs(g1).max():.3g})")
    # gradient of the coordinate function x: the projection of e_x onto the face plane (non-degenerate faces)
    good = mesh.face_areas > 1e-6 * np.mean(mesh.edge_lengths) ** 2
    n = mesh.face_normals
    gx = grad(mesh.verts[:, 0] - mesh.verts[:, 0].mean())
    want = np.eye(3)[0] - n[:, :1] * n
    err = np.abs(gx - want)[good]
    if err.size and err.max() > 1e-6:
        raise AssertionError(f"gradient of x differs from the tangent projection of e_x by {err.max():.3g}")


@register("gradient.face", check=_check_face_gradient)
def _face_gradient(mesh):
    return face_gradient(mesh)


def _check_div_grad(mesh, out):
    div, G, L = out
    V, F = mesh.n_verts, mesh.n_faces
    assert_shape(div, (V, 3 * F), "divergence")
    DG = sp.csr_matrix(div @ (G.reshape(3 * F, V) if not sp.issparse(G) else G))
    diff = DG + L
    s = np.abs(L.data).max() if L.nnz else 1.0
    if diff.nnz and np.abs(diff.data).max() > 1e-6 * s:
        raise AssertionError(f"divergence @ face_gradient != -L (max error {np.abs(diff.data).max():.3g})")


@register("gradient.divergence", check=_check_div_grad)
def _divergence(mesh):
    return divergence(mesh), face_gradient(mesh), cotan_laplacian(mesh)


def _check_vertex_gradient(mesh, G):
    assert_shape(G, (mesh.n_verts, mesh.n_verts), "vertex gradient")
    g1 = np.abs(G @ np.ones(mesh.n_verts))
    s = np.abs(sp.csr_matrix(G).data).max(initial=1.0)
    if g1.max() > 1e-8 * s:
        raise AssertionError(f"vertex gradient of a constant is not 0 (up to {g1.max():.3g})")


@register("gradient.vertex", check=_check_vertex_gradient)
def _vertex_gradient(mesh):
    return vertex_gradient(mesh)


# ============================================================================ geodesics (owner D)
def _check_dist(exact):
    def check(mesh, out):
        d, src = out
        assert_distances(d, mesh, [src], exact=exact)

    return check


@register("geodesics.heat", check=_check_dist(False), allow_inf=True)
def _heat(mesh):
    s = source_vertex(mesh)
    return geodesic_distance(mesh, [s], method="heat"), s


def _check_batched(mesh, out):
    D, srcs = out
    assert_shape(D, (len(srcs), mesh.n_verts), "batched distances")
    for d, s in zip(np.asarray(D), srcs, strict=True):
        assert_distances(d, mesh, [s], exact=False)


@register("geodesics.heat_batched", check=_check_batched, allow_inf=True)
def _heat_batched(mesh):
    s = source_vertex(mesh)
    far = int(
        np.argmax(
            np.linalg.norm(mesh.verts - mesh.verts[s], axis=1)
            * (mesh.vertex_components == mesh.vertex_components[s])
        )
    )
    return HeatMethodSolver(mesh).distances([[s], [far]]), [s, far]


@register("geodesics.exact", check=_check_dist(True), allow_inf=True)
def _exact(mesh):
    s = source_vertex(mesh)
    return geodesic_distance(mesh, [s], method="exact"), s


def _check_patches(mesh, p):
    """(i, j) unique, i != j, at most k per centre; r >= the chord / 2; mesh edges have r = edge length."""
    ei, r, theta = np.asarray(p.edge_index), np.asarray(p.r), np.asarray(p.theta)
    P = np.shape(r)[0]
    assert_shape(ei, (2, P), "patch edge_index")
    assert_shape(theta, (P,), "patch theta")
    if not P:
        return
    V = mesh.n_verts
    if ei.min() < 0 or ei.max() >= V:
        raise AssertionError("patch edge_index out of range")
    if (ei[0] == ei[1]).any():
        raise AssertionError("a patch holds its own centre")
    key = ei[0] * np.int64(V) + ei[1]
    if np.unique(key).size != P:
        raise AssertionError("a patch holds a neighbour twice")
    if np.bincount(ei[0], minlength=V).max() > PATCH_K:
        raise AssertionError(f"a patch has more than k={PATCH_K} neighbours")
    chord = np.linalg.norm(mesh.verts[ei[1]] - mesh.verts[ei[0]], axis=1)
    if (r < 0.5 * chord - 1e-12 * chord.max()).any():
        i = int(np.argmax(0.5 * chord - r))
        raise AssertionError(
            f"patch radius {r[i]:.6g} of pair {ei[:, i].tolist()} is below half the chord {chord[i]:.6g}"
        )
    e = mesh.edges
    ekey = np.r_[e[:, 0] * np.int64(V) + e[:, 1], e[:, 1] * np.int64(V) + e[:, 0]]
    on_edge = np.isin(key, ekey)
    err = np.abs(r[on_edge] - chord[on_edge])
    if err.size and err.max() > 1e-9 * max(chord.max(), 1e-300):
        raise AssertionError(f"patch radius of a mesh edge differs from its length by {err.max():.3g}")


PATCH_K = 8


@register("geodesics.patches", check=_check_patches)
def _patches(mesh):
    return geodesic_patches(mesh, k=PATCH_K)


def _check_vector_heat(mesh, out):
    w, src = out
    assert_shape(w, (mesh.n_verts,), "transported field")
    if not np.iscomplexobj(w):
        raise AssertionError(
            "vector heat transport should return complex tangent vectors in the vertex gauge"
        )
    if abs(abs(w[src]) - 1.0) > 1e-6:
        raise AssertionError(f"the source keeps its unit vector: |w[source]| = {abs(w[src]):.6g}")
    other = mesh.vertex_components != mesh.vertex_components[src]
    if np.abs(w[other]).max(initial=0.0) > 0:
        raise AssertionError("vector heat transported a vector to a component without a source")


@register("vector_heat.transport", check=_check_vector_heat)
def _vector_heat(mesh):
    s = source_vertex(mesh)
    return vector_heat_transport(mesh, [s], np.array([1.0 + 0.0j])), s


def _check_vh_logmap(mesh, out):
    (r, theta), src = out
    assert_shape(theta, (mesh.n_verts,), "log-map theta")
    assert_distances(r, mesh, [src], exact=False)


@register("vector_heat.logmap", check=_check_vh_logmap, allow_inf=True)
def _vector_heat_logmap(mesh):
    s = source_vertex(mesh)
    return vector_heat_logmap(mesh, s), s


# ============================================================================ bundle (owner
# E), io / clean (owner A)
def _check_bundle(mesh, b):
    """Every field: shapes from V, F, E; the Laplacian, mass, eigenbasis and frame
    identities (float64 bundle)."""
    V, E = mesh.n_verts, mesh.n_edges
    if b.n_verts != V:
        raise ShapeMismatch(f"bundle has {b.n_verts} vertices, the mesh {V}")
    assert_shape(b.mass, (V,), "bundle.mass")
    M = sp.diags(np.asarray(b.mass, dtype=np.float64)).tocsr()
    assert_laplacian_identities(b.laplacian, M, mesh, psd=V <= DENSE_MAX)
    assert_eigenbasis(b.evals, b.evecs, b.laplacian, M)
    for name in ("hks", "wks"):
        assert_shape(getattr(b, name), (V, None), f"bundle.{name}")
    assert_shape(b.normals, (V, 3), "bundle.normals")
    assert_orthonormal_frames(b.frames, V, name="bundle.frames")
    for name in ("grad_x", "grad_y"):
        assert_shape(getattr(b, name), (V, V), f"bundle.{name}")
    assert_shape(b.edge_index, (2, 2 * E), "bundle.edge_index")
    for name in ("logmap_r", "logmap_theta", "transport_rho"):
        assert_shape(getattr(b, name), (2 * E,), f"bundle.{name}")
    P = np.shape(b.patch_r)[0]
    assert_shape(b.patch_index, (2, P), "bundle.patch_index")
    for name in ("patch_theta", "patch_rho"):
        assert_shape(getattr(b, name), (P,), f"bundle.{name}")


def _bundle_all(mesh, dtype="float64"):
    return compute_operators(
        mesh, fields=FIELDS, k=min(K_EIG, mesh.n_verts - 1), dtype=dtype, patch_k=PATCH_K
    )


@register("bundle.all", check=_check_bundle)
def _bundle(mesh):
    """Every field of the operator bundle, k=8, float64."""
    return _bundle_all(mesh)


def _check_torch_bundle(mesh, t):
    assert_shape(t.verts, (mesh.n_verts, 3), "torch verts")
    assert_shape(t.evecs, (mesh.n_verts, None), "torch evecs")


@register("bundle.torch", check=_check_torch_bundle)
def _bundle_torch(mesh):
    """The float32 bundle moved to torch (CPU): every tensor finite."""
    return _bundle_all(mesh, "float32").to("cpu")


@register("nn.heat_method", check=_check_dist(False), allow_inf=True)
def _torch_heat(mesh):
    """Batched torch heat method (CG), float64."""
    from ..nn.heat_method import TorchHeatMethod  # lazy: torch; the numpy operators' workers never load it

    s = source_vertex(mesh)
    d = TorchHeatMethod(mesh).distances([[s]])
    return d[0].numpy(), s


def _check_clean(mesh, out):
    m, _report = out
    for what in ("duplicate_faces", "unreferenced_verts", "zero_area_faces"):
        n = getattr(m, what).size
        if n:
            raise AssertionError(f"clean() left {n} {what.replace('_', ' ')}")


@register("clean", check=_check_clean)
def _clean(mesh):
    return clean(mesh)


def _check_roundtrip(mesh, out):
    for ext, (v, f) in out.items():
        if not np.array_equal(f, mesh.faces):
            raise AssertionError(f"{ext} round trip changed the faces")
        err = np.abs(v - mesh.verts).max()
        if err > 1e-6 * max(np.abs(mesh.verts).max(), 1e-300):
            raise AssertionError(f"{ext} round trip moved vertices by {err:.3g}")


@register("io.roundtrip", check=_check_roundtrip)
def _roundtrip(mesh):
    """save_mesh then load_mesh in every writable format."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for ext in (".obj", ".off", ".ply"):
            p = Path(d) / f"m{ext}"
            save_mesh(p, mesh)
            m = load_mesh(p)
            out[ext] = (np.array(m.verts), np.array(m.faces))
    return out
