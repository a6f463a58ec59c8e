"""Conforming refinement of long edges (red-green bisection), keeping every input vertex and its index.

:func:`split_long_edges` splits every edge longer than ``max_length`` at its midpoint, round after round,
until none is left. Each triangle is cut by how many of its edges are split: one (2 triangles), two (3
triangles, the quad cut along its shorter diagonal) or three (4 similar triangles). A split edge gets one
midpoint shared by all its faces, so the result is conforming (no T-junctions), also across non-manifold
edges. The surface does not change: new vertices lie on the input triangles, so polyhedral distances
and areas are the input's.

Conventions
-----------
Input vertices keep their indices ``0..V-1``; midpoints are appended after them. Every output triangle keeps
the orientation of the triangle it comes from, and ``parent[f]`` names that input triangle.
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh

__all__ = ["split_long_edges"]

_NEXT = np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]])  # rotation r of a face: corners _NEXT[r]


def _split_round(verts, faces, parent, max_length):
    """One round: split every edge longer than ``max_length``; returns (verts, faces, parent, n_split)."""
    V = verts.shape[0]
    mesh = Mesh(verts, faces)
    pairs, fe = mesh.edges, mesh.halfedge_edges.reshape(-1, 3)  # edge k of a face joins corners k, k + 1
    length = mesh.edge_lengths
    long_ = length > max_length
    n_split = int(long_.sum())
    if not n_split:
        return verts, faces, parent, 0
    mid = np.full(pairs.shape[0], -1, dtype=np.int64)
    mid[long_] = V + np.arange(n_split)
    verts = np.concatenate([verts, 0.5 * (verts[pairs[long_, 0]] + verts[pairs[long_, 1]])])
    marked = long_[fe]  # (F, 3)
    count = marked.sum(axis=1)
    # rotate each face so that its pattern is canonical: one split -> edge 0; two splits -> edge 2 unsplit
    first = np.argmax(marked, axis=1)
    unsplit = np.argmin(marked, axis=1)
    rot = np.where(count == 2, (unsplit + 1) % 3, np.where(count == 1, first, 0))
    idx = _NEXT[rot]
    v = np.take_along_axis(faces, idx, axis=1)
    m = np.take_along_axis(mid[fe], idx, axis=1)  # m[:, k]: midpoint of edge (v_k, v_k+1), -1 if unsplit
    out_f, out_p = [faces[count == 0]], [parent[count == 0]]

    s = count == 1  # (v0, m0, v2), (m0, v1, v2)
    out_f += [np.stack([v[s, 0], m[s, 0], v[s, 2]], 1), np.stack([m[s, 0], v[s, 1], v[s, 2]], 1)]
    out_p += [parent[s]] * 2

    s = count == 2  # (v1, m1, m0) and the quad (v0, m0, m1, v2) along its shorter diagonal
    d_v0 = np.linalg.norm(verts[v[s, 0]] - verts[m[s, 1]], axis=1)
    d_v2 = np.linalg.norm(verts[v[s, 2]] - verts[m[s, 0]], axis=1)
    use_v0 = d_v0 <= d_v2
    t1 = np.where(
        use_v0[:, None], np.stack([v[s, 0], m[s, 0], m[s, 1]], 1), np.stack([v[s, 0], m[s, 0], v[s, 2]], 1)
    )
    t2 = np.where(
        use_v0[:, None], np.stack([v[s, 0], m[s, 1], v[s, 2]], 1), np.stack([m[s, 0], m[s, 1], v[s, 2]], 1)
    )
    out_f += [np.stack([v[s, 1], m[s, 1], m[s, 0]], 1), t1, t2]
    out_p += [parent[s]] * 3

    s = count == 3  # three corners and the middle triangle
    out_f += [
        np.stack([v[s, 0], m[s, 0], m[s, 2]], 1),
        np.stack([v[s, 1], m[s, 1], m[s, 0]], 1),
        np.stack([v[s, 2], m[s, 2], m[s, 1]], 1),
        np.stack([m[s, 0], m[s, 1], m[s, 2]], 1),
    ]
    out_p += [parent[s]] * 4
    return verts, np.concatenate(out_f), np.concatenate(out_p), n_split


def split_long_edges(verts, faces, max_length: float, max_faces: int | None = None):
    """Split edges longer than ``max_length`` until none is left (module docstring).

    Parameters
    ----------
    verts : (V, 3) float64, faces : (F, 3) int64 (any triangle soup; indices are not re-validated here).
    max_length : positive length; edges longer than this are bisected.
    max_faces : refuse (MeshError, before the round that would pass it) to produce more triangles than this;
        default ``max(16 F, 10_000)``.

    Returns
    -------
    verts : (V', 3) float64, V' >= V, the input vertices first. faces : (F', 3) int64.
    parent : (F',) int64, the input triangle each output triangle lies in.
    """
    verts = np.asarray(verts, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if not (np.isfinite(max_length) and max_length > 0):
        raise MeshError(f"max_length must be a positive finite number, got {max_length!r}")
    limit = max(16 * faces.shape[0], 10_000) if max_faces is None else int(max_faces)
    parent = np.arange(faces.shape[0], dtype=np.int64)
    while True:
        before = faces.shape[0]
        new = _split_round(verts, faces, parent, max_length)
        if new[3] == 0:
            return verts, faces, parent
        if new[1].shape[0] > limit:
            raise MeshError(
                f"splitting edges longer than {max_length:.3g} would need more than {limit} triangles "
                f"({before} so far); give a larger max_length"
            )
        verts, faces, parent, _ = new
