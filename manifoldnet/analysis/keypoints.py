"""Keypoints: persistent local maxima of a vertex function (HKS at a chosen scale, or any scalar).

A local maximum of ``f`` over the vertex graph is born at its own value and dies where its superlevel-set
component first meets that of a higher maximum (the elder rule of 0-dimensional persistence); its
persistence, ``f(max) - f(saddle)``, ranks how prominent it is. The highest maximum of each connected
component never dies; its persistence is reported as ``f(max) - min f`` over the component.

The saddle is found exactly and without a per-vertex loop: ranks make ``f`` a strict order; for a batch of
candidate maxima the vertex graph is copied once per candidate (block-diagonal), each copy keeping the
vertices above that candidate's current threshold, and one ``connected_components`` call per bisection
step (about ``log2 V`` of them) tells every candidate whether it still reaches a higher vertex.

Conventions
-----------
Ties in ``f`` are broken by vertex index (the larger index counts as higher), so plateaus yield one maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import MeshError
from ..geometry.descriptors import heat_kernel_signature
from ..geometry.laplacian import laplacian
from ..geometry.spectral import eigenbasis
from ..mesh import Mesh

__all__ = ["Keypoints", "hks_keypoints", "local_maxima", "maxima_persistence", "persistent_maxima"]

_BATCH_EDGES = 4_000_000  # directed edges per batched connected_components call


@dataclass(frozen=True)
class Keypoints:
    """Keypoints sorted by decreasing persistence.

    vertices : (K,) int64. persistence : (K,) float64 (``f(max) - f(saddle)``). saddles : (K,) int64
    vertex where each maximum merges into a higher one (its component's minimum for an essential maximum).
    values : (K,) float64 ``f`` at the keypoints.
    """

    vertices: np.ndarray
    persistence: np.ndarray
    saddles: np.ndarray
    values: np.ndarray


def _graph(mesh_or_adjacency) -> sp.csr_matrix:
    if isinstance(mesh_or_adjacency, Mesh):
        return mesh_or_adjacency.adjacency
    A = mesh_or_adjacency
    if not sp.issparse(A) or A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise MeshError("expected a Mesh or a square sparse adjacency matrix")
    return sp.csr_matrix(A)


def _check_f(f, V: int) -> np.ndarray:
    a = np.asarray(f, dtype=np.float64)
    if a.shape != (V,):
        raise MeshError(f"f must be a (V,) = ({V},) per-vertex array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise MeshError(
            f"f has non-finite values (first at vertex {int(np.flatnonzero(~np.isfinite(a))[0])})"
        )
    return a


def _ranks(f: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.arange(f.size), f))
    r = np.empty(f.size, dtype=np.int64)
    r[order] = np.arange(f.size)
    return r


def local_maxima(mesh_or_adjacency, f) -> np.ndarray:
    """(K,) int64 vertices above all their graph neighbours (ties by index); isolated vertices excluded."""
    A = _graph(mesh_or_adjacency)
    r = _ranks(_check_f(f, A.shape[0]))
    A = A.tocoo()
    nb = np.full(A.shape[0], -1, dtype=np.int64)
    np.maximum.at(nb, A.row, r[A.col])
    has_nb = np.bincount(A.row, minlength=A.shape[0]) > 0
    return np.flatnonzero(has_nb & (r > nb)).astype(np.int64)


def maxima_persistence(mesh_or_adjacency, f, maxima=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Persistence of local maxima: ``(maxima (K,), persistence (K,), saddles (K,))`` (module docstring)."""
    A = _graph(mesh_or_adjacency)
    V = A.shape[0]
    f = _check_f(f, V)
    r = _ranks(f)
    order = np.argsort(r)  # vertex of each rank
    m = local_maxima(A, f) if maxima is None else np.asarray(maxima, dtype=np.int64).reshape(-1)
    if m.size and (m.min() < 0 or m.max() >= V):
        raise MeshError(f"maxima holds indices outside [0, {V})")
    coo = sp.triu(A, 1).tocoo()
    ei, ej = coo.row.astype(np.int64), coo.col.astype(np.int64)
    n_comp, comp = connected_components(A, directed=False)
    comp_max = np.full(n_comp, -1, dtype=np.int64)
    np.maximum.at(comp_max, comp, r)
    comp_min = np.full(n_comp, V, dtype=np.int64)
    np.minimum.at(comp_min, comp, r)
    essential = comp_max[comp[m]] == r[m]
    saddle_rank = np.where(essential, comp_min[comp[m]], 0)
    todo = np.flatnonzero(~essential)
    per = max(1, _BATCH_EDGES // max(ei.size, 1))
    for a in range(0, todo.size, per):
        idx = todo[a : a + per]
        saddle_rank[idx] = _bisect_saddles(ei, ej, r, m[idx], V)
    saddles = order[saddle_rank]
    pers = f[m] - f[saddles]
    return m, pers, saddles.astype(np.int64)


def _bisect_saddles(ei, ej, r, m, V) -> np.ndarray:
    """Largest rank t such that, in the graph on {rank >= t}, each maximum still reaches a higher vertex."""
    K = m.size
    lo = np.zeros(K, dtype=np.int64)  # predicate true at lo (the whole component holds a higher vertex)
    hi = r[m].copy()  # false at hi (m isolated among vertices >= its own rank)
    off = (np.arange(K, dtype=np.int64) * V)[:, None]
    rr = np.tile(r, K)
    while (hi - lo > 1).any():
        t = (lo + hi) // 2
        keep = (r[ei][None, :] >= t[:, None]) & (r[ej][None, :] >= t[:, None])
        kk, e = np.nonzero(keep)
        G = sp.csr_matrix(
            (np.ones(kk.size, dtype=np.int8), (off[kk, 0] + ei[e], off[kk, 0] + ej[e])), shape=(K * V, K * V)
        )
        _, lab = connected_components(G, directed=False)
        active = rr >= np.repeat(t, V)
        top = np.full(lab.max() + 1, -1, dtype=np.int64)
        np.maximum.at(top, lab[active], rr[active])
        reach = top[lab[off[:, 0] + m]] > r[m]
        lo = np.where(reach, t, lo)
        hi = np.where(reach, hi, t)
    return lo


def persistent_maxima(
    mesh_or_adjacency, f, *, n: int | None = None, min_persistence: float = 0.0, relative: bool = True
) -> Keypoints:
    """Local maxima of ``f`` ranked by persistence.

    n : keep at most the ``n`` most persistent. min_persistence : drop those below it, as a fraction of
    ``max f - min f`` when ``relative`` (default) or in units of ``f``.
    """
    A = _graph(mesh_or_adjacency)
    f = _check_f(f, A.shape[0])
    if n is not None and (int(n) != n or n < 1):
        raise MeshError(f"n must be a positive integer or None, got {n}")
    if not (np.isfinite(min_persistence) and min_persistence >= 0):
        raise MeshError(f"min_persistence must be finite and >= 0, got {min_persistence}")
    m, pers, sad = maxima_persistence(A, f)
    thr = min_persistence * (np.ptp(f) if relative else 1.0)
    order = np.lexsort((m, -pers))
    order = order[pers[order] >= thr]
    if n is not None:
        order = order[: int(n)]
    return Keypoints(m[order], pers[order], sad[order], f[m[order]])


def hks_keypoints(
    mesh: Mesh,
    time: float | None = None,
    *,
    n: int | None = 10,
    min_persistence: float = 0.01,
    k: int = 100,
    evals: np.ndarray | None = None,
    evecs: np.ndarray | None = None,
) -> tuple[Keypoints, np.ndarray]:
    """Persistent maxima of the heat kernel signature at one ``time``: ``(Keypoints, hks (V,))``.

    time : diffusion time; default ``4 ln(10) / lambda_{k-1} * 10`` (a small scale: tips and protrusions;
    larger times merge them). evals (K,), evecs (V, K) : a precomputed eigenbasis, else ``k`` eigenpairs of
    the cotangent Laplacian.
    """
    if evals is None or evecs is None:
        L, M = laplacian(mesh)
        evals, evecs = eigenbasis(L, M, min(k, mesh.n_verts - 1))
    evals = np.asarray(evals, dtype=np.float64)
    if time is None:
        time = 10.0 * 4.0 * np.log(10.0) / evals[-1]
    if not (np.isfinite(time) and time > 0):
        raise MeshError(f"time must be a positive finite number, got {time}")
    hks = np.asarray(heat_kernel_signature(evals, evecs, times=np.array([float(time)])))[:, 0]
    return persistent_maxima(mesh, hks, n=n, min_persistence=min_persistence), hks
