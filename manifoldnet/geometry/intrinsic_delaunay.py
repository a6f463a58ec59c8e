"""Intrinsic triangulations: the tufted cover, intrinsic mollification and Delaunay edge flips.

The heat method needs more than the robust Laplacian's ``(L, M)``: its divergence step runs on the same
intrinsic triangles. This module builds them the way geometry-central's ``HeatMethodDistanceSolver`` does
with ``useRobustLaplacian=True`` (what potpourri3d's ``use_robust=True`` calls): the *tufted cover* (every
face twice, front and back, glued around each edge; Sharp & Crane 2020), then intrinsic mollification of
the edge lengths (``1e-5`` times the mean edge length), then intrinsic Delaunay edge flips.

The flips run vectorized: each round flips, all at once, every non-Delaunay edge whose two faces touch no
other edge flipped in that round (the most non-Delaunay edge of each face wins), until none is left.

Conventions
-----------
``faces (F, 3) int64`` may repeat a vertex after flips (an intrinsic edge can be a loop); ``lengths (F, 3)``:
``lengths[f, k]`` is the length of half-edge ``3f + k`` from ``faces[f, k]`` to ``faces[f, (k+1) % 3]``;
``twin (3F,) int64``: the opposite half-edge (every half-edge has one: the cover is closed).
Around a non-manifold edge the faces are glued in the order of their angle about the edge (geometry-central's
heat method glues them in an arbitrary order there, so results on non-manifold edges may differ from it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ..mesh import Mesh
from .elements import (
    corner_angles_from_lengths,
    face_areas_from_lengths,
    halfedge_cotans_from_lengths,
    halfedge_lengths,
)
from .inputs import mesh_input
from .laplacian import _assemble_symmetric

__all__ = [
    "IntrinsicTriangulation",
    "flip_to_delaunay",
    "intrinsic_delaunay_cover",
    "intrinsic_delaunay_sheet",
    "mollify_lengths",
    "tufted_cover",
]

DELAUNAY_EPS = 1e-6
"""An edge is flipped when its cotan weight ``(cot a + cot b) / 2`` is below ``-DELAUNAY_EPS``
(geometry-central's)."""


@dataclass(frozen=True)
class IntrinsicTriangulation:
    """Triangles given by connectivity and edge lengths only.

    faces : (F, 3) int64; lengths : (F, 3) float64 half-edge lengths; twin : (3F,) int64 or None;
    n_verts : V; n_flips : edge flips made; mollify_eps : length added to every edge by mollification.
    """

    faces: np.ndarray
    lengths: np.ndarray
    twin: np.ndarray | None
    n_verts: int
    n_flips: int = 0
    mollify_eps: float = 0.0

    @classmethod
    def from_mesh(cls, mesh: Mesh) -> IntrinsicTriangulation:
        """The input triangles themselves (no cover, no flips)."""
        return cls(np.asarray(mesh.faces), halfedge_lengths(mesh), None, mesh.n_verts)

    @cached_property
    def face_areas(self) -> np.ndarray:
        """(F,) float64 read-only (computed once: the masses and the gradient both use them)."""
        a = face_areas_from_lengths(self.lengths)
        a.flags.writeable = False
        return a

    def front_sheet(self) -> IntrinsicTriangulation:
        """The front half of a tufted cover when no edge glues it to the back half (closed, oriented,
        edge-manifold input), else ``self``. Both halves are then the same surface: using one halves the cost
        and scales L and M by 1/2 together (distances unchanged)."""
        if self.twin is None or self.faces.shape[0] % 2:
            return self
        F = self.faces.shape[0] // 2
        if (self.twin[: 3 * F] >= 3 * F).any():
            return self
        front = IntrinsicTriangulation(
            self.faces[:F], self.lengths[:F], self.twin[: 3 * F], self.n_verts, self.n_flips, self.mollify_eps
        )
        if "_cotans" in self.__dict__:  # computed already (by the flips): its front rows
            front.__dict__["_cotans"] = self._cotans[:F]
        return front

    @cached_property
    def _cotans(self) -> np.ndarray:
        cot = halfedge_cotans_from_lengths(self.lengths)
        cot.flags.writeable = False
        return cot

    def halfedge_cotans(self) -> np.ndarray:
        """(F, 3) float64 read-only: cotangent of the angle opposite each half-edge (area floored, finite);
        computed once (the flips hand theirs over)."""
        return self._cotans

    def cotan_laplacian(self) -> sp.csr_matrix:
        """(V, V) weak PSD cotan Laplacian of these triangles (loops contribute nothing)."""
        return _assemble_symmetric(self.faces, 0.5 * self.halfedge_cotans(), self.n_verts, self.twin)

    def vertex_masses(self) -> np.ndarray:
        """(V,) float64 lumped (barycentric) masses; 0 at vertices no triangle uses."""
        a = np.repeat(self.face_areas / 3.0, 3)
        return np.bincount(self.faces.reshape(-1), weights=a, minlength=self.n_verts)

    def _gradient_values(self) -> np.ndarray:
        """(F, 3, 2) float64: ``2 A_f grad(hat_k)`` of corner k of face f, in the face's 2D layout."""
        L = self.lengths
        # the angle at corner 0 alone, as corner_angles_from_lengths computes it (which handles 0 / 0)
        area4 = 4.0 * self.face_areas
        l2 = L**2
        num = l2[:, 0] + l2[:, 2] - l2[:, 1]
        ang0 = np.arctan2(area4, num)
        if ((area4 == 0) & (num == 0)).any():
            ang0 = corner_angles_from_lengths(L)[:, 0]
        x2, y2 = L[:, 2] * np.cos(ang0), L[:, 2] * np.sin(ang0)  # p0 = (0, 0), p1 = (l0, 0), p2 = (x2, y2)
        g = np.empty((L.shape[0], 3, 2))
        # J (p_{k+2} - p_{k+1}) with J (x, y) = (-y, x)
        g[:, 0, 0], g[:, 0, 1] = -y2, x2 - L[:, 0]
        g[:, 1, 0], g[:, 1, 1] = y2, -x2
        g[:, 2, 0], g[:, 2, 1] = 0.0, L[:, 0]
        return g

    def scaled_gradient(self) -> sp.csr_matrix:
        """(2F, V) CSR: ``2 A_f grad u`` in a 2D layout of each face (rows ``2f``, ``2f + 1``).

        Vertex 0 of face f at the origin, vertex 1 on the +x axis, vertex 2 above it. The hat function of
        corner k has gradient ``J (p_{k+2} - p_{k+1}) / (2 A)`` with ``J`` the 90-degree rotation, so this
        matrix carries no division by the area: finite on degenerate faces.
        """
        g = self._gradient_values()
        F = g.shape[0]
        rows = (2 * np.arange(F)[:, None, None] + np.arange(2)[None, None, :]).repeat(3, axis=1)
        cols = np.broadcast_to(self.faces[:, :, None], (F, 3, 2))
        G = sp.csr_matrix((g.reshape(-1), (rows.reshape(-1), cols.reshape(-1))), shape=(2 * F, self.n_verts))
        G.sum_duplicates()
        return G

    def scaled_gradient_xy(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The even and odd rows of :meth:`scaled_gradient` (x and y components, (F, V) CSR each), built
        directly: three entries a row, in corner order."""
        g = self._gradient_values()
        F = g.shape[0]
        cols = np.ascontiguousarray(self.faces).reshape(-1)
        indptr = np.arange(0, 3 * F + 1, 3)
        # columns in corner order, not sorted: products are the same up to the order of three terms, and a
        # face that repeats a vertex (a loop edge after flips) keeps two entries, which products add
        return tuple(
            sp.csr_matrix(
                (np.ascontiguousarray(g[:, :, c]).reshape(-1), cols, indptr), shape=(F, self.n_verts)
            )
            for c in range(2)
        )


def _halfedge_lengths(mesh: Mesh) -> np.ndarray:
    """(F, 3) :func:`~.elements.halfedge_lengths` from the mesh's (cached) edge lengths: the same values, bit
    for bit (the norm of a difference and of its negation agree), without a second norm per half-edge."""
    return mesh.edge_lengths[mesh.halfedge_edges].reshape(-1, 3)


def _edge_angles(mesh: Mesh, h: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Angle of the face of front half-edge ``h`` about its (canonical) edge ``e``, for the radial order."""
    v = mesh.verts
    a, b = mesh.edges[e, 0], mesh.edges[e, 1]
    d = v[b] - v[a]
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), np.finfo(float).tiny)
    axis = np.eye(3)[np.argmin(np.abs(d), axis=1)]
    e1 = np.cross(d, axis)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(d, e1)
    f, k = h // 3, h % 3
    opp = v[mesh.faces[f, (k + 2) % 3]] - v[a]
    return np.arctan2(np.einsum("ij,ij->i", e2, opp), np.einsum("ij,ij->i", e1, opp))


@mesh_input
def tufted_cover(mesh: Mesh, lengths: np.ndarray | None = None) -> IntrinsicTriangulation:
    """The tufted cover: faces ``0..F-1`` as given (front), ``F..2F-1`` reversed copies (back).

    Around an edge with m faces in radial order, the canonical-direction side of face a is glued to the
    opposite-direction side of face a+1 (cyclically); a boundary edge (m = 1) glues a face's front to its
    back; two consistently oriented faces glue front to front and back to back. The result is closed,
    edge-manifold and oriented; unreferenced vertices stay isolated.
    """
    F = mesh.n_faces
    L = _halfedge_lengths(mesh) if lengths is None else np.asarray(lengths, dtype=np.float64)
    faces = np.concatenate([mesh.faces, mesh.faces[:, [0, 2, 1]]])
    lens = np.concatenate([L, L[:, [2, 1, 0]]])
    h = np.arange(3 * F)
    other = 3 * (F + h // 3) + np.array([2, 1, 0])[h % 3]  # the back copy of front half-edge h
    he = mesh.halfedges
    e = mesh.halfedge_edges
    canonical = he[:, 0] < he[:, 1]
    c = np.where(canonical, h, other)
    n = np.where(canonical, other, h)
    counts = mesh.edge_face_counts
    ce = counts[e]
    # nxt[h]: the next face's front half-edge around h's edge, cyclically. Itself on a boundary edge; the
    # other one on an edge of two faces (no sort: the two sum to the edge's bincount weight, exact below
    # 2^53); in radial order on a non-manifold edge (only those are sorted)
    nxt = h.copy()
    pair = ce == 2
    total = np.bincount(e[pair], weights=h[pair], minlength=counts.size).astype(np.int64)
    nxt[pair] = total[e[pair]] - h[pair]
    nm = np.flatnonzero(ce > 2)
    if nm.size:
        order = nm[np.lexsort((-_edge_angles(mesh, nm, e[nm]), e[nm]))]
        es = e[order]
        start = np.searchsorted(es, es, side="left")
        pos = np.arange(order.size) - start
        nxt[order] = order[start + (pos + 1) % counts[es]]
    twin = np.empty(6 * F, dtype=np.int64)
    twin[c] = n[nxt]
    twin[n[nxt]] = c
    return IntrinsicTriangulation(faces, lens, twin, mesh.n_verts)


def _unique_below(x: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique values of ``x`` (ints in ``[0, n)``): np.unique for short x, a mask (no hashing, no
    sort) for long ones."""
    if 16 * x.size < n:
        return np.unique(x)
    mark = np.zeros(n, dtype=bool)
    mark[x] = True
    return np.flatnonzero(mark)


def mollify_lengths(lengths: np.ndarray, relative: float = 1e-5) -> tuple[np.ndarray, float]:
    """Intrinsic mollification: add the smallest ``eps`` to every length so that each triangle inequality
    holds with margin ``relative * mean length``. Returns ``(lengths + eps, eps)``."""
    if relative <= 0 or lengths.size == 0:
        return lengths, 0.0
    delta = relative * float(lengths.mean())
    slack = lengths[:, [1, 2, 0]] - lengths - lengths[:, [2, 0, 1]] + delta  # np.roll by 2 and by 1
    eps = max(0.0, float(slack.max()))
    return (lengths + eps if eps > 0 else lengths), eps


def flip_to_delaunay(tri: IntrinsicTriangulation, eps: float = DELAUNAY_EPS, max_rounds: int = 20000):
    """Flip edges of a closed intrinsic triangulation until every cotan weight is ``>= -eps``.

    Vectorized rounds of independent flips (no face in two flips of one round). Returns a new
    :class:`IntrinsicTriangulation` (the input is not modified).
    """
    if tri.twin is None:
        raise ValueError("flip_to_delaunay needs a closed triangulation with twins (e.g. tufted_cover)")
    faces = tri.faces.copy()
    lens = tri.lengths.copy()
    twin = tri.twin.copy()
    F = faces.shape[0]
    # cotangent opposite every half-edge, kept current: a round recomputes only the faces it flipped
    cot = halfedge_cotans_from_lengths(lens).reshape(-1)
    h = np.flatnonzero(np.arange(3 * F) < twin)  # first round: every edge once
    n_flips = 0
    remap = np.arange(3 * F)  # identity between rounds; a round maps its moved half-edges, then restores it
    for _ in range(max_rounds):
        w = 0.5 * (cot[h] + cot[twin[h]])
        bad = np.flatnonzero(w < -eps)  # filter before deriving the rest (most edges are Delaunay)
        h, w = h[bad], w[bad]
        t = twin[h]
        f, g = h // 3, t // 3
        if (f == g).any():  # an edge glued to its own face cannot be flipped
            two = f != g
            h, t, f, g, w = h[two], t[two], f[two], g[two], w[two]
        if h.size == 0:
            break
        # independent set: each face keeps its most non-Delaunay candidate
        pri = np.empty(len(h), dtype=np.int64)
        pri[np.lexsort((h, w))] = np.arange(len(h))[::-1]
        best = np.full(F, -1, dtype=np.int64)
        np.maximum.at(best, f, pri)
        np.maximum.at(best, g, pri)
        win = (best[f] == pri) & (best[g] == pri)
        h, t, f, g = h[win], t[win], f[win], g[win]
        a, b = h % 3, t % 3
        # f = (i, j, k) with h = i->j at position a; g = (j, i, l) with t = j->i at position b
        i, j = faces[f, a], faces[f, (a + 1) % 3]
        k, l_ = faces[f, (a + 2) % 3], faces[g, (b + 2) % 3]
        ang_f = corner_angles_from_lengths(lens[f])[np.arange(len(f)), a]
        ang_g = corner_angles_from_lengths(lens[g])[np.arange(len(g)), (b + 1) % 3]
        l_ki, l_jk = lens[f, (a + 2) % 3], lens[f, (a + 1) % 3]
        l_il, l_lj = lens[g, (b + 1) % 3], lens[g, (b + 2) % 3]
        new2 = l_ki**2 + l_il**2 - 2.0 * l_ki * l_il * np.cos(ang_f + ang_g)
        new_len = np.sqrt(np.maximum(new2, 0.0))
        ok = np.isfinite(new_len) & (new_len > 0)
        if not ok.all():
            h, t, f, g, a, b = h[ok], t[ok], f[ok], g[ok], a[ok], b[ok]
            i, j, k, l_, new_len = i[ok], j[ok], k[ok], l_[ok], new_len[ok]
            l_ki, l_jk, l_il, l_lj = l_ki[ok], l_jk[ok], l_il[ok], l_lj[ok]
            if len(h) == 0:
                break
        # old half-edge ids of the four outer sides, and where they go: f' = (k, i, l), g' = (l, j, k)
        old = np.stack(
            [3 * f + (a + 2) % 3, 3 * g + (b + 1) % 3, 3 * g + (b + 2) % 3, 3 * f + (a + 1) % 3], 1
        )
        new = np.stack([3 * f, 3 * f + 1, 3 * g, 3 * g + 1], axis=1)
        old, new = old.reshape(-1), new.reshape(-1)
        remap[old] = new
        outer_twin = remap[twin[old]]
        remap[old] = old
        faces[f] = np.stack([k, i, l_], axis=1)
        faces[g] = np.stack([l_, j, k], axis=1)
        lens[f] = np.stack([l_ki, l_il, new_len], axis=1)
        lens[g] = np.stack([l_lj, l_jk, new_len], axis=1)
        # twins: the outer sides' partners may have moved in this round too, so remap both ends
        twin[new] = outer_twin
        twin[outer_twin] = new
        twin[3 * f + 2] = 3 * g + 2
        twin[3 * g + 2] = 3 * f + 2
        n_flips += len(h)
        changed = np.concatenate([f, g])
        cot.reshape(-1, 3)[changed] = halfedge_cotans_from_lengths(lens[changed])
        active = _unique_below(np.concatenate([changed, twin[new] // 3]), F)
        hs = (3 * active[:, None] + np.arange(3)).reshape(-1)
        h = _unique_below(np.minimum(hs, twin[hs]), 3 * F)
    else:
        warnings.warn(
            f"flip_to_delaunay stopped after {max_rounds} rounds ({n_flips} flips)",
            RuntimeWarning,
            stacklevel=2,
        )
    out = IntrinsicTriangulation(faces, lens, twin, tri.n_verts, tri.n_flips + n_flips, tri.mollify_eps)
    cot.flags.writeable = False
    out.__dict__["_cotans"] = cot.reshape(-1, 3)  # current for the final lengths: halfedge_cotans() reuses it
    return out


@mesh_input
def intrinsic_delaunay_cover(mesh: Mesh, mollify: float = 1e-5) -> IntrinsicTriangulation:
    """Tufted cover, then mollification (relative to the cover's mean edge length), then Delaunay flips:
    the triangulation geometry-central's robust heat method works on."""
    cover = tufted_cover(mesh)
    lens, eps = mollify_lengths(cover.lengths, mollify)
    cover = IntrinsicTriangulation(cover.faces, lens, cover.twin, cover.n_verts, 0, eps)
    return flip_to_delaunay(cover)


def _sheet_twins(mesh: Mesh) -> np.ndarray | None:
    """(3F,) int64 twin half-edges of a closed, oriented, edge-manifold mesh (every edge in exactly two
    faces that traverse it in opposite directions), else None."""
    if mesh.n_faces == 0 or not (mesh.edge_face_counts == 2).all():
        return None
    e = mesh.halfedge_edges
    h = np.arange(e.size)
    # the two half-edges of an edge sum to the edge's bincount weight (exact: integers below 2^53); no sort
    twin = np.bincount(e, weights=h, minlength=mesh.n_edges).astype(np.int64)[e] - h
    he = mesh.halfedges
    if (he[h, 0] == he[twin, 0]).any():
        return None
    return twin


@mesh_input
def intrinsic_delaunay_sheet(mesh: Mesh, mollify: float = 1e-5) -> IntrinsicTriangulation | None:
    """``intrinsic_delaunay_cover(mesh).front_sheet()`` built and flipped on the front sheet alone, for a
    closed, oriented, edge-manifold mesh (None for any other).

    On such a mesh the tufted cover is two separate copies, front and back, whose lengths and flips mirror
    each other (the cover's mean length is the front's), so the front alone gives the same triangulation at
    half the cost (to rounding in the mollification's mean length).
    """
    twin = _sheet_twins(mesh)
    if twin is None:
        return None
    lens, eps = mollify_lengths(_halfedge_lengths(mesh), mollify)
    return flip_to_delaunay(IntrinsicTriangulation(np.asarray(mesh.faces), lens, twin, mesh.n_verts, 0, eps))
