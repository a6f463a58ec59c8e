"""Discrete log map: polar coordinates ``(r, theta)`` of one- and two-ring neighbours in each vertex's gauge.

Intrinsic: ``theta`` comes from corner angles alone (rescaled to sum to ``2 pi`` at regular interior
vertices, see :mod:`.fans`), so it depends only on edge lengths and the gauge.

Conventions
-----------
* ``(i, j) = (edge_index[0, d], edge_index[1, d])``: ``r[d]`` and ``theta[d]`` are the polar coordinates
  of ``j`` in ``i``'s gauge; ``theta`` in ``[0, 2 pi)``, counter-clockwise about ``n_i``.
* A gauge is one angle ``g_i`` per vertex (every ``frames`` argument accepts it directly as a (V,) array), the
  intrinsic polar angle of the frame's ``e1`` measured from the reference half-edge (:func:`gauge_offsets`);
  ``theta_ij = theta^ref_ij - g_i``. A gauge change ``g -> g + delta`` maps ``theta_ij -> theta_ij - delta_i``
  exactly, consistently with :func:`~manifoldnet.geometry.transport.edge_transport`.
* One-ring radii are the Euclidean edge lengths.
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh
from .fans import _assign_smallest_corner, edge_lookup, vertex_fans
from .frames import tangent_frames, vertex_frames
from .inputs import mesh_input

__all__ = ["gauge_offsets", "one_ring_logmap", "point_cloud_logmap", "two_ring_logmap"]

_TWO_PI = 2.0 * np.pi


def _as_gauge(mesh: Mesh, frames) -> tuple[str, np.ndarray | None]:
    """Classify a gauge argument: ("intrinsic", None), ("angles", (V,)) or ("frames",
    (V, 3, 3)), validated."""
    if frames is None or (isinstance(frames, str) and frames == "intrinsic"):
        return "intrinsic", None
    V = mesh.n_verts
    if isinstance(frames, str):
        return "frames", vertex_frames(mesh, frames)
    fr = np.asarray(frames)
    if fr.dtype == object or fr.dtype.kind not in "fiu":
        raise MeshError(f"frames must be a gauge name, (V,) angles or (V, 3, 3) frames, got dtype {fr.dtype}")
    fr = fr.astype(np.float64)
    if fr.shape not in ((V,), (V, 3, 3)):
        raise MeshError(
            f"frames must have shape ({V},) (gauge angles) or ({V}, 3, 3) (rows e1, e2, n), got {fr.shape}"
        )
    bad = ~np.isfinite(fr).reshape(V, -1).all(axis=1)
    if bad.any():
        raise MeshError(f"frames has non-finite entries; first at vertex {int(np.flatnonzero(bad)[0])}")
    return ("angles", fr) if fr.ndim == 1 else ("frames", fr)


def _as_frames(mesh: Mesh, frames) -> np.ndarray | None:
    """None for the intrinsic gauge, else validated (V, 3, 3) frames (angles: intrinsic frames rotated)."""
    kind, arr = _as_gauge(mesh, frames)
    if kind == "frames":
        return arr
    if kind == "intrinsic":
        return None
    fr = vertex_frames(mesh, "intrinsic")
    c, s = np.cos(arr)[:, None], np.sin(arr)[:, None]
    e1 = c * fr[:, 0] + s * fr[:, 1]
    e2 = -s * fr[:, 0] + c * fr[:, 1]
    return np.stack([e1, e2, fr[:, 2]], axis=1)


@mesh_input
def gauge_offsets(mesh: Mesh, frames=None) -> np.ndarray:
    """(V,) float64 in [0, 2 pi): intrinsic angle of each frame's ``e1`` from the vertex's reference edge.

    Parameters
    ----------
    mesh : Mesh
    frames : None or "intrinsic" (all zeros), a gauge name of
        :func:`~manifoldnet.geometry.frames.vertex_frames`, (V, 3, 3) frames with rows (e1, e2, n), or (V,)
        gauge angles ``g`` (returned mod 2 pi).

    Conventions
    -----------
    Each corner of vertex i is a wedge between two neighbour directions. Projected to the frame's
    tangent plane the wedge spans the polar angles ``[phi_s, phi_e]`` and intrinsically
    ``[theta_s, theta_s + alpha~]``; the wedge containing ``e1`` (projected angle 0) maps it linearly:
    ``g_i = theta_s + alpha~ * (0 - phi_s) / (phi_e - phi_s)`` (smallest corner id if several). Where
    no wedge contains ``e1`` (at a boundary, or a folded fan) the nearest neighbour direction is used:
    ``g_i = theta_ij - phi_ij``. Unreferenced vertices: 0.
    """
    kind, fr = _as_gauge(mesh, frames)
    V = mesh.n_verts
    if kind == "intrinsic":
        return np.zeros(V)
    if kind == "angles":
        return np.mod(fr, _TWO_PI)
    fans = vertex_fans(mesh)
    cv = mesh.faces.reshape(-1)
    i, j = fans.edge_index
    d = mesh.verts[j] - mesh.verts[i]
    phi = np.arctan2(np.einsum("ij,ij->i", d, fr[i, 1]), np.einsum("ij,ij->i", d, fr[i, 0]))
    h = np.arange(len(cv))
    prev = h - h % 3 + (h + 2) % 3
    phi_s = phi[fans.corner_edge]
    phi_e = phi[fans.edge_reverse[fans.corner_edge[prev]]]
    span = np.mod(phi_e - phi_s, _TWO_PI)
    t0 = np.mod(-phi_s, _TWO_PI)
    inside = (span > 0) & (span < np.pi) & (t0 <= span)
    alpha = fans.scaled_angles.reshape(-1)
    g_corner = fans.corner_theta + alpha * np.where(inside, t0 / np.where(span > 0, span, 1.0), 0.0)

    g = np.zeros(V)
    found = np.zeros(V, dtype=bool)
    c_in = np.flatnonzero(inside)  # ascending: the smallest corner id of a vertex wins
    _assign_smallest_corner(g, found, cv[c_in], g_corner[c_in])
    miss = ~found & mesh.referenced
    if miss.any():
        # nearest start direction of any corner (closest projected angle to e1)
        c = np.flatnonzero(miss[cv])
        dist = np.abs(np.mod(phi_s[c] + np.pi, _TWO_PI) - np.pi)
        o = np.lexsort((c, dist, cv[c]))  # per vertex: smallest distance, then smallest corner id
        c = c[o]
        first = np.r_[True, cv[c][1:] != cv[c][:-1]]
        c = c[first]
        g[cv[c]] = fans.corner_theta[c] - phi_s[c]
    return np.mod(g, _TWO_PI)


def _one_ring(mesh: Mesh, g: np.ndarray):
    """(fans, r, theta) of the one-ring log map for per-vertex gauge offsets ``g``."""
    fans = vertex_fans(mesh)
    ei = fans.edge_index
    r = np.linalg.norm(mesh.verts[ei[1]] - mesh.verts[ei[0]], axis=1)
    theta = np.mod(fans.edge_theta - g[ei[0]], _TWO_PI)
    return fans, r, theta


@mesh_input
def one_ring_logmap(mesh: Mesh, frames=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polar coordinates of every one-ring neighbour in the vertex gauges.

    Parameters
    ----------
    mesh : Mesh (any: non-manifold and boundary vertices follow :mod:`.fans`' rules).
    frames : None / "intrinsic" | gauge name | (V, 3, 3) frames | (V,) gauge angles, see
        :func:`gauge_offsets`.

    Returns
    -------
    edge_index : (2, 2E) int64, directed edges (i, j) sorted by (i, j).
    r : (2E,) float64, edge lengths.
    theta : (2E,) float64 in [0, 2 pi), polar angle of j in i's gauge.
    """
    fans, r, theta = _one_ring(mesh, gauge_offsets(mesh, frames))
    return fans.edge_index.copy(), r, theta  # a writable copy: the cached array is read-only


@mesh_input
def two_ring_logmap(
    mesh: Mesh, frames=None, include_one_ring: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polar coordinates of two-ring vertices in the vertex gauges (a discrete exponential map).

    Every vertex k at graph distance 2 from i is reached through a neighbour j; it is placed at
    ``p_k = p_j + exp(1j rho_ij) log_j(k)`` in i's tangent plane (``p_j = r_ij exp(1j theta_ij)``,
    ``log_j(k) = r_jk exp(1j theta_jk)`` transported by the connection of
    :func:`~manifoldnet.geometry.transport.edge_transport`): the fan of j unfolded rigidly along the edge
    i-j. Of the candidates through different j, the one of the shortest path ``r_ij + r_jk`` is kept (ties:
    smallest j). Exact planar polar coordinates on a flat mesh.

    Parameters
    ----------
    mesh : Mesh
    frames : as in :func:`one_ring_logmap`.
    include_one_ring : also return the one-ring pairs (merged, sorted by (i, k)).

    Returns
    -------
    edge_index : (2, P) int64, pairs (i, k) sorted by (i, k); r : (P,) float64; theta : (P,) in [0, 2 pi).
    """
    fans, r1, th1 = _one_ring(mesh, gauge_offsets(mesh, frames))
    ei = fans.edge_index
    V = mesh.n_verts
    src, dst = ei
    indptr = np.searchsorted(src, np.arange(V + 1))
    deg = np.diff(indptr)
    # all paths i -> j -> k: for directed edge d = (i, j), every out-edge of j
    cnt = deg[dst]
    d1 = np.repeat(np.arange(len(src)), cnt)
    base = np.repeat(np.cumsum(cnt) - cnt, cnt)
    d2 = indptr[dst][d1] + (np.arange(len(d1)) - base)
    i, k = src[d1], dst[d2]
    keep = (k != i) & (edge_lookup(ei, V, i, k) < 0)
    d1, d2, i, k = d1[keep], d2[keep], i[keep], k[keep]
    rho = th1[d1] - th1[fans.edge_reverse[d1]] + np.pi
    pos = r1[d1] * np.exp(1j * th1[d1]) + r1[d2] * np.exp(1j * (th1[d2] + rho))
    path = r1[d1] + r1[d2]
    o = np.lexsort((dst[d1], path, k, i))
    i, k, pos = i[o], k[o], pos[o]
    first = np.r_[True, (i[1:] != i[:-1]) | (k[1:] != k[:-1])][: len(i)]  # no two-ring pair: empty
    i, k, pos = i[first], k[first], pos[first]
    r2, th2 = np.abs(pos), np.mod(np.angle(pos), _TWO_PI)
    if include_one_ring:
        i = np.concatenate([src, i])
        k = np.concatenate([dst, k])
        r2 = np.concatenate([r1, r2])
        th2 = np.concatenate([th1, th2])
        o = np.lexsort((k, i))
        i, k, r2, th2 = i[o], k[o], r2[o], th2[o]
    return np.stack([i, k]), r2, th2


def _check_cloud(points, edge_index, frames=None, normals=None):
    """Validate point-cloud inputs; returns (points (N, 3), edge_index (2, P) int64, frames (N, 3, 3)).

    ``frames`` default: :func:`~manifoldnet.geometry.frames.tangent_frames` of ``normals`` (world gauge)."""
    pts = np.asarray(points)
    if pts.dtype == object or pts.dtype.kind not in "fiu" or pts.ndim != 2 or pts.shape[1] != 3:
        raise MeshError(f"points must be a real array of shape (N, 3), got {pts.shape} {pts.dtype}")
    pts = pts.astype(np.float64)
    bad = ~np.isfinite(pts).all(axis=1)
    if bad.any():
        raise MeshError(f"points has non-finite coordinates; first at point {int(np.flatnonzero(bad)[0])}")
    N = len(pts)
    ei = np.asarray(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and ei.dtype.kind not in "iu"):
        raise MeshError(f"edge_index must be an integer array of shape (2, P), got {ei.shape} {ei.dtype}")
    ei = ei.astype(np.int64)
    if ei.size and (ei.min() < 0 or ei.max() >= N):
        k = int(np.flatnonzero(((ei < 0) | (ei >= N)).any(axis=0))[0])
        raise MeshError(f"edge_index column {k} = {ei[:, k].tolist()} is out of range for {N} points")
    if frames is None:
        if normals is None:
            raise MeshError("point clouds need frames (N, 3, 3) or normals (N, 3)")
        nrm = np.asarray(normals, dtype=np.float64)
        if nrm.shape != (N, 3):
            raise MeshError(f"normals must have shape ({N}, 3), got {nrm.shape}")
        return pts, ei, tangent_frames(nrm)
    fr = np.asarray(frames, dtype=np.float64)
    if fr.shape != (N, 3, 3):
        raise MeshError(f"frames must have shape ({N}, 3, 3) (rows e1, e2, n), got {fr.shape}")
    bad = ~np.isfinite(fr).reshape(N, -1).all(axis=1)
    if bad.any():
        raise MeshError(f"frames has non-finite entries; first at point {int(np.flatnonzero(bad)[0])}")
    return pts, ei, fr


def point_cloud_logmap(points, edge_index, frames=None, normals=None) -> tuple[np.ndarray, np.ndarray]:
    """Projection log map on a neighbour graph (point clouds): polar coordinates of ``p_j - p_i`` projected
    to i's tangent plane.

    Parameters
    ----------
    points : (N, 3) float; edge_index : (2, P) int, pairs (i, j);
    frames : (N, 3, 3) rows (e1, e2, n), or None with ``normals`` (N, 3) (world gauge frames).

    Returns
    -------
    r : (P,) float64, Euclidean distances ``|p_j - p_i|`` (as on meshes: edge lengths).
    theta : (P,) float64 in [0, 2 pi), angle of the projection in i's frame (0 where it vanishes).
    """
    pts, ei, fr = _check_cloud(points, edge_index, frames, normals)
    i, j = ei
    d = pts[j] - pts[i]
    theta = np.arctan2(np.einsum("ij,ij->i", d, fr[i, 1]), np.einsum("ij,ij->i", d, fr[i, 0]))
    return np.linalg.norm(d, axis=1), np.mod(theta, _TWO_PI)
