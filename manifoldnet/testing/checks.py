"""Identity checks for tests: ``assert_*`` raise ``AssertionError`` naming the identity that failed.

See :mod:`manifoldnet.testing`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ..mesh import Mesh

__all__ = [
    "ShapeMismatch",
    "assert_distances",
    "assert_eigenbasis",
    "assert_finite",
    "assert_gauss_bonnet",
    "assert_laplacian_identities",
    "assert_mass_identities",
    "assert_orthonormal_frames",
    "assert_shape",
    "is_closed_manifold",
]


# ============================================================================ checks
class ShapeMismatch(AssertionError):
    """An operator returned an array of the wrong shape (a silent wrong answer)."""


def _dense_values(x) -> np.ndarray:
    if sp.issparse(x):
        return np.asarray(x.tocoo().data)
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach()
        if "strided" not in str(getattr(x, "layout", "strided")):  # sparse COO / CSR: the stored values
            x = x.values()
        x = x.cpu().numpy()
    return np.asarray(x)


def assert_finite(x, name: str = "array", allow_inf: bool = False) -> None:
    """Every entry of ``x`` (ndarray, sparse matrix or tensor) is finite (``allow_inf``: only NaN fails)."""
    a = _dense_values(x)
    if a.dtype.kind not in "fc":
        return
    bad = np.isnan(a) if allow_inf else ~np.isfinite(a)
    if bad.any():
        first = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), a.shape) if a.ndim else ()
        raise AssertionError(
            f"{name} has {int(bad.sum())} non-finite entries (first at {tuple(map(int, first))})"
        )


def assert_shape(x, shape: tuple, name: str = "array") -> None:
    """``x.shape == shape`` (``None`` in ``shape`` matches any length), else :class:`ShapeMismatch`."""
    s = tuple(getattr(x, "shape", np.shape(x)))
    if len(s) != len(shape) or any(e is not None and e != g for e, g in zip(shape, s, strict=True)):
        raise ShapeMismatch(f"{name} has shape {s}, expected {shape}")


def is_closed_manifold(mesh: Mesh) -> bool:
    """Edge- and vertex-manifold, no boundary, no unreferenced vertex: where Gauss-Bonnet holds exactly."""
    return bool(
        mesh.is_edge_manifold
        and mesh.is_vertex_manifold
        and mesh.n_boundary_loops == 0
        and mesh.unreferenced_verts.size == 0
    )


def _scale(A: sp.spmatrix) -> float:
    d = np.abs(_dense_values(A))
    return float(d.max()) if d.size else 1.0


def assert_laplacian_identities(
    L,
    M,
    mesh: Mesh,
    *,
    rtol: float = 1e-8,
    psd: bool | None = None,
    nonpositive_offdiag: bool = False,
    check_mass: bool = True,
) -> None:
    """The weak Laplacian's identities: shape (V, V), finite, symmetric, ``L @ 1 = 0``, non-negative
    diagonal, positive semi-definite (checked densely when ``psd`` or V <= 3000), and
    :func:`assert_mass_identities`. ``nonpositive_offdiag``: every off-diagonal weight <= 0
    (intrinsic-Delaunay / robust Laplacians). ``check_mass=False`` skips the mass checks
    (``M`` is then ignored)."""
    V = mesh.n_verts
    assert_shape(L, (V, V), "L")
    assert_finite(L, "L")
    L = sp.csr_matrix(L)
    s = _scale(L)
    asym = _scale(L - L.T) if (L - L.T).nnz else 0.0
    if asym > rtol * s:
        raise AssertionError(f"L is not symmetric: max |L - L^T| = {asym:.3g} (scale {s:.3g})")
    row = np.abs(np.asarray(L.sum(axis=1)).ravel())
    if row.size and row.max() > rtol * s * 10:
        i = int(np.argmax(row))
        raise AssertionError(f"L @ 1 != 0: row {i} sums to {row[i]:.3g} (scale {s:.3g})")
    d = L.diagonal()
    if (d < -rtol * s).any():
        i = int(np.argmin(d))
        raise AssertionError(f"L has a negative diagonal entry at vertex {i}: {d[i]:.3g}")
    if nonpositive_offdiag:
        off = sp.triu(L, k=1).tocoo()
        if off.nnz and off.data.max() > 1e-5 * s:  # intrinsic Delaunay flips stop at a small tolerance
            k = int(np.argmax(off.data))
            raise AssertionError(
                f"L has a positive off-diagonal weight at ({off.row[k]}, {off.col[k]}): {off.data[k]:.3g}"
            )
    if psd or (psd is None and V <= 3000):
        ev = np.linalg.eigvalsh(L.toarray())
        if ev[0] < -1e-7 * max(s, abs(ev[-1])):
            raise AssertionError(
                f"L is not positive semi-definite: smallest eigenvalue {ev[0]:.3g} (largest {ev[-1]:.3g})"
            )
    if check_mass:
        assert_mass_identities(M, mesh, rtol=rtol)


def assert_mass_identities(M, mesh: Mesh, *, rtol: float = 1e-8, area_rtol: float = 1e-6) -> None:
    """Mass matrix: shape (V, V), finite, symmetric, non-negative entries summing to the total area."""
    V = mesh.n_verts
    assert_shape(M, (V, V), "M")
    assert_finite(M, "M")
    M = sp.csr_matrix(M)
    s = _scale(M)
    if (M - M.T).nnz and _scale(M - M.T) > rtol * s:
        raise AssertionError("M is not symmetric")
    if M.nnz and M.data.min() < -rtol * s:
        raise AssertionError(f"M has a negative entry: {M.data.min():.3g}")
    total, area = float(M.sum()), mesh.total_area
    if abs(total - area) > area_rtol * max(area, np.finfo(float).tiny):
        raise AssertionError(f"sum(M) = {total:.9g} differs from the total area {area:.9g}")


def assert_eigenbasis(evals, evecs, L, M, *, k: int | None = None, rtol: float = 1e-6) -> None:
    """Eigenpairs of ``L phi = lambda M phi``: shapes (K,), (V, K); finite; ascending; ``phi^T M phi = I``;
    residual ``|L phi - lambda M phi| <= 1e-6 (|L| |phi| + |lambda| |M phi|)``; eigenvalues >= -rtol * |L|."""
    V = L.shape[0]
    K = len(evals) if k is None else k
    assert_shape(evals, (K,), "evals")
    assert_shape(evecs, (V, K), "evecs")
    assert_finite(evals, "evals")
    assert_finite(evecs, "evecs")
    evals, evecs = np.asarray(evals), np.asarray(evecs)
    s = _scale(L)
    if np.any(np.diff(evals) < -rtol * max(s, 1.0)):
        raise AssertionError(f"eigenvalues are not ascending: {evals.tolist()}")
    if evals.size and evals[0] < -rtol * max(s, 1.0) * 10:
        raise AssertionError(f"negative eigenvalue {evals[0]:.3g} of a PSD problem")
    gram = evecs.T @ (M @ evecs)
    err = np.abs(gram - np.eye(K)).max() if K else 0.0
    if err > 1e-6:
        raise AssertionError(f"eigenvectors are not M-orthonormal: max |Phi^T M Phi - I| = {err:.3g}")
    res = L @ evecs - (M @ evecs) * evals
    # relative to what rounding allows: |L| |phi| + |lambda| |M phi| (|L| the largest absolute row sum), so a
    # null vector's residual is judged against the operator's size, not against its own tiny L phi
    norm_l = float(abs(sp.csr_matrix(L)).sum(axis=1).max())
    denom = norm_l * np.linalg.norm(evecs, axis=0) + np.linalg.norm((M @ evecs) * evals, axis=0)
    rel = np.linalg.norm(res, axis=0) / np.maximum(denom, np.finfo(float).tiny)
    if K and rel.max() > 1e-6:
        j = int(np.argmax(rel))
        raise AssertionError(f"eigenpair {j} (lambda={evals[j]:.6g}) has relative residual {rel[j]:.3g}")


def assert_orthonormal_frames(frames, n: int, *, mask=None, atol: float = 1e-8, name: str = "frames") -> None:
    """(n, 3, 3) rows (e1, e2, normal): orthonormal and right-handed (det +1) where ``mask`` (default all)."""
    assert_shape(frames, (n, 3, 3), name)
    assert_finite(frames, name)
    fr = np.asarray(frames)
    if mask is not None:
        fr = fr[np.asarray(mask)]
    if not len(fr):
        return
    g = np.einsum("nij,nkj->nik", fr, fr) - np.eye(3)
    bad = np.abs(g).max(axis=(1, 2))
    if bad.max() > atol:
        i = int(np.argmax(bad))
        raise AssertionError(f"{name}[{i}] is not orthonormal (max |F F^T - I| = {bad[i]:.3g})")
    det = np.linalg.det(fr)
    if (det < 0).any():
        raise AssertionError(f"{name}[{int(np.argmin(det))}] is left-handed")


def assert_gauss_bonnet(K, mesh: Mesh, *, atol: float = 1e-8) -> None:
    """Integrated Gaussian curvature (V,) sums to ``2 pi chi`` on a closed manifold
    mesh (else: only finite)."""
    assert_shape(K, (mesh.n_verts,), "gaussian curvature")
    assert_finite(K, "gaussian curvature")
    if is_closed_manifold(mesh):
        total, want = float(np.sum(K)), 2 * np.pi * mesh.euler_characteristic
        if abs(total - want) > atol * max(1.0, mesh.n_verts):
            raise AssertionError(f"Gauss-Bonnet fails: sum K = {total:.12g}, 2 pi chi = {want:.12g}")


def assert_distances(d, mesh: Mesh, sources, *, exact: bool = False, rtol: float = 1e-6) -> None:
    """Geodesic distances (V,) from ``sources``: 0 at the sources, finite and non-negative on their
    component(s), ``inf`` elsewhere; at least the straight-line distance and at most the shortest edge path
    (``exact``: within ``rtol``; approximate: within a factor 0.5 and 1.5, give or take
    two mean edge lengths)."""
    V = mesh.n_verts
    assert_shape(d, (V,), "distance")
    assert_finite(d, "distance", allow_inf=True)
    d = np.asarray(d, dtype=float)
    src = np.atleast_1d(np.asarray(sources))
    comp = mesh.vertex_components
    reach = np.isin(comp, comp[src])
    if not np.isfinite(d[reach]).all():
        i = int(np.flatnonzero(reach & ~np.isfinite(d))[0])
        raise AssertionError(f"distance is not finite at vertex {i}, on the source's component")
    if np.isfinite(d[~reach]).any():
        i = int(np.flatnonzero(~reach & np.isfinite(d))[0])
        raise AssertionError(f"distance is finite ({d[i]:.3g}) at vertex {i}, unreachable from the sources")
    diam = float(np.ptp(mesh.verts[reach], axis=0).max()) if reach.any() else 1.0
    tol = 1e-9 * diam
    if np.abs(d[src]).max() > (rtol if exact else 0.05) * diam + tol:
        raise AssertionError(f"distance at the sources is {np.abs(d[src]).max():.3g}, not 0")
    if (d[reach] < -tol).any():
        raise AssertionError("negative distance")
    e, w = mesh.edges, mesh.edge_lengths
    g = sp.csr_matrix((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(V, V))
    graph = dijkstra(g, indices=src, min_only=True)
    eucl = np.min(np.linalg.norm(mesh.verts[:, None] - mesh.verts[src][None], axis=2), axis=1)
    lo, hi = (1 - rtol, 1 + rtol) if exact else (0.5, 1.5)
    if not exact:  # the heat method is accurate to O(h): allow two mean edge lengths
        tol = tol + 2.0 * float(np.mean(w))
    r = reach & (graph > 1e-6 * diam)
    if (d[r] > hi * graph[r] + tol).any():
        i = int(np.flatnonzero(r & (d > hi * graph + tol))[0])
        raise AssertionError(f"distance {d[i]:.6g} at vertex {i} exceeds the edge-path length {graph[i]:.6g}")
    if (d[r] < lo * eucl[r] - tol).any():
        i = int(np.flatnonzero(r & (d < lo * eucl - tol))[0])
        raise AssertionError(
            f"distance {d[i]:.6g} at vertex {i} is below the straight-line distance {eucl[i]:.6g}"
        )
