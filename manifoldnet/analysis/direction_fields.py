"""Smoothest n-direction fields, their singularities, and parallel transport along an edge path.

An n-direction field (n = 1: a unit vector field; n = 2: a line field; n = 4: a cross field) is stored per
vertex by its n-th power ``u = z^n`` (complex, in the vertex gauge), which is the same for the n directions
``z * exp(2 pi i k / n)``. Transport acts on ``u`` by ``exp(1j * n * rho_ij)``, so the smoothest field is the
smallest eigenvector of the n-connection Laplacian ``Lc_n`` (``Lc_n[i, j] = -w_ij exp(1j n rho_ij)``,
``w_ij`` the cotangent weights) against the lumped mass (Knöppel et al. 2013, "globally optimal direction
fields", without the curvature-alignment term).

Index of a face (i, j, k) (counter-clockwise): each step a -> b of its boundary contributes the angle
``delta_ab = arg(u_b * conj(exp(1j n rho_ba) u_a))`` in (-pi, pi] by which ``u`` turns relative to parallel
transport; ``(sum delta + n * Omega_f) / (2 pi)`` is an integer (``Omega_f`` the connection curvature of the
face, :func:`~manifoldnet.geometry.transport.connection_face_curvature`): the index in units of ``1/n``.
The deltas cancel in pairs across interior edges, so on a closed mesh the indices sum to ``n * chi``
(Poincaré-Hopf): ``2 n`` on a sphere.

Conventions
-----------
Transport as in :mod:`manifoldnet.geometry.transport`: ``z_i = exp(1j rho_ij) z_j``. ``frames`` selects the
gauge exactly as there (default the intrinsic gauge); pass the same ``frames`` to the viewer to draw the
field. Faces must be consistently oriented (counter-clockwise about the outward normal) for the signs.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ..errors import MeshError
from ..geometry.fans import edge_lookup
from ..geometry.inputs import mesh_input
from ..geometry.laplacian import mass_matrix
from ..geometry.spectral import eigenbasis
from ..geometry.transport import connection_face_curvature, connection_laplacian, edge_transport
from ..mesh import Mesh

__all__ = [
    "n_connection_laplacian",
    "power_to_directions",
    "shortest_edge_path",
    "singularity_indices",
    "smoothest_direction_field",
    "transport_along_path",
]


def _check_n(n) -> int:
    if int(n) != n or n < 1:
        raise MeshError(f"n (directions per vertex) must be a positive integer, got {n}")
    return int(n)


@mesh_input
def n_connection_laplacian(mesh: Mesh, n: int = 1, *, frames=None, laplacian=None) -> sp.csr_matrix:
    """(V, V) complex128 Hermitian CSR: ``u^H Lc_n u = sum_edges w_ij |u_i - exp(1j n rho_ij) u_j|^2``.

    :func:`~manifoldnet.geometry.transport.connection_laplacian` with symmetry order ``n``.
    """
    return connection_laplacian(mesh, frames, laplacian, n=_check_n(n))


@mesh_input
def smoothest_direction_field(mesh: Mesh, n: int = 1, *, frames=None, laplacian=None, mass=None):
    """The smoothest n-direction field: ``(power (V,) complex, energy float)``.

    power : ``u = z^n`` per vertex, unit modulus (0 where the eigenvector vanishes exactly), in the gauge
    ``frames``. energy : the Rayleigh quotient ``u^H Lc_n u / u^H M u`` of the unnormalised eigenvector (0
    only for a field parallel everywhere, e.g. on a flat torus). Solved with
    :func:`~manifoldnet.geometry.spectral.eigenbasis` on the real 2V x 2V form of the Hermitian problem.
    """
    n = _check_n(n)
    Lc = n_connection_laplacian(mesh, n, frames=frames, laplacian=laplacian)
    if mass is None:
        mass = mass_matrix(mesh, "lumped")
    M = sp.csr_matrix(mass)
    V = mesh.n_verts
    A, B = Lc.real.tocsr(), Lc.imag.tocsr()
    Lr = sp.bmat([[A, -B], [B, A]], format="csr")
    Mr = sp.block_diag([M, M], format="csr")
    evals, evecs = eigenbasis(Lr, Mr, 2)
    x = evecs[:, 0]
    u = x[:V] + 1j * x[V:]
    mod = np.abs(u)
    power = np.where(mod > 0, u / np.where(mod > 0, mod, 1.0), 0.0)
    return power, float(evals[0])


def power_to_directions(power, n: int) -> np.ndarray:
    """(V, n) complex unit directions ``z_k = u^(1/n) exp(2 pi i k / n)`` of a field
    given by its power ``u``."""
    n = _check_n(n)
    u = np.asarray(power)
    if u.ndim != 1:
        raise MeshError(f"power must be (V,) complex, got shape {u.shape}")
    base = np.exp(1j * np.angle(u) / n) * (np.abs(u) > 0)
    return base[:, None] * np.exp(2j * np.pi * np.arange(n) / n)[None, :]


@mesh_input
def singularity_indices(mesh: Mesh, power, n: int, *, frames=None) -> np.ndarray:
    """(F,) int64 index of each face in units of ``1/n`` (module docstring); 0 on regular faces.

    ``power`` must be non-zero at every referenced vertex (a zero makes the index undefined).
    """
    n = _check_n(n)
    u = np.asarray(power, dtype=np.complex128)
    V = mesh.n_verts
    if u.shape != (V,):
        raise MeshError(f"power must be (V,) = ({V},) complex, got shape {u.shape}")
    if not np.isfinite(u).all():
        raise MeshError("power has non-finite values")
    f = mesh.faces
    zero = np.abs(u[f.reshape(-1)]) == 0
    if zero.any():
        v = int(f.reshape(-1)[np.flatnonzero(zero)[0]])
        raise MeshError(f"power vanishes at vertex {v}: the index of its faces is undefined")
    ei, rho = edge_transport(mesh, frames)
    a = f.reshape(-1)
    b = np.roll(f, -1, axis=1).reshape(-1)
    pos = edge_lookup(ei, V, b, a)  # rho_ba: transport a -> b
    if (pos < 0).any():
        raise MeshError("a face edge is missing from the edge transport (non-manifold input?)")
    delta = np.angle(u[b] * np.conj(np.exp(1j * n * rho[pos]) * u[a])).reshape(-1, 3).sum(axis=1)
    omega = connection_face_curvature(mesh)
    idx = (delta + n * omega) / (2.0 * np.pi)
    return np.rint(idx).astype(np.int64)


@mesh_input
def shortest_edge_path(mesh: Mesh, source: int, target: int) -> np.ndarray:
    """(P,) int64 vertices of a shortest path along mesh edges (Dijkstra on edge lengths), source first."""
    V = mesh.n_verts
    for name, v in (("source", source), ("target", target)):
        if int(v) != v or not 0 <= v < V:
            raise MeshError(f"{name} = {v} is not a vertex index of a mesh with {V} vertices")
    e, le = mesh.edges, mesh.edge_lengths
    G = sp.csr_matrix((np.r_[le, le], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(V, V))
    dist, pred = dijkstra(G, directed=False, indices=int(source), return_predecessors=True)
    if not np.isfinite(dist[int(target)]):
        raise MeshError(f"vertex {target} is not reachable from vertex {source} (different components)")
    path = [int(target)]
    while path[-1] != int(source):  # walks the path only (length P), not the mesh
        path.append(int(pred[path[-1]]))
    return np.asarray(path[::-1], dtype=np.int64)


@mesh_input
def transport_along_path(mesh: Mesh, path, vector=1.0 + 0.0j, *, frames=None) -> np.ndarray:
    """(P,) complex: ``vector`` (in the gauge of ``path[0]``) parallel-transported along the edge path.

    Entry m is the vector at ``path[m]`` in that vertex's gauge: ``z_{m+1} = exp(1j rho_{v_{m+1} v_m}) z_m``
    (a prefix product of the edge transports). For a closed path (``path[-1] == path[0]``) the last entry is
    ``exp(1j * holonomy) * vector``.
    """
    p = np.asarray(path)
    if p.ndim != 1 or p.size < 1 or p.dtype.kind not in "iu":
        raise MeshError(f"path must be a non-empty 1-D integer array of vertices, got {p.dtype} {p.shape}")
    V = mesh.n_verts
    bad = (p < 0) | (p >= V)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise MeshError(f"path[{k}] = {p[k]} is not a vertex index of a mesh with {V} vertices")
    z0 = complex(vector)
    if not np.isfinite(z0):
        raise MeshError(f"vector must be a finite complex number, got {vector}")
    if p.size == 1:
        return np.array([z0])
    ei, rho = edge_transport(mesh, frames)
    pos = edge_lookup(ei, V, p[1:], p[:-1])
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise MeshError(f"path step {k}: ({p[k]}, {p[k + 1]}) is not an edge of the mesh")
    angles = np.r_[0.0, np.cumsum(rho[pos])]
    return z0 * np.exp(1j * angles)
