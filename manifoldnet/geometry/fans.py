"""Vertex fans: the cyclic order of corners around every vertex, and the intrinsic polar angles it gives.

The combinatorial and intrinsic backbone of the log map, the discrete Levi-Civita connection and the
vertex gradients (:mod:`.logmap`, :mod:`.transport`, :mod:`.gradient`). Built fully vectorized: directed
edges by an O(E) counting sort, twins through that table, fans by pointer jumping (``O(H log deg)``);
no per-vertex Python loop.

Conventions
-----------
Corner ``c = 3 f + k`` sits at ``faces[f, k]``; its *start* direction is the neighbour ``faces[f, k+1]``
(half-edge ``c`` leaves the vertex there) and its *end* direction is ``faces[f, k+2]``. Counter-clockwise
about the normal, the start precedes the end by the corner angle. The next corner counter-clockwise is
``twin(prev(c))``, where ``prev(c) = 3 f + (k + 2) % 3``.

A half-edge has a twin when its edge has exactly two faces that traverse it in opposite directions;
every other half-edge (boundary, non-manifold edge, orientation seam) is a *cut*. The corners of a vertex
then split into fans: one closed cycle for a regular interior vertex, chains otherwise.

* Regular interior vertex (exactly one fan, closed): corner angles rescaled by ``2 pi / Theta_v``
  (``Theta_v`` the angle sum), so they sum to ``2 pi``; angle defect ``K_v = 2 pi - Theta_v``.
  The reference corner is the one with the smallest index (the first outgoing half-edge in face order).
* Every other referenced vertex (boundary, non-manifold, on a cut): corner angles are NOT rescaled and
  ``K_v = 0`` (a flat boundary stays exactly flat). Its fans are laid out one after the other
  counter-clockwise, in the order of their first corner; a chain starts at its corner without
  predecessor. The reference corner is the start of the first fan.
* Unreferenced vertices have no corners: reference ``-1``, ``K_v = 0``.
* A closed fan whose angle sum vanishes (only degenerate faces) gets equal angles ``2 pi / deg``.

Directed edges ``(i, j)`` (both directions of every mesh edge, ``2E`` of them) are sorted by
``(i, j)``: the order of a CSR adjacency matrix's entries.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..mesh import Mesh, readonly
from .elements import corner_angles
from .inputs import mesh_input

__all__ = [
    "VertexFans",
    "directed_edges",
    "edge_lookup",
    "edges_csr",
    "halfedge_directed_edges",
    "vertex_fans",
]

_TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class VertexFans:
    """Fan structure and intrinsic corner angles of a mesh (all arrays read-only).

    twin : (3F,) int64, the opposite half-edge, -1 on a cut.
    next_corner : (3F,) int64, the next corner counter-clockwise in the same fan, -1 at the fan's last
        corner (a closed fan is cut just before its first corner).
    fan_root : (3F,) int64, the first corner of the fan each corner belongs to.
    reference : (V,) int64, the reference corner (half-edge) of each vertex, -1 if unreferenced.
    regular : (V,) bool, regular interior vertex (one closed fan; angles rescaled).
    angle_sums : (V,) float64, ``Theta_v`` (unscaled).
    scaled_angles : (F, 3) float64, corner angles after rescaling.
    corner_theta : (3F,) float64, polar angle of each corner's start direction in the intrinsic gauge.
    corner_edge : (3F,) int64, the directed edge (position in ``edge_index``) of each corner's start
        direction, i.e. of half-edge c.
    defect : (V,) float64, ``2 pi - Theta_v`` at regular vertices, 0 elsewhere.
    edge_index : (2, 2E) int64, directed edges sorted by (i, j).
    edge_reverse : (2E,) int64, position of (j, i) for each (i, j).
    edge_theta : (2E,) float64, polar angle of j around i in i's intrinsic gauge: in [0, 2 pi) at
        regular vertices, in [0, total angle of i's fans] elsewhere (see :mod:`.logmap` for the wrapped one).
    """

    twin: np.ndarray
    next_corner: np.ndarray
    fan_root: np.ndarray
    reference: np.ndarray
    regular: np.ndarray
    angle_sums: np.ndarray
    scaled_angles: np.ndarray
    corner_theta: np.ndarray
    corner_edge: np.ndarray
    defect: np.ndarray
    edge_index: np.ndarray
    edge_reverse: np.ndarray
    edge_theta: np.ndarray


_CACHE: weakref.WeakKeyDictionary[Mesh, VertexFans] = weakref.WeakKeyDictionary()


def _stable_order(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Stable sorting permutation of integer ``keys`` in ``[0, n_keys)``: an O(n) counting sort (scipy's
    COO -> CSR conversion keeps the input order within a row)."""
    n = len(keys)
    m = sp.csr_matrix((np.ones(n, dtype=np.int8), (keys, np.arange(n))), shape=(n_keys, max(n, 1)))
    return m.indices.astype(np.int64, copy=False)


_DIRECTED: weakref.WeakKeyDictionary[Mesh, tuple] = weakref.WeakKeyDictionary()


def _directed(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edge_index (2, 2E), reverse (2E,), position (2E,)): ``position[e]`` / ``position[E + e]`` is where
    undirected edge e lies in direction (a, b) / (b, a) (``mesh.edges[e] = (a, b)``, ``a < b``).
    Cached per mesh object (read-only arrays)."""
    got = _DIRECTED.get(mesh)
    if got is None:
        got = tuple(readonly(a) for a in _directed_uncached(mesh))
        _DIRECTED[mesh] = got
    return got


@mesh_input
def halfedge_directed_edges(mesh: Mesh) -> np.ndarray:
    """(3F,) int64: position in the sorted directed-edge list of every half-edge ``3f + k``."""
    _, _, position = _directed(mesh)
    he = mesh.halfedges
    return position[mesh.halfedge_edges + mesh.n_edges * (he[:, 0] > he[:, 1])]


def edges_csr(edge_index: np.ndarray, values: np.ndarray, diag: np.ndarray) -> sp.csr_matrix:
    """(V, V) CSR with ``values`` on the directed edges and ``diag`` on the diagonal, assembled in O(V + E)
    with sorted indices (no COO sort): the diagonal is slotted in before each row's larger targets.

    edge_index : (2, P) int64 sorted by (i, j), without repeats or self-loops (as :func:`directed_edges`);
    values : (P,); diag : (V,).
    """
    V = len(diag)
    src, dst = edge_index
    counts = np.bincount(src, minlength=V)
    lower = np.bincount(src[dst < src], minlength=V)
    indptr = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(counts + 1, out=indptr[1:])
    n = len(src) + V
    indices = np.empty(n, dtype=np.int64)
    data = np.empty(n, dtype=np.result_type(values, diag))
    pos_e = np.arange(len(src)) + src + (dst > src)
    pos_d = indptr[:-1] + lower
    indices[pos_e] = dst
    data[pos_e] = values
    indices[pos_d] = np.arange(V)
    data[pos_d] = diag
    out = sp.csr_matrix((data, indices, indptr), shape=(V, V))
    out.has_sorted_indices = True
    return out


def _directed_uncached(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e = mesh.edges
    E, V = len(e), mesh.n_verts
    # (b, a) first, then (a, b): a stable counting sort by source leaves every row sorted by target,
    # because reversed targets a < b = source < forward targets, each group already ascending
    src = np.concatenate([e[:, 1], e[:, 0]])
    dst = np.concatenate([e[:, 0], e[:, 1]])
    perm = _stable_order(src, V)
    pos_concat = np.empty(2 * E, dtype=np.int64)
    pos_concat[perm] = np.arange(2 * E)
    # concat index k: k < E is (b, a) of edge k, k >= E is (a, b) of edge k - E
    position = np.concatenate([pos_concat[E:], pos_concat[:E]])  # forward first, then reversed
    reverse = np.empty(2 * E, dtype=np.int64)
    reverse[pos_concat[:E]] = pos_concat[E:]
    reverse[pos_concat[E:]] = pos_concat[:E]
    return np.stack([src[perm], dst[perm]]), reverse, position


@mesh_input
def directed_edges(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every edge, sorted by (source, target).

    Returns
    -------
    edge_index : (2, 2E) int64, rows (source i, target j).
    reverse : (2E,) int64, position of (j, i).
    """
    ei, rev, _ = _directed(mesh)
    return ei.copy(), rev.copy()  # writable copies (the cached arrays are read-only)


def edge_lookup(edge_index: np.ndarray, n_verts: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Position of the directed edges (i, j) in ``edge_index`` (sorted), -1 where absent."""
    keys = edge_index[0] * np.int64(n_verts) + edge_index[1]
    q = np.asarray(i, dtype=np.int64) * np.int64(n_verts) + np.asarray(j, dtype=np.int64)
    pos = np.searchsorted(keys, q)
    pos = np.minimum(pos, len(keys) - 1)
    return np.where(keys[pos] == q, pos, -1)


def _assign_smallest_corner(out: np.ndarray, has: np.ndarray, d: np.ndarray, values: np.ndarray) -> None:
    """``out[d[c]] = values[c]`` keeping, for each target, the smallest position ``c`` (deterministic)."""
    n = len(d)
    best = np.full(len(out), n, dtype=np.int64)
    np.minimum.at(best, d, np.arange(n))
    sel = best < n
    out[sel] = values[best[sel]]
    has |= sel


_ANGLES: weakref.WeakKeyDictionary[Mesh, np.ndarray] = weakref.WeakKeyDictionary()


@mesh_input
def cached_corner_angles(mesh: Mesh) -> np.ndarray:
    """(F, 3) read-only :func:`~manifoldnet.geometry.elements.corner_angles`, cached per mesh object."""
    a = _ANGLES.get(mesh)
    if a is None:
        a = readonly(corner_angles(mesh))
        _ANGLES[mesh] = a
    return a


@mesh_input
def vertex_fans(mesh: Mesh) -> VertexFans:
    """The :class:`VertexFans` of ``mesh`` (cached per mesh object; meshes are immutable).

    Works on every mesh: boundaries, non-manifold edges and vertices, inconsistent orientation and
    unreferenced vertices follow the rules in the module Conventions.
    """
    fans = _CACHE.get(mesh)
    if fans is None:
        fans = _build(mesh)
        _CACHE[mesh] = fans
    return fans


def _rounds(n: int) -> int:
    return int(np.ceil(np.log2(max(n, 2)))) + 1


def _suffix(fwd: np.ndarray, w: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Suffix sums of ``w`` and suffix counts along the lists ``fwd`` (-1 ends a list), by pointer jumping.

    Values on uncut cycles are meaningless after ``rounds`` rounds (callers detect them by the counts)."""
    suf = w.copy()
    cnt = np.ones(len(w), dtype=np.int64)
    ptr = fwd.copy()
    for _ in range(rounds):
        live = np.flatnonzero(ptr >= 0)
        if live.size == 0:
            break
        p = ptr[live]
        suf[live] += suf[p]
        cnt[live] += cnt[p]
        ptr[live] = ptr[p]
    return suf, cnt


def _general_roots(succ: np.ndarray, pred: np.ndarray, rounds: int) -> np.ndarray:
    """Root of every corner's fan: the start of a chain, the smallest corner of a cycle (local indices)."""
    h = np.arange(len(succ))
    ptr = np.where(pred >= 0, pred, h)
    low = h.copy()
    for _ in range(rounds):
        low = np.minimum(low, low[ptr])
        ptr = ptr[ptr]
    return np.where(pred[ptr] < 0, ptr, low)


def _scaled(angles, theta_sum, regular, cv, deg) -> np.ndarray:
    """Corner angles rescaled to sum to 2 pi around regular vertices (equal angles if the sum is 0)."""
    ok_sum = theta_sum > 0
    scale = np.where(regular & ok_sum, _TWO_PI / np.where(ok_sum, theta_sum, 1.0), 1.0)
    out = angles * scale[cv]
    flat_fan = regular & ~ok_sum
    if flat_fan.any():
        sel = flat_fan[cv]
        out[sel] = _TWO_PI / deg[cv[sel]]
    return out


def _build(mesh: Mesh) -> VertexFans:
    F, V, E = mesh.n_faces, mesh.n_verts, mesh.n_edges
    H = 3 * F
    h = np.arange(H, dtype=np.int64)
    cv = mesh.faces.reshape(-1)  # vertex of corner c
    kk = h % 3
    prev = h - kk + (kk + 2) % 3
    nxt = h - kk + (kk + 1) % 3

    # directed edge of every half-edge, and twins (no sorting: through the directed-edge table)
    edge_index, reverse, _ = _directed(mesh)
    he_e = mesh.halfedge_edges
    d_start = halfedge_directed_edges(mesh)
    he_of_dir = np.full(2 * E, -1, dtype=np.int64)
    he_of_dir[d_start] = h
    twin = np.where(mesh.edge_face_counts[he_e] == 2, he_of_dir[reverse[d_start]], -1)
    # two faces traversing their edge the same way: one direction has both half-edges, the other none
    t = twin >= 0
    t[t] = twin[twin[t]] != h[t]
    twin[t] = -1

    succ = np.where(twin[prev] >= 0, twin[prev], -1)  # next corner ccw
    pred = np.where(twin >= 0, nxt[np.maximum(twin, 0)], -1)  # previous corner ccw
    deg = np.bincount(cv, minlength=V)
    rounds = _rounds(int(deg.max()))

    # fast path, one fan per vertex: root = its chain start, or its smallest corner if it has none
    starts = np.flatnonzero(pred < 0)
    n_starts = np.bincount(cv[starts], minlength=V)
    vroot = np.full(V, H, dtype=np.int64)
    np.minimum.at(vroot, cv, h)
    vroot[vroot == H] = -1
    one = starts[n_starts[cv[starts]] == 1]
    vroot[cv[one]] = one
    root = vroot[cv]

    angles = cached_corner_angles(mesh).reshape(-1)
    theta_sum = np.bincount(cv, weights=angles, minlength=V)
    regular = (n_starts == 0) & (deg > 0)  # tentative: verified by the counts below
    scaled = _scaled(angles, theta_sum, regular, cv, deg)
    fwd = np.where((succ >= 0) & (succ != root), succ, -1)
    suf, cnt = _suffix(fwd, scaled, rounds)
    ref = vroot >= 0
    single = np.zeros(V, dtype=bool)
    single[ref] = (cnt[vroot[ref]] == deg[ref]) & (n_starts[ref] <= 1)
    multi = ~single & (deg > 0)

    reference = vroot
    offset = np.zeros(H)
    if multi.any():
        # several fans at these vertices (non-manifold, cuts): general roots on their corners only
        regular &= ~multi
        scaled = _scaled(angles, theta_sum, regular, cv, deg)
        sub = np.flatnonzero(multi[cv])  # closed under succ / pred (same vertex)
        loc = np.full(H, -1, dtype=np.int64)
        loc[sub] = np.arange(len(sub))
        s_succ = np.where(succ[sub] >= 0, loc[np.maximum(succ[sub], 0)], -1)
        s_pred = np.where(pred[sub] >= 0, loc[np.maximum(pred[sub], 0)], -1)
        root[sub] = sub[_general_roots(s_succ, s_pred, rounds)]
        fwd = np.where((succ >= 0) & (succ != root), succ, -1)
        s_fwd = np.where(fwd[sub] >= 0, loc[np.maximum(fwd[sub], 0)], -1)
        suf[sub] = _suffix(s_fwd, scaled[sub], rounds)[0]
        # lay the fans of a vertex out one after the other, in the order of their root corner
        roots = np.unique(root[sub])
        rv = cv[roots]
        order = np.lexsort((roots, rv))
        roots, rv = roots[order], rv[order]
        first = np.r_[True, rv[1:] != rv[:-1]]
        rank = np.arange(len(rv)) - np.maximum.accumulate(np.where(first, np.arange(len(rv)), 0))
        fan_off = np.zeros(len(rv))
        tot = suf[roots]
        for k in range(1, int(rank.max()) + 1):  # a handful of fans per vertex: loop over the rank only
            sel = np.flatnonzero(rank == k)
            fan_off[sel] = fan_off[sel - 1] + tot[sel - 1]
        root_off = np.zeros(H)
        root_off[roots] = fan_off
        offset[sub] = root_off[root[sub]]
        reference[rv[first]] = roots[first]

    corner_theta = suf[root] - suf + offset  # start direction, from the first direction of the fan
    corner_theta = np.where(regular[cv], np.mod(corner_theta, _TWO_PI), corner_theta)
    defect = np.where(regular, _TWO_PI - theta_sum, 0.0)

    # polar angle of every directed edge: from the corner starting there (smallest corner id), else from
    # the corner ending there (the last direction of a chain); corner c ends at the source of prev(c)
    theta = np.zeros(2 * E)
    has = np.zeros(2 * E, dtype=bool)
    d_end = reverse[d_start[prev]]
    end_theta = corner_theta + scaled
    if not multi.any() and (he_of_dir[d_start] == h).all():  # every direction has at most one start
        theta[d_end] = end_theta
        theta[d_start] = corner_theta
        has[d_end] = True
        has[d_start] = True
    else:
        _assign_smallest_corner(theta, has, d_end, end_theta)
        tmp = np.zeros(2 * E)
        got = np.zeros(2 * E, dtype=bool)
        _assign_smallest_corner(tmp, got, d_start, corner_theta)
        theta[got] = tmp[got]
        has |= got
    if not has.all():  # every edge belongs to a face, so every direction has a corner
        raise AssertionError("directed edge without a corner")
    theta = np.where(regular[edge_index[0]], np.mod(theta, _TWO_PI), theta)

    return VertexFans(
        twin=readonly(twin),
        next_corner=readonly(fwd),
        fan_root=readonly(root),
        reference=readonly(reference),
        regular=readonly(regular),
        angle_sums=readonly(theta_sum),
        scaled_angles=readonly(scaled.reshape(F, 3)),
        corner_theta=readonly(corner_theta),
        corner_edge=readonly(d_start),
        defect=readonly(defect),
        edge_index=readonly(edge_index),
        edge_reverse=readonly(reverse),
        edge_theta=readonly(theta),
    )
