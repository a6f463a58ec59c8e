"""Discrete curvatures: angle-defect Gaussian curvature, mean curvature, principal curvatures and directions.

Conventions
-----------
Normals are :func:`~manifoldnet.geometry.frames.vertex_normals` (angle-weighted). Curvatures are signed so
that a convex surface with outward normals (a sphere of radius r, normals pointing away from the centre) has
positive principal and mean curvature ``1 / r``; flipping the orientation flips the sign of ``H``, ``k1``,
``k2`` (not of ``K``). ``k1 >= k2``; ``H = (k1 + k2) / 2`` in the limit.

Gaussian curvature is *integrated* (an angle defect per vertex; divide by a vertex area for a pointwise
value): ``2 pi - Theta_v`` at interior vertices and ``pi - Theta_v`` at boundary vertices (the
geodesic-curvature convention: the turning angle of the boundary), so that the discrete Gauss-Bonnet theorem
``sum_v K_v = 2 pi chi`` holds exactly on every manifold mesh, with or without boundary. Unreferenced
vertices get 0. At non-manifold vertices the interior formula is used (no theorem applies there).
"""

from __future__ import annotations

import numpy as np

from ..mesh import Mesh
from .elements import vertex_angle_sums
from .inputs import mesh_input
from .laplacian import cotan_laplacian, mass_matrix
from .normals import tangent_frames, vertex_normals

__all__ = ["gaussian_curvature", "mean_curvature", "principal_curvatures"]


@mesh_input
def boundary_vertex_mask(mesh: Mesh) -> np.ndarray:
    """(V,) bool: vertices on at least one boundary edge (an edge with exactly one face)."""
    mask = np.zeros(mesh.n_verts, dtype=bool)
    mask[mesh.edges[mesh.boundary_edges].reshape(-1)] = True
    return mask


@mesh_input
def gaussian_curvature(mesh: Mesh, *, integrated: bool = True) -> np.ndarray:
    """(V,) float64 angle-defect Gaussian curvature (module docstring for the boundary convention).

    With ``integrated=False`` the defect is divided by the mixed Voronoi vertex area (Meyer et al. 2003).
    """
    theta = vertex_angle_sums(mesh)
    full = np.where(boundary_vertex_mask(mesh), np.pi, 2.0 * np.pi)
    K = np.where(mesh.referenced, full - theta, 0.0)
    if integrated:
        return K
    return K / mass_matrix(mesh, "voronoi").diagonal()


@mesh_input
def mean_curvature(mesh: Mesh, *, mass: str = "voronoi") -> np.ndarray:
    """(V,) float64 pointwise mean curvature ``H = <M^-1 L x, n> / 2`` (the mean-curvature normal
    ``-Delta x = 2 H n`` of the cotan Laplacian of positions, signed by the vertex normals).

    At boundary vertices ``L x`` also holds the boundary's in-surface curvature; its normal component is
    returned (exact for planar and cylindrical boundaries, approximate otherwise). Unreferenced vertices: 0.
    """
    Lx = cotan_laplacian(mesh) @ mesh.verts
    m = mass_matrix(mesh, mass)
    Lx /= m.diagonal()[:, None] if mass != "galerkin" else np.asarray(m.sum(axis=1))
    H = 0.5 * np.einsum("ij,ij->i", Lx, vertex_normals(mesh))
    return np.where(mesh.referenced, H, 0.0)


@mesh_input
def principal_curvatures(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Principal curvatures and directions from a per-vertex least-squares shape operator.

    At each vertex i the 2x2 symmetric shape operator S (in a tangent frame of the vertex normal) is fitted to
    the one-ring: ``S d_ij ~ m_ij`` with ``d_ij`` and ``m_ij`` the tangent-plane components of ``x_j - x_i``
    and ``n_j - n_i``, each edge weighted by ``1 / |d_ij|^2``; all vertices are solved at once as a batch of
    3x3 normal equations. Exact on spheres and cylinders whose vertex normals are exact.

    Returns
    -------
    k1, k2 : (V,) float64, ``k1 >= k2``; d1, d2 : (V, 3) unit principal directions (tangent, orthogonal,
    sign arbitrary). Unreferenced vertices: 0 curvatures and the axes of their default frame. A vertex whose
    one-ring spans a single direction gets the least-squares solution of minimum norm in the other.
    """
    n = vertex_normals(mesh)
    frames = tangent_frames(n)  # (V, 3, 3) rows e1, e2, n
    e = mesh.edges
    i = np.r_[e[:, 0], e[:, 1]]
    j = np.r_[e[:, 1], e[:, 0]]
    dx = mesh.verts[j] - mesh.verts[i]
    dn = n[j] - n[i]
    t1, t2 = frames[i, 0], frames[i, 1]
    u, v = np.einsum("ij,ij->i", dx, t1), np.einsum("ij,ij->i", dx, t2)
    mu, mv = np.einsum("ij,ij->i", dn, t1), np.einsum("ij,ij->i", dn, t2)
    d2 = u * u + v * v
    w = np.where(d2 > 0, 1.0 / np.where(d2 > 0, d2, 1.0), 0.0)
    # unknowns s = (a, b, c), S = [[a, b], [b, c]]: rows (u, v, 0) -> mu and (0, u, v) -> mv
    V = mesh.n_verts
    rows = np.stack(
        [
            np.stack([u, v, np.zeros_like(u)], axis=1),
            np.stack([np.zeros_like(u), u, v], axis=1),
        ],
        axis=1,
    )  # (2E', 2, 3)
    rhs = np.stack([mu, mv], axis=1)  # (2E', 2)
    ata = np.einsum("eki,ekj,e->eij", rows, rows, w).reshape(-1, 9)
    atb = np.einsum("eki,ek,e->ei", rows, rhs, w)
    A = np.stack([np.bincount(i, weights=ata[:, c], minlength=V) for c in range(9)], axis=1).reshape(V, 3, 3)
    b = np.stack([np.bincount(i, weights=atb[:, c], minlength=V) for c in range(3)], axis=1)
    # minimum-norm least squares through a batched symmetric eigendecomposition (rank-safe)
    g, U = np.linalg.eigh(A)
    gmax = g.max(axis=1, keepdims=True)
    inv = np.where(g > 1e-10 * gmax, 1.0 / np.where(g > 1e-10 * gmax, g, 1.0), 0.0)
    s = np.einsum("vij,vj,vkj,vk->vi", U, inv, U, b)
    S = np.stack([s[:, [0, 1]], s[:, [1, 2]]], axis=1)  # (V, 2, 2)
    kap, vec = np.linalg.eigh(S)  # ascending
    k2, k1 = kap[:, 0], kap[:, 1]
    d1 = vec[:, 0, 1, None] * frames[:, 0] + vec[:, 1, 1, None] * frames[:, 1]
    d2v = vec[:, 0, 0, None] * frames[:, 0] + vec[:, 1, 0, None] * frames[:, 1]
    unref = ~mesh.referenced
    k1, k2 = np.where(unref, 0.0, k1), np.where(unref, 0.0, k2)
    d1[unref], d2v[unref] = frames[unref, 0], frames[unref, 1]
    return k1, k2, d1, d2v
