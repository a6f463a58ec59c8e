"""The validated triangle mesh: connectivity and the facts derived from it.

``Mesh(verts, faces)`` checks what would make every later computation wrong or crash (shape, dtype,
non-finite coordinates, out-of-range or repeated indices, empty input) and raises :class:`MeshError`
naming the element and index. What is unusual but processable (zero-area or duplicate faces,
unreferenced vertices, non-manifold edges or vertices, inconsistent orientation, several components,
boundaries) is detected and reported by :meth:`Mesh.report`, never silently changed: see
:func:`manifoldnet.clean` for the repair.

Conventions
-----------
verts : (V, 3) float64, faces : (F, 3) int64, both read-only.
Half-edge ``h = 3 * f + k`` runs from ``faces[f, k]`` to ``faces[f, (k + 1) % 3]``; the corner opposite
to it is ``faces[f, (k + 2) % 3]``. Edges are the unique undirected pairs ``(i, j)``, ``i < j``, sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .errors import MeshError

__all__ = ["Mesh", "MeshReport", "readonly", "require_manifold"]


def readonly(a: np.ndarray) -> np.ndarray:
    """Mark ``a`` read-only (in place) and return it: cached arrays can never be corrupted by a caller."""
    a.flags.writeable = False
    return a


def _as_array(x, name: str, shape: str) -> np.ndarray:
    """``np.asarray(x)``; a ragged or unconvertible input raises MeshError instead of numpy's ValueError."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise MeshError(
            f"{name} must be an array of shape {shape}, got a ragged or non-numeric {type(x).__name__}"
        ) from exc


def _as_verts(verts) -> np.ndarray:
    v = _as_array(verts, "verts", "(V, 3)")
    if v.dtype == object or v.dtype.kind not in "fiu":
        raise MeshError(f"verts must be a real numeric array of shape (V, 3), got dtype {v.dtype}")
    if v.ndim != 2 or v.shape[1] != 3:
        raise MeshError(f"verts must have shape (V, 3), got {v.shape}")
    if v.shape[0] == 0:
        raise MeshError("verts is empty: a mesh needs at least 3 vertices")
    v = np.array(v, dtype=np.float64, order="C")
    finite = np.isfinite(v).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise MeshError(
            f"verts has {bad.size} vertices with non-finite coordinates; first is vertex {bad[0]}: "
            f"{v[bad[0]].tolist()}"
        )
    return v


def _as_faces(faces, n_verts: int) -> np.ndarray:
    f = _as_array(faces, "faces", "(F, 3)")
    if f.dtype == object or f.dtype.kind not in "iu":
        raise MeshError(f"faces must be an integer array of shape (F, 3), got dtype {f.dtype}")
    if f.ndim != 2 or f.shape[1] != 3:
        raise MeshError(f"faces must have shape (F, 3) (triangles), got {f.shape}")
    if f.shape[0] == 0:
        raise MeshError(
            "faces is empty: a mesh needs at least one triangle (use load_points for point clouds)"
        )
    if f.dtype.kind == "u" and f.max() > np.iinfo(np.int64).max:
        raise MeshError(f"faces holds an index too large for int64: {f.max()}")
    f = np.array(f, dtype=np.int64, order="C")
    neg = (f < 0).any(axis=1)
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise MeshError(f"face {i} has a negative vertex index: {f[i].tolist()}")
    big = (f >= n_verts).any(axis=1)
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise MeshError(f"face {i} has a vertex index out of range for {n_verts} vertices: {f[i].tolist()}")
    rep = (f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 2] == f[:, 0])
    if rep.any():
        i = int(np.flatnonzero(rep)[0])
        raise MeshError(f"face {i} repeats a vertex: {f[i].tolist()} ({int(rep.sum())} such faces)")
    return f


def _direct_cycles(he: np.ndarray) -> np.ndarray:
    """Re-direct the edges ``he (n, 2)`` of disjoint simple cycles so that each cycle runs one way.

    Each cycle keeps the direction of its lowest-index edge. Both directions of every edge form a
    permutation (a -> b is followed by b -> c, c != a) whose cycles come in reversed pairs; per pair, the
    one holding the lowest original edge is kept. Needed where faces are not consistently oriented.
    """
    n = len(he)
    d = np.concatenate([he, he[:, ::-1]])
    order = np.argsort(d[:, 0], kind="stable")  # two out-edges per vertex, adjacent
    pos = np.searchsorted(d[order, 0], d[:, 1])
    o1, o2 = order[pos], order[pos + 1]
    nxt = np.where(d[o1, 1] != d[:, 0], o1, o2)
    g = sp.csr_matrix((np.ones(2 * n), (np.arange(2 * n), nxt)), shape=(2 * n, 2 * n))
    n_cyc, lab = connected_components(g, directed=True, connection="strong")
    head = np.full(n_cyc, 2 * n, dtype=np.int64)
    np.minimum.at(head, lab[:n], np.arange(n))
    partner = np.empty(n_cyc, dtype=np.int64)
    partner[lab[:n]] = lab[n:]
    keep_forward = head[lab[:n]] < head[partner[lab[:n]]]
    return np.where(keep_forward[:, None], he, he[:, ::-1])


@dataclass(frozen=True)
class MeshReport:
    """What is unusual about a mesh; every count is also reachable as an index array on :class:`Mesh`."""

    n_verts: int
    n_faces: int
    n_edges: int
    n_components: int
    n_boundary_loops: int
    euler_characteristic: int
    genus: int | None
    zero_area_faces: int
    duplicate_faces: int
    unreferenced_verts: int
    nonmanifold_edges: int
    nonmanifold_verts: int
    is_edge_manifold: bool
    is_vertex_manifold: bool
    is_oriented: bool
    is_orientable: bool
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["warnings"] = list(self.warnings)
        return d


class Mesh:
    """A validated triangle mesh.

    Parameters
    ----------
    verts : (V, 3) array_like of real numbers, converted to float64.
    faces : (F, 3) array_like of integers in ``[0, V)``, converted to int64.

    Raises
    ------
    MeshError
        wrong shape or dtype, empty input, non-finite coordinates, negative or out-of-range indices,
        a face repeating a vertex.
    """

    def __init__(self, verts, faces):
        v = _as_verts(verts)
        f = _as_faces(faces, v.shape[0])
        self._verts = readonly(v)
        self._faces = readonly(f)

    # ------------------------------------------------------------------ basics
    @property
    def verts(self) -> np.ndarray:
        """(V, 3) float64, read-only."""
        return self._verts

    @property
    def faces(self) -> np.ndarray:
        """(F, 3) int64, read-only."""
        return self._faces

    @property
    def n_verts(self) -> int:
        return self._verts.shape[0]

    @property
    def n_faces(self) -> int:
        return self._faces.shape[0]

    @property
    def n_edges(self) -> int:
        return self.edges.shape[0]

    def __repr__(self) -> str:
        return f"Mesh(V={self.n_verts}, F={self.n_faces})"

    def with_verts(self, verts) -> Mesh:
        """The same connectivity with new vertex positions (validated)."""
        return Mesh(verts, self._faces)

    # ------------------------------------------------------------- connectivity
    @cached_property
    def halfedges(self) -> np.ndarray:
        """(3F, 2) int64: half-edge ``3f + k`` runs ``faces[f, k] -> faces[f, (k+1) % 3]``."""
        f = self._faces
        return readonly(np.stack([f, f[:, [1, 2, 0]]], axis=-1).reshape(-1, 2))  # np.roll(f, -1, 1), faster

    @cached_property
    def _edge_table(self) -> tuple[np.ndarray, np.ndarray]:
        he = self.halfedges
        lo, hi = np.minimum(he[:, 0], he[:, 1]), np.maximum(he[:, 0], he[:, 1])  # a row sort, ~10x faster
        key = lo * np.int64(self.n_verts) + hi  # V < 3e9, so no overflow
        ukey, inverse = np.unique(key, return_inverse=True)
        n = np.int64(self.n_verts)
        edges = np.stack([ukey // n, ukey % n], axis=1)
        return readonly(edges), readonly(inverse.reshape(-1).astype(np.int64))

    @cached_property
    def edges(self) -> np.ndarray:
        """(E, 2) int64: unique undirected edges ``(i, j)``, ``i < j``, lexicographically sorted."""
        return self._edge_table[0]

    @cached_property
    def halfedge_edges(self) -> np.ndarray:
        """(3F,) int64: the edge each half-edge lies on."""
        return self._edge_table[1]

    @cached_property
    def edge_face_counts(self) -> np.ndarray:
        """(E,) int64: how many faces contain each edge (1 boundary, 2 interior, >2 non-manifold)."""
        return readonly(np.bincount(self.halfedge_edges, minlength=self.n_edges))

    @cached_property
    def boundary_edges(self) -> np.ndarray:
        """(E_b,) int64: indices of edges with exactly one face."""
        return readonly(np.flatnonzero(self.edge_face_counts == 1))

    @cached_property
    def nonmanifold_edges(self) -> np.ndarray:
        """(E_n,) int64: indices of edges with more than two faces."""
        return readonly(np.flatnonzero(self.edge_face_counts > 2))

    @cached_property
    def referenced(self) -> np.ndarray:
        """(V,) bool: vertex is used by at least one face."""
        r = np.zeros(self.n_verts, dtype=bool)
        r[self._faces.reshape(-1)] = True
        return readonly(r)

    @cached_property
    def unreferenced_verts(self) -> np.ndarray:
        """(U,) int64: vertices no face uses."""
        return readonly(np.flatnonzero(~self.referenced))

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """(V, V) symmetric 0/1 CSR vertex adjacency over edges."""
        e = self.edges
        n = self.n_verts
        ones = np.ones(2 * len(e), dtype=np.int8)
        a = sp.csr_matrix((ones, (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
        a.sum_duplicates()
        return a

    @cached_property
    def _components(self) -> tuple[int, np.ndarray]:
        n, labels = connected_components(self.adjacency, directed=False)
        return n, readonly(labels.astype(np.int64))

    @cached_property
    def vertex_components(self) -> np.ndarray:
        """(V,) int64: connected-component label of each vertex (unreferenced vertices: one each)."""
        return self._components[1]

    @cached_property
    def n_components(self) -> int:
        """Connected components of the surface (through shared vertices), unreferenced
        vertices not counted."""
        labels = self.vertex_components[self.referenced]
        return int(np.unique(labels).size)

    @cached_property
    def face_components(self) -> np.ndarray:
        """(F,) int64: component label of each face (the label of its vertices)."""
        return readonly(self.vertex_components[self._faces[:, 0]])

    # ------------------------------------------------------------- topology
    @cached_property
    def euler_characteristic(self) -> int:
        """V - E + F over referenced vertices."""
        return int(self.referenced.sum()) - self.n_edges + self.n_faces

    @cached_property
    def boundary_loops(self) -> tuple[np.ndarray, ...]:
        """Boundary loops as vertex-index arrays, in the order of their boundary half-edges.

        On a non-manifold boundary (a vertex on several boundary edges) loops are traced greedily; the
        count is still the number of cycles of the boundary half-edge graph.
        """
        b = np.flatnonzero(self.edge_face_counts[self.halfedge_edges] == 1)
        if b.size == 0:
            return ()
        he = self.halfedges[b]
        deg = np.bincount(he.reshape(-1), minlength=self.n_verts)
        if (deg[he.reshape(-1)] == 2).all():  # manifold boundary: direct each loop one way (Moebius, flips)
            he = _direct_cycles(he)
        # successor of a boundary half-edge: the boundary half-edge leaving its tip
        order = np.argsort(he[:, 0], kind="stable")
        starts = he[order, 0]
        pos = np.searchsorted(starts, he[:, 1])
        pos = np.minimum(pos, len(starts) - 1)
        nxt = np.where(starts[pos] == he[:, 1], order[pos], -1)
        # cycles of the successor permutation: connected components of the successor graph
        valid = nxt >= 0
        n = len(he)
        g = sp.csr_matrix((np.ones(valid.sum()), (np.flatnonzero(valid), nxt[valid])), shape=(n, n))
        n_loops, lab = connected_components(g, directed=True, connection="weak")
        is_perm = bool(valid.all()) and np.unique(nxt).size == n
        if not is_perm:  # non-manifold boundary: loops as vertex sets, in half-edge order
            order = np.argsort(lab, kind="stable")
            split = np.cumsum(np.bincount(lab, minlength=n_loops))[:-1]
            return tuple(readonly(he[idx, 0].copy()) for idx in np.split(order, split))
        # ordered loops by list ranking (pointer jumping): cut each cycle before its smallest half-edge
        head = np.full(n_loops, n, dtype=np.int64)
        np.minimum.at(head, lab, np.arange(n))
        ptr = np.where(nxt == head[lab], -1, nxt)
        dist = (ptr >= 0).astype(np.int64)
        while (ptr >= 0).any():
            live = ptr >= 0
            dist = dist + np.where(live, dist[np.maximum(ptr, 0)], 0)
            ptr = np.where(live, ptr[np.maximum(ptr, 0)], -1)
        order = np.lexsort((-dist, lab))
        split = np.cumsum(np.bincount(lab, minlength=n_loops))[:-1]
        loops = [readonly(he[idx, 0].copy()) for idx in np.split(order, split)]
        return tuple(loops)

    @cached_property
    def n_boundary_loops(self) -> int:
        return len(self.boundary_loops)

    @cached_property
    def genus(self) -> int | None:
        """Total genus ``sum_c (2 - chi_c - b_c) / 2`` of an orientable edge-manifold mesh, else ``None``."""
        if not (self.is_edge_manifold and self.is_orientable):
            return None
        g2 = 2 * self.n_components - self.euler_characteristic - self.n_boundary_loops
        return int(g2 // 2) if g2 >= 0 and g2 % 2 == 0 else None

    @cached_property
    def is_edge_manifold(self) -> bool:
        return self.nonmanifold_edges.size == 0

    @cached_property
    def nonmanifold_verts(self) -> np.ndarray:
        """(N,) int64: referenced vertices whose faces do not form a single fan (bow-ties, fins' tips).

        A vertex is manifold when its faces, connected through edges incident to it that have exactly
        two faces, form one group. Vertices on non-manifold edges are non-manifold too.
        """
        f = self._faces
        F = len(f)
        he_e = self.halfedge_edges.reshape(F, 3)
        counts = self.edge_face_counts
        # corners: (face, vertex). Two corners of the same vertex are linked when they share an edge
        # (one with exactly two faces) incident to that vertex.
        corner_v = f.reshape(-1)
        # each half-edge 3f+k lies on edge he_e[f,k], incident to vertices f[f,k] and f[f,(k+1)%3];
        # corner ids: 3f+k for vertex f[f,k]
        h = np.arange(3 * F)
        fidx, k = h // 3, h % 3
        e = he_e.reshape(-1)
        manifold_e = counts[e] == 2
        # for every interior edge, the two half-edges on it: pair them through sorting by edge id
        hs = h[manifold_e]
        order = np.argsort(e[hs], kind="stable")
        hs = hs[order]
        a, b = hs[0::2], hs[1::2]
        # half-edge a (face fa, corner ka) touches corners (fa,ka) and (fa,ka+1); likewise b. Link the
        # corners of the same vertex: vertex of corner (fa,ka) appears in b at ka' or ka'+1.
        fa, ka, fb, kb = fidx[a], k[a], fidx[b], k[b]
        ca0, ca1 = 3 * fa + ka, 3 * fa + (ka + 1) % 3
        cb0, cb1 = 3 * fb + kb, 3 * fb + (kb + 1) % 3
        same = corner_v[ca0] == corner_v[cb0]
        link_r = np.r_[np.where(same, ca0, ca0), np.where(same, ca1, ca1)]
        link_c = np.r_[np.where(same, cb0, cb1), np.where(same, cb1, cb0)]
        n = 3 * F
        g = sp.csr_matrix((np.ones(len(link_r)), (link_r, link_c)), shape=(n, n))
        _, lab = connected_components(g, directed=False)
        # groups per vertex: number of distinct corner-component labels among a vertex's corners
        # every corner of a vertex sits in one group iff its labels are all equal
        lo = np.full(self.n_verts, np.iinfo(np.int64).max)
        hi = np.full(self.n_verts, -1)
        np.minimum.at(lo, corner_v, lab)
        np.maximum.at(hi, corner_v, lab)
        groups = np.where(hi > lo, 2, 1)
        bad = groups > 1
        ne = self.edges[self.nonmanifold_edges].reshape(-1)
        bad[ne] = True
        return readonly(np.flatnonzero(bad))

    @cached_property
    def is_vertex_manifold(self) -> bool:
        return self.nonmanifold_verts.size == 0

    @cached_property
    def _orientation(self) -> tuple[bool, bool, np.ndarray]:
        """(is_oriented, is_orientable, faces to flip for a consistent orientation)."""
        F = self.n_faces
        e = self.halfedge_edges
        interior = self.edge_face_counts[e] == 2
        hs = np.flatnonzero(interior)
        hs = hs[np.argsort(e[hs], kind="stable")]
        a, b = hs[0::2], hs[1::2]
        he = self.halfedges
        same_dir = he[a, 0] == he[b, 0]  # both faces traverse the shared edge the same way
        is_oriented = not bool(same_dir.any())
        fa, fb = a // 3, b // 3
        # doubled face graph: node f (as is) and F + f (flipped); consistent neighbours keep parity
        r = np.r_[fa, fa + F]
        c = np.r_[np.where(same_dir, fb + F, fb), np.where(same_dir, fb, fb + F)]
        g = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(2 * F, 2 * F))
        _, lab = connected_components(g, directed=False)
        orientable = bool((lab[:F] != lab[F:]).all())
        if not orientable:
            return is_oriented, False, readonly(np.zeros(0, dtype=np.int64))
        # per face component, flip the minority group
        group = np.minimum(lab[:F], lab[F:])
        flipped_side = lab[:F] > lab[F:]
        n_in = np.bincount(group, minlength=2 * F)
        n_flip = np.bincount(group, weights=flipped_side, minlength=2 * F)
        flip_minority = n_flip[group] <= n_in[group] / 2
        flip = np.where(flip_minority, flipped_side, ~flipped_side)
        return is_oriented, True, readonly(np.flatnonzero(flip))

    @cached_property
    def is_oriented(self) -> bool:
        """True when every interior edge is traversed in opposite directions by its two faces."""
        return self._orientation[0]

    @cached_property
    def is_orientable(self) -> bool:
        """True when faces can be flipped to a consistent orientation (non-manifold edges ignored)."""
        return self._orientation[1]

    @cached_property
    def faces_to_flip(self) -> np.ndarray:
        """(K,) int64: faces whose flip makes the orientation consistent (empty if not orientable)."""
        return self._orientation[2]

    # ------------------------------------------------------------- geometry
    @cached_property
    def face_vectors(self) -> np.ndarray:
        """(F, 3) float64: the unnormalized face normals ``(p1 - p0) x (p2 - p0)``."""
        p = self._verts[self._faces]
        return readonly(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]))

    @cached_property
    def face_areas(self) -> np.ndarray:
        """(F,) float64."""
        return readonly(0.5 * np.linalg.norm(self.face_vectors, axis=1))

    @cached_property
    def face_normals(self) -> np.ndarray:
        """(F, 3) float64 unit normals (zero rows for zero-area faces)."""
        n = self.face_vectors
        norm = np.linalg.norm(n, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(norm > 0, n / np.where(norm > 0, norm, 1.0), 0.0)
        return readonly(out)

    @cached_property
    def total_area(self) -> float:
        return float(self.face_areas.sum())

    @cached_property
    def edge_lengths(self) -> np.ndarray:
        """(E,) float64."""
        e = self.edges
        return readonly(np.linalg.norm(self._verts[e[:, 1]] - self._verts[e[:, 0]], axis=1))

    @cached_property
    def bounding_box(self) -> np.ndarray:
        """(2, 3) float64: min and max corner of the referenced vertices."""
        v = self._verts[self.referenced] if self.referenced.any() else self._verts
        return readonly(np.stack([v.min(axis=0), v.max(axis=0)]))

    # ------------------------------------------------------------- defects
    @cached_property
    def zero_area_faces(self) -> np.ndarray:
        """(Z,) int64: faces whose area is at most 1e-14 times the mean squared edge length (degenerate)."""
        scale = float(np.mean(self.edge_lengths**2)) if self.n_edges else 0.0
        return readonly(np.flatnonzero(self.face_areas <= 1e-14 * max(scale, np.finfo(float).tiny)))

    @cached_property
    def duplicate_faces(self) -> np.ndarray:
        """(D,) int64: faces that repeat the vertex set of an earlier face (any order or orientation)."""
        key = np.ascontiguousarray(np.sort(self._faces, axis=1))
        _, first = np.unique(key.view(np.dtype((np.void, 24))).reshape(-1), return_index=True)
        dup = np.ones(self.n_faces, dtype=bool)
        dup[first] = False
        return readonly(np.flatnonzero(dup))

    def report(self) -> MeshReport:
        """Every unusual fact of this mesh, with a human-readable warning for each."""
        w = []
        if self.zero_area_faces.size:
            w.append(f"{self.zero_area_faces.size} zero-area faces (first: face {self.zero_area_faces[0]})")
        if self.duplicate_faces.size:
            w.append(f"{self.duplicate_faces.size} duplicate faces (first: face {self.duplicate_faces[0]})")
        if self.unreferenced_verts.size:
            w.append(
                f"{self.unreferenced_verts.size} unreferenced vertices (first: vertex "
                f"{self.unreferenced_verts[0]})"
            )
        if self.nonmanifold_edges.size:
            e0 = self.edges[self.nonmanifold_edges[0]].tolist()
            w.append(f"{self.nonmanifold_edges.size} non-manifold edges (first: edge {e0})")
        if self.nonmanifold_verts.size:
            w.append(
                f"{self.nonmanifold_verts.size} non-manifold vertices (first: vertex "
                f"{self.nonmanifold_verts[0]})"
            )
        if not self.is_orientable:
            w.append("not orientable")
        elif not self.is_oriented:
            w.append(f"inconsistent orientation ({self.faces_to_flip.size} faces to flip)")
        if self.n_components > 1:
            w.append(f"{self.n_components} connected components")
        if self.n_boundary_loops:
            w.append(f"{self.n_boundary_loops} boundary loops")
        return MeshReport(
            n_verts=self.n_verts,
            n_faces=self.n_faces,
            n_edges=self.n_edges,
            n_components=self.n_components,
            n_boundary_loops=self.n_boundary_loops,
            euler_characteristic=self.euler_characteristic,
            genus=self.genus,
            zero_area_faces=int(self.zero_area_faces.size),
            duplicate_faces=int(self.duplicate_faces.size),
            unreferenced_verts=int(self.unreferenced_verts.size),
            nonmanifold_edges=int(self.nonmanifold_edges.size),
            nonmanifold_verts=int(self.nonmanifold_verts.size),
            is_edge_manifold=self.is_edge_manifold,
            is_vertex_manifold=self.is_vertex_manifold,
            is_oriented=self.is_oriented,
            is_orientable=self.is_orientable,
            warnings=tuple(w),
        )


def require_manifold(mesh: Mesh, what: str, hint: str = "") -> Mesh:
    """``mesh`` if it is edge- and vertex-manifold, else a :class:`MeshError` naming the first offender.

    what : the operation that needs it, opening the message (``"exact geodesics"``).
    hint : appended to the message after a semicolon (what to do instead).
    """
    tail = f"; {hint}" if hint else ""
    if mesh.nonmanifold_edges.size:
        i = int(mesh.nonmanifold_edges[0])
        raise MeshError(
            f"{what}: the mesh must be edge-manifold, but edge {mesh.edges[i].tolist()} has "
            f"{int(mesh.edge_face_counts[i])} faces (more than two; {mesh.nonmanifold_edges.size} "
            f"non-manifold edges){tail}"
        )
    if mesh.nonmanifold_verts.size:
        raise MeshError(
            f"{what}: the mesh must be vertex-manifold, but vertex {int(mesh.nonmanifold_verts[0])} joins "
            f"separate fans of faces (a bow-tie; {mesh.nonmanifold_verts.size} non-manifold vertices){tail}"
        )
    return mesh
