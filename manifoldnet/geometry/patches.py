"""Geodesic patches for intrinsic convolutions: neighbours within a geodesic radius, the k nearest, or every
vertex within n edges (the n-ring), with geodesic polar coordinates ``(r, theta)`` in the centre's gauge.

Algorithm: a discrete exponential map (Schmidt, Grimm, Wyvill 2006) run for every vertex at once.
Each patch entry ``(i, j)`` holds the position ``z_ij`` of j in i's tangent plane (complex, i's gauge) and
the transport angle ``R_ij`` taking j's gauge to i's (``exp(1j R_ij) z_j`` is ``z_j`` seen at i). A round
joins the frontier entries with the one-ring of their vertex (a sparse join over all patches together):
through the edge (j, k),

    ``z_ik = z_ij + exp(1j R_ij) log_j(k)``,   ``R_ik = R_ij + rho_jk``

with ``log_j(k) = r_jk exp(1j theta_jk)`` and ``rho_jk`` from the one-ring log map and the connection of
:mod:`.logmap` / :mod:`.transport` (rescaled corner angles: the fan of j is unfolded rigidly along the
path, i.e. the angles are unfolded and the transports composed). The unfolded radius ``|z_ik|`` is
accepted only where it is at least the Euclidean distance ``|x_k - x_i|`` (no surface path is shorter);
elsewhere (wedges overlapping at a folded, flipped, sliver or non-manifold fan, a path wrapped round a cone
point) it is raised to that distance and ``z_ik`` keeps its direction, so every radius is >= the Euclidean
distance. Of the candidates for a new pair (i, k) the one of smallest radius is kept. On a flat mesh the
coordinates are exact.

Cost
----
With ``k``, each expanded entry (i, j) joins at most ``window = max(2 k, 32)`` out-edges of j: all of them
when j's degree is at most that (every vertex of an ordinary mesh, whose results do not depend on the
window), else the ``window`` consecutive ones around the direction (in j's angular order) that points back
at i, those whose unfolded position is nearest to i (exact on a flat fan). A centre expands entries only
while its patch holds fewer than k, plus one ring from the entries nearer than its k-th, so work and
memory are O(E + V k window) for E edges and V vertices, whatever the valence: a 20k-valence fan takes
O(k) per vertex instead of (max degree)^2 candidates. With ``radius`` the patch holds every vertex within
the radius and is expanded in full: work and memory are O(sum over patches of size x degree), bounded by
the radius the caller chooses (a radius reaching round a 20k-valence vertex makes patches that large).
With ``rings=n`` the one-ring is expanded in full for n - 1 rounds and everything reached is kept: the patch
of i is exactly the vertices at graph distance 1..n from i (the n-ring, whatever their radii), each with the
coordinates of its smallest-radius candidate of the round that reached it. Work and memory are
O(sum over patches of size x degree): about V d^n for degree d, so meant for small n (2 or 3).

Conventions
-----------
``edge_index (2, P)``: pairs (i, j) = (centre, neighbour), sorted by (i, j), the centre itself excluded;
``r (P,)`` and ``theta (P,)`` in ``[0, 2 pi)`` are the polar coordinates of j in i's gauge (the gauge of
:func:`~manifoldnet.geometry.logmap.one_ring_logmap` for the same ``frames``); ``transport (P,)`` is
``R_ij`` in ``[-pi, pi)``. The one-ring entries (r, theta and transport) equal
:func:`~manifoldnet.geometry.logmap.one_ring_logmap` and
:func:`~manifoldnet.geometry.transport.edge_transport` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh
from .inputs import mesh_input
from .logmap import one_ring_logmap
from .transport import edge_transport

__all__ = ["GeodesicPatches", "geodesic_patches"]

_TWO_PI = 2.0 * np.pi
_RTOL = 1e-9  # relative rounding allowance of the Euclidean bound (unfolding vs 3D coordinates)


@dataclass(frozen=True)
class GeodesicPatches:
    """Sparse geodesic patches: edge_index (2, P) int64, r (P,), theta (P,), transport
    (P,) float64; n_verts."""

    edge_index: np.ndarray
    r: np.ndarray
    theta: np.ndarray
    transport: np.ndarray
    n_verts: int

    @property
    def sizes(self) -> np.ndarray:
        """(V,) int64 number of neighbours in each vertex's patch."""
        return np.bincount(self.edge_index[0], minlength=self.n_verts)


def _row_sorted(ptr: np.ndarray, cols: np.ndarray, n_cols: int) -> np.ndarray:
    """Permutation sorting each CSR row segment ``ptr[i]:ptr[i+1]`` by ``cols`` (rows stay in place).

    scipy's per-row sort: O(n log(row length)), far cheaper than a global lexsort of (row, col).
    """
    n = len(cols)
    # a private copy of the column keys: scipy keeps an int64 ``indices`` array without copying and
    # ``sort_indices`` sorts it in place, which would reorder the caller's array (e.g. the radii)
    cols = np.array(cols, dtype=np.int64, copy=True)
    A = sp.csr_matrix((np.arange(n, dtype=np.int64), cols, ptr), shape=(len(ptr) - 1, n_cols))
    A.has_sorted_indices = False
    A.sort_indices()
    return A.data


def _row_sorted_by_value(ptr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Like :func:`_row_sorted` for non-negative float64 ``values`` (their IEEE bit patterns, read as int64,
    sort in the same order)."""
    return _row_sorted(ptr, np.ascontiguousarray(values, dtype=np.float64).view(np.int64), 2**62)


def _kth_smallest(values: np.ndarray, ptr: np.ndarray, k: int) -> np.ndarray:
    """(rows,) the k-th smallest of the non-negative ``values`` in each CSR row (inf where fewer)."""
    o = _row_sorted_by_value(ptr, values)
    cnt = np.diff(ptr)
    out = np.full(len(cnt), np.inf)
    has = cnt >= k
    out[has] = values[o[ptr[:-1][has] + k - 1]]
    return out


def _search_rows(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per query: the first position p in ``[lo, hi)`` with ``values[p] >= target`` (``hi`` if none), for
    ``values`` sorted within each ``[lo, hi)``; a vectorized bisection, log2(max(hi - lo)) steps."""
    lo, hi = lo.copy(), hi.copy()
    last = max(len(values) - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        go = active & (values[np.minimum(mid, last)] < target)
        lo = np.where(go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)


def _join(front, J, Z, R, indptr, deg, window, ang, ang_theta):
    """Candidates of the frontier entries ``front``: (entry, directed edge) pairs, sorted by entry.

    An entry (i, j) joins every out-edge of j when ``deg[j] <= window``; else the ``window`` consecutive
    out-edges (in j's angular order ``ang``, ``ang_theta`` their sorted angles) centred on the direction
    that points back at i (module Cost)."""
    full = deg[J[front]]
    cnt = full if window is None else np.minimum(full, window)
    e = np.repeat(front, cnt)
    off = np.arange(len(e)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    j = J[e]
    d = indptr[j] + off
    wide = full > cnt
    if wide.any():
        fw = front[wide]
        jw = J[fw]
        back = np.mod(np.angle(-Z[fw] * np.conj(R[fw])), _TWO_PI)  # log_j(m) in this direction points at i
        shift = np.zeros(len(front), dtype=np.int64)
        shift[wide] = _search_rows(ang_theta, indptr[jw], indptr[jw + 1], back) - indptr[jw] - window // 2
        w = np.repeat(wide, cnt)
        sh = np.repeat(shift, cnt)[w]
        d[w] = ang[indptr[j[w]] + np.mod(sh + off[w], deg[j[w]])]
    return e, d


def _interleave(old: np.ndarray, new: np.ndarray, pos_old: np.ndarray, pos_new: np.ndarray) -> np.ndarray:
    out = np.empty(len(old) + len(new), dtype=old.dtype)
    out[pos_old], out[pos_new] = old, new
    return out


def _merge_rows(
    ptr_a: np.ndarray, rows_b: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of a row-sorted block A (row pointer ``ptr_a``) and a row-sorted block B (row ids
    ``rows_b``) in their row-sorted union (A's entries first within each row); and the union's pointer."""
    ca = np.diff(ptr_a)
    cb = np.bincount(rows_b, minlength=n_rows)
    ptr = np.r_[0, np.cumsum(ca + cb)]
    rows_a = np.repeat(np.arange(n_rows), ca)
    pos_a = ptr[rows_a] + (np.arange(len(rows_a)) - ptr_a[rows_a])
    ptr_b = np.r_[0, np.cumsum(cb)]
    pos_b = ptr[rows_b] + ca[rows_b] + (np.arange(len(rows_b)) - ptr_b[rows_b])
    return pos_a, pos_b, ptr


def _accept_unfolded(cz: np.ndarray, verts: np.ndarray, ci: np.ndarray, cm: np.ndarray) -> np.ndarray:
    """(n,) radii of the unfolded candidates ``cz`` (n,) complex (edited in place) for the pairs ``(ci, cm)``.

    No surface path is shorter than the straight line, so an unfolded radius ``|cz|`` below the Euclidean
    distance ``|x_cm - x_ci|`` (beyond rounding) is wrong: the unfolded wedges overlap (a folded, flipped,
    sliver or non-manifold fan, a path wrapped round a cone point). It is raised to the Euclidean distance,
    the nearest admissible value (the geodesic lies between it and the accumulated path length, and on
    FAUST and flipped meshes it is far nearer the former: measured against exact geodesics); ``cz`` keeps
    its direction. Every radius is then >= the Euclidean distance.
    """
    cr = np.abs(cz)
    chord = np.linalg.norm(verts[cm] - verts[ci], axis=1)
    bad = ~(cr >= chord * (1.0 - _RTOL))  # also catches a NaN
    if bad.any():
        cr[bad] = chord[bad]
        cz[bad] = chord[bad] * np.exp(1j * np.angle(cz[bad]))
    return cr


@mesh_input
def geodesic_patches(
    mesh: Mesh,
    radius: float | None = None,
    k: int | None = None,
    frames=None,
    max_rounds: int = 1000,
    rings: int | None = None,
) -> GeodesicPatches:
    """Geodesic patches of every vertex (module docstring). Give exactly one of ``radius``, ``k``, ``rings``.

    Parameters
    ----------
    mesh : Mesh
    radius : keep neighbours with ``r <= radius``.
    k : keep the k nearest neighbours by ``r`` (fewer on a component with fewer vertices).
    frames : the gauge, as in :func:`~manifoldnet.geometry.logmap.one_ring_logmap`.
    max_rounds : with ``radius`` or ``k``, at most this many expansion rounds (a bound on the patch's
        edge-hop depth); ``rings`` sets the depth itself.
    rings : keep every vertex within ``rings`` edges (graph distance 1..rings; ``rings=1``: the one-ring).
    """
    if sum(x is not None for x in (radius, k, rings)) != 1:
        raise MeshError("give exactly one of radius=, k= or rings=")
    if radius is not None and not (np.isfinite(radius) and radius > 0):
        raise MeshError(f"radius must be a positive finite number, got {radius}")
    if k is not None and (int(k) != k or k < 1):
        raise MeshError(f"k must be a positive integer, got {k}")
    if rings is not None and (
        isinstance(rings, bool) or not isinstance(rings, (int, np.integer)) or rings < 1
    ):
        raise MeshError(f"rings must be a positive integer (the number of edge hops), got {rings!r}")
    V = mesh.n_verts
    ei, r1, th1 = one_ring_logmap(mesh, frames)
    ei_t, rho = edge_transport(mesh, frames)
    if not np.array_equal(ei, ei_t):
        raise MeshError("one_ring_logmap and edge_transport disagree on the directed edges")
    src, dst = ei
    verts = np.asarray(mesh.verts)
    log1 = r1 * np.exp(1j * th1)
    indptr = np.searchsorted(src, np.arange(V + 1))
    deg = np.diff(indptr)

    erho = np.exp(1j * rho)
    window = None if k is None else max(2 * int(k), 32)
    ang = ang_theta = None
    if window is not None and deg.max(initial=0) > window:  # out-edges in angular order, for the window
        th_mod = np.mod(th1, _TWO_PI)
        ang = _row_sorted_by_value(indptr, th_mod)
        ang_theta = th_mod[ang]
    # state, sorted by centre (CSR rows): neighbour J, position Z, transport R = exp(1j R_ij), round added
    ptr = indptr.copy()
    J, Z, R = dst.copy(), log1.copy(), erho.copy()
    A = r1.copy()
    rnd = np.zeros(len(J), dtype=np.int64)
    was_short = np.zeros(V, dtype=bool) if k is None else np.diff(ptr) < k
    for t in range(1, max_rounds + 1 if rings is None else int(rings)):
        counts = np.diff(ptr)
        I = np.repeat(np.arange(V), counts)
        front = np.flatnonzero(rnd == t - 1)
        if radius is not None:
            front = front[A[front] <= radius]
        elif k is not None:
            short = counts < k
            grow = short | was_short
            last = ~short & was_short  # one more ring once k is reached, from entries nearer than the k-th
            if last.any():
                kth = _kth_smallest(A, ptr, k)
                front = front[grow[I[front]] & (~last[I[front]] | (A[front] < kth[I[front]]))]
            else:
                front = front[grow[I[front]]]
            was_short = short
        if front.size == 0:
            break
        # join: frontier entry (i, j) x out-edges (j, m); candidates stay sorted by centre i
        e, d = _join(front, J, Z, R, indptr, deg, window, ang, ang_theta)
        ci, cm = I[e], dst[d]
        ok = cm != ci
        e, d, ci, cm = e[ok], d[ok], ci[ok], cm[ok]
        cz = Z[e] + R[e] * log1[d]
        unfolded = np.abs(cz)  # before _accept_unfolded raises the short ones: breaks ties between them
        cr = _accept_unfolded(cz, verts, ci, cm)
        # group present entries and candidates by (i, m): drop pairs already present, keep the nearest
        # a neighbour m of a ring-(t-1) entry is at most two rings back, so only entries added in the last two
        # rounds (and, with a radius, the unexpanded ones beyond it) can already hold (i, m)
        near = rnd >= t - 2
        if radius is not None:
            near |= A > radius
        sub = np.flatnonzero(near)
        ptr_s = np.r_[0, np.cumsum(np.bincount(I[sub], minlength=V))]
        pos_a, pos_b, ptr_c = _merge_rows(ptr_s, ci, V)
        n_c = len(pos_a) + len(pos_b)
        cols = np.empty(n_c, dtype=np.int64)
        code = np.empty(n_c, dtype=np.int64)
        cols[pos_a], cols[pos_b] = J[sub], cm
        code[pos_a], code[pos_b] = -1, np.arange(len(cm))
        o = _row_sorted(ptr_c, cols, V)
        cols, code = cols[o], code[o]
        rows = np.repeat(np.arange(V), np.diff(ptr_c))
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        starts = np.flatnonzero(first)
        gid = np.cumsum(first) - 1
        present = np.maximum.reduceat((code < 0).astype(np.int8), starts).astype(bool)
        score = np.where(code >= 0, cr[np.maximum(code, 0)], np.inf)
        gmin = np.minimum.reduceat(score, starts)
        cand = np.flatnonzero((code >= 0) & ~present[gid] & (score == gmin[gid]))
        if cand.size == 0:
            break
        # ties (candidates raised to the same Euclidean distance) go to the least raised one, the unfolded
        # radius nearest the chord: a geometric choice, so a relabelling of the vertices changes nothing
        cand = cand[np.lexsort((-unfolded[code[cand]], gid[cand]))]
        cand = cand[np.r_[True, gid[cand][1:] != gid[cand][:-1]]]
        c = code[cand]  # new pairs, sorted by (i, m)
        pos_old, pos_new, ptr = _merge_rows(ptr, ci[c], V)
        J = _interleave(J, cm[c], pos_old, pos_new)
        Z = _interleave(Z, cz[c], pos_old, pos_new)
        R = _interleave(R, R[e[c]] * erho[d[c]], pos_old, pos_new)
        A = _interleave(A, cr[c], pos_old, pos_new)
        rnd = _interleave(rnd, np.full(len(c), t), pos_old, pos_new)
    counts = np.diff(ptr)
    I = np.repeat(np.arange(V), counts)
    if rings is not None:
        keep = np.ones(len(A), dtype=bool)
    elif radius is not None:
        keep = A <= radius
    else:
        o = _row_sorted_by_value(ptr, A)
        nth = np.empty(len(A), dtype=np.int64)
        nth[o] = np.arange(len(A)) - ptr[I[o]]
        keep = nth < k
    ptr_k = np.r_[0, np.cumsum(np.bincount(I[keep], minlength=V))]
    sel = np.flatnonzero(keep)
    o = sel[_row_sorted(ptr_k, J[sel], V)]
    theta = np.mod(np.angle(Z[o]), _TWO_PI)
    theta[theta >= _TWO_PI] = 0.0  # mod of a tiny negative angle rounds up to 2 pi
    transport = np.angle(R[o])
    transport[transport >= np.pi] -= _TWO_PI  # [-pi, pi), as edge_transport
    # the one-ring entries (round 0) kept their order, that of the directed edges: their own numbers, exactly
    one = np.flatnonzero(rnd[o] == 0)
    edge = np.cumsum(rnd == 0)[o[one]] - 1
    theta[one], transport[one] = th1[edge], rho[edge]
    r = A[o]
    I, J = I[o], J[o]
    return GeodesicPatches(np.stack([I, J]), r, theta, transport, V)
