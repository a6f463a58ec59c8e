"""Discrete Levi-Civita connection: transport angles on directed edges, connection Laplacian, holonomy.

Conventions (DESIGN.md section 3)
---------------------------------
For a directed edge (i, j), a tangent vector ``z_j`` (complex, in j's gauge) transported to i is
``exp(1j * rho_ij) * z_j`` in i's gauge, with

    ``rho_ij = theta_ij - theta_ji + pi``   (wrapped to [-pi, pi))

from the one-ring log map (:mod:`.logmap`): the direction j -> i seen from j (``theta_ji``) becomes the
direction pointing away from j at i (``theta_ij + pi``). Hence ``rho_ji = -rho_ij`` and a gauge change
``g`` maps ``rho_ij -> rho_ij - g_i + g_j``.

Because corner angles are rescaled to sum to ``2 pi`` at regular interior vertices, transport around a
counter-clockwise triangle rotates by the curvature the connection assigns that triangle,
``sum over its corners of alpha * K_v / Theta_v`` (:func:`connection_face_curvature`; ``K_v = 0`` at
boundary and non-manifold vertices, which are not rescaled): all triangles of a closed mesh sum to
``2 pi chi`` and a flat region transports with no rotation beyond the gauge difference.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh
from .elements import corner_angles
from .fans import edge_lookup, edges_csr, vertex_fans
from .inputs import mesh_input
from .laplacian import cotan_laplacian
from .logmap import _check_cloud, _one_ring, gauge_offsets

__all__ = [
    "connection_face_curvature",
    "connection_laplacian",
    "edge_transport",
    "holonomy",
    "point_cloud_transport",
]

_TWO_PI = 2.0 * np.pi


def _wrap(a: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return np.mod(a + np.pi, _TWO_PI) - np.pi


@mesh_input
def edge_transport(mesh: Mesh, frames=None) -> tuple[np.ndarray, np.ndarray]:
    """Levi-Civita transport angle of every directed edge.

    Parameters
    ----------
    mesh : Mesh (any; see :mod:`.fans` for boundary and non-manifold vertices).
    frames : None / "intrinsic" | gauge name | (V, 3, 3) frames | (V,) gauge angles, as in
        :func:`~manifoldnet.geometry.logmap.one_ring_logmap`.

    Returns
    -------
    edge_index : (2, 2E) int64, directed edges (i, j) sorted by (i, j).
    rho : (2E,) float64 in [-pi, pi): ``z_i = exp(1j rho_ij) z_j``.
    """
    fans, _, theta = _one_ring(mesh, gauge_offsets(mesh, frames))
    rho = _wrap(theta - theta[fans.edge_reverse] + np.pi)
    return fans.edge_index.copy(), rho


@mesh_input
def connection_face_curvature(mesh: Mesh) -> np.ndarray:
    """(F,) float64: curvature the connection assigns each face, ``sum_corners alpha * K_v / Theta_v``.

    ``K_v = 2 pi - Theta_v`` at regular interior vertices and 0 elsewhere (:mod:`.fans`); on a closed
    mesh the faces sum to ``2 pi chi``.
    """
    fans = vertex_fans(mesh)
    f = mesh.faces
    th = fans.angle_sums
    ratio = np.where(th > 0, fans.defect / np.where(th > 0, th, 1.0), 0.0)
    alpha = corner_angles(mesh)
    return (alpha * ratio[f]).sum(axis=1)


@mesh_input
def connection_laplacian(mesh: Mesh, frames=None, laplacian=None, n: int = 1) -> sp.csr_matrix:
    """(V, V) complex128 CSR connection Laplacian (weak, Hermitian) in the vertex gauges.

    ``Lc[i, j] = -w_ij exp(1j n rho_ij)``, ``Lc[i, i] = sum_j w_ij`` with the cotangent weights
    ``w_ij = -L[i, j]`` of the scalar weak Laplacian, so
    ``z^H Lc z = sum_edges w_ij |z_i - e^{i n rho_ij} z_j|^2``: positive semi-definite when the weights are
    non-negative (Delaunay meshes), zero exactly on parallel fields. ``n > 1`` acts on n-direction fields
    stored as their n-th power (``z = u^n``).

    Parameters
    ----------
    mesh : Mesh
    frames : gauge, as in :func:`edge_transport`.
    laplacian : optional (V, V) weak scalar Laplacian to take the weights from; default
        :func:`manifoldnet.geometry.laplacian.cotan_laplacian`.
    n : symmetry order of the fields (1: vectors, 2: lines, 4: crosses), a positive integer.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise MeshError(f"n must be a positive integer, got {n!r}")
    if laplacian is None:
        laplacian = cotan_laplacian(mesh)
    L = sp.csr_matrix(laplacian)
    V = mesh.n_verts
    if L.shape != (V, V):
        raise MeshError(f"laplacian must have shape ({V}, {V}), got {L.shape}")
    ei, rho = edge_transport(mesh, frames)
    coo = L.tocoo()
    off = coo.row != coo.col
    pos = edge_lookup(ei, V, coo.row[off], coo.col[off])
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise MeshError(
            f"laplacian has an entry ({coo.row[off][k]}, {coo.col[off][k]}) that is not a mesh edge"
        )
    w = -np.bincount(pos, weights=coo.data[off], minlength=len(rho))
    diag = np.bincount(ei[0], weights=w, minlength=V)
    return edges_csr(ei, -w * np.exp(1j * int(n) * rho), diag.astype(np.complex128))


@mesh_input
def holonomy(mesh: Mesh, path) -> float:
    """Rotation angle in [-pi, pi) of a vector transported once around a closed edge path.

    Parameters
    ----------
    mesh : Mesh
    path : (P,) vertex indices ``v0, v1, ..., v_{P-1}`` with consecutive vertices joined by edges; the path
        is closed by the edge ``v_{P-1} -> v0`` unless ``v_{P-1} == v0``.

    Returns
    -------
    The angle ``sum_m rho_{v_{m+1} v_m}`` wrapped to [-pi, pi): counter-clockwise positive, independent
    of the gauge. A counter-clockwise loop around a region encloses its connection curvature (mod 2 pi).
    """
    p = np.asarray(path)
    if p.ndim != 1 or p.size < 2 or p.dtype.kind not in "iu":
        raise MeshError(f"path must be a 1-D integer array of at least 2 vertices, got {p!r}")
    p = p.astype(np.int64)
    V = mesh.n_verts
    if p.min() < 0 or p.max() >= V:
        k = int(np.flatnonzero((p < 0) | (p >= V))[0])
        raise MeshError(f"path[{k}] = {p[k]} is not a vertex index of a mesh with {V} vertices")
    if p[-1] != p[0]:
        p = np.r_[p, p[0]]
    ei, rho = edge_transport(mesh)
    d = edge_lookup(ei, V, p[1:], p[:-1])  # transport from v_m to v_{m+1}: rho_{v_{m+1} v_m}
    if (d < 0).any():
        k = int(np.flatnonzero(d < 0)[0])
        raise MeshError(f"path step {k}: ({p[k]}, {p[k + 1]}) is not an edge of the mesh")
    return float(_wrap(rho[d].sum()))


def point_cloud_transport(points, normals, edge_index, frames=None) -> np.ndarray:
    """Projection ("spherical") approximation of transport on a neighbour graph (point clouds).

    The vector at j is carried to i by the smallest rotation taking ``n_j`` to ``n_i`` (Rodrigues);
    ``rho_ij`` is the angle of the rotated ``e1_j`` in i's frame, with the same convention as
    :func:`edge_transport` (``z_i = exp(1j rho_ij) z_j``). Antipodal normals: rotation by pi about
    ``e1_j`` (documented choice; the minimal rotation is not unique there).

    Parameters
    ----------
    points : (N, 3) float; normals : (N, 3) float, non-zero (unused when ``frames`` is given: the
        frames' ``n`` rows are the normals); edge_index : (2, P) int, pairs (i, j).
    frames : (N, 3, 3) right-handed frames (rows e1, e2, n), default
        :func:`~manifoldnet.geometry.frames.tangent_frames` of the normals (world gauge).

    Returns
    -------
    rho : (P,) float64 in [-pi, pi).
    """
    _, ei, fr = _check_cloud(points, edge_index, frames, normals)
    i, j = ei
    a, b = fr[j, 2], fr[i, 2]  # n_j -> n_i
    x = fr[j, 0]
    v = np.cross(a, b)
    c = np.einsum("ij,ij->i", a, b)
    anti = c <= -1.0 + 1e-12
    denom = np.where(anti, 1.0, 1.0 + c)
    rx = x * c[:, None] + np.cross(v, x) + v * (np.einsum("ij,ij->i", v, x) / denom)[:, None]
    rx[anti] = x[anti]
    ang = np.arctan2(np.einsum("ij,ij->i", rx, fr[i, 1]), np.einsum("ij,ij->i", rx, fr[i, 0]))
    return _wrap(ang)
