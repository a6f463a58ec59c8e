"""Smoothest n-direction fields, singularity indices, transport along paths
(manifoldnet.analysis.direction_fields)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import MeshError, shapes
from manifoldnet.analysis import (
    n_connection_laplacian,
    power_to_directions,
    shortest_edge_path,
    singularity_indices,
    smoothest_direction_field,
    transport_along_path,
)
from manifoldnet.geometry.frames import vertex_frames
from manifoldnet.geometry.transport import connection_face_curvature, connection_laplacian, holonomy


def _wrap(a):
    return np.mod(np.asarray(a) + np.pi, 2 * np.pi) - np.pi


def test_n1_is_the_connection_laplacian_and_hermitian_psd():
    mesh = shapes.icosphere(2)
    A = n_connection_laplacian(mesh, 1)
    assert abs(A - connection_laplacian(mesh)).max() < 1e-14
    L4 = n_connection_laplacian(mesh, 4).toarray()
    assert_allclose(L4, L4.conj().T, atol=1e-14)
    assert np.linalg.eigvalsh(L4).min() > -1e-10  # Delaunay icosphere: non-negative weights


@pytest.mark.parametrize("n", [1, 2, 4])
def test_sphere_index_sum_is_n_chi(n):
    mesh = shapes.icosphere(3)
    u, energy = smoothest_direction_field(mesh, n)
    assert_allclose(np.abs(u), 1.0)
    assert energy > 0  # no parallel field on a sphere
    idx = singularity_indices(mesh, u, n)
    assert idx.sum() == 2 * n  # sum of 1/n-indices = chi = 2
    # the smoothest field has only positive singularities of the smallest index: 2n of index 1/n
    assert_array_equal(np.sort(idx[idx != 0]), np.ones(2 * n, dtype=int))


def test_index_sum_on_irregular_sphere_and_torus():
    mesh = shapes.noisy_sphere(3, 0.1, 2)
    u, _ = smoothest_direction_field(mesh, 1)
    assert singularity_indices(mesh, u, 1).sum() == 2
    torus = shapes.torus(n_major=24, n_minor=12)
    u, _ = smoothest_direction_field(torus, 1)
    assert singularity_indices(torus, u, 1).sum() == 0


def test_indices_do_not_depend_on_the_gauge():
    mesh = shapes.icosphere(2)
    u, _ = smoothest_direction_field(mesh, 1)
    # the same field expressed in the world-axis gauge: z -> exp(-1j g) z with g the gauge change
    fw = vertex_frames(mesh, "world")
    fi = vertex_frames(mesh, "intrinsic")
    e1 = fi[:, 0]
    g = np.arctan2(np.einsum("ij,ij->i", e1, fw[:, 1]), np.einsum("ij,ij->i", e1, fw[:, 0]))
    u_world = u * np.exp(1j * g)
    assert_array_equal(singularity_indices(mesh, u_world, 1, frames=fw), singularity_indices(mesh, u, 1))


def test_field_is_smooth_away_from_singularities():
    # on a sphere the field turns slowly relative to transport: |delta| per edge is small
    mesh = shapes.icosphere(3)
    from manifoldnet.geometry.transport import edge_transport

    u, _ = smoothest_direction_field(mesh, 1)
    ei, rho = edge_transport(mesh)
    turn = np.abs(np.angle(u[ei[0]] * np.conj(np.exp(1j * rho) * u[ei[1]])))
    assert np.median(turn) < 0.1


def test_power_to_directions():
    u = np.exp(1j * np.array([0.0, np.pi, 2.0]))
    d = power_to_directions(u, 4)
    assert_allclose(d**4, np.repeat(u[:, None], 4, axis=1), atol=1e-12)
    assert_allclose(np.abs(d), 1.0)


def test_transport_around_closed_path_is_holonomy():
    mesh = shapes.noisy_sphere(2, 0.1, 1)
    a = shortest_edge_path(mesh, 0, 100)
    b = shortest_edge_path(mesh, 100, 130)
    c = shortest_edge_path(mesh, 130, 0)
    loop = np.r_[a, b[1:], c[1:]]
    z = transport_along_path(mesh, loop, 0.3 - 0.7j)
    assert_allclose(np.abs(z), np.hypot(0.3, 0.7))
    assert_allclose(_wrap(np.angle(z[-1] / z[0])), holonomy(mesh, loop[:-1]), atol=1e-12)


def test_transport_around_each_face_is_its_curvature():
    mesh = shapes.noisy_sphere(2, 0.1, 4)
    omega = connection_face_curvature(mesh)
    for f in range(0, mesh.n_faces, 37):
        loop = np.r_[mesh.faces[f], mesh.faces[f, 0]]
        z = transport_along_path(mesh, loop)
        assert_allclose(_wrap(np.angle(z[-1])), _wrap(omega[f]), atol=1e-12)
    assert_allclose(omega.sum(), 4 * np.pi, rtol=1e-10)


def test_transport_on_flat_disk_keeps_the_world_vector():
    mesh = shapes.flat_disk(6)
    frames = vertex_frames(mesh, "intrinsic")
    path = shortest_edge_path(mesh, 0, mesh.n_verts - 1)
    z = transport_along_path(mesh, path, 1j)
    world = z.real[:, None] * frames[path, 0] + z.imag[:, None] * frames[path, 1]
    assert_allclose(world, np.repeat(world[:1], len(path), axis=0), atol=1e-12)


def test_shortest_edge_path_is_shortest():
    mesh = shapes.icosphere(2)
    p = shortest_edge_path(mesh, 3, 77)
    assert p[0] == 3 and p[-1] == 77
    from scipy.sparse.csgraph import dijkstra

    e = mesh.edges
    W = np.zeros((mesh.n_verts, mesh.n_verts))
    W[e[:, 0], e[:, 1]] = W[e[:, 1], e[:, 0]] = mesh.edge_lengths
    d = dijkstra(W, indices=3)[77]
    assert_allclose(np.linalg.norm(np.diff(mesh.verts[p], axis=0), axis=1).sum(), d, rtol=1e-12)


def test_direction_field_validators():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="positive integer"):
        smoothest_direction_field(mesh, 0)
    with pytest.raises(MeshError, match="vanishes at vertex 2"):
        u = np.ones(mesh.n_verts, dtype=complex)
        u[2] = 0
        singularity_indices(mesh, u, 1)
    with pytest.raises(MeshError, match="power must be"):
        singularity_indices(mesh, np.ones(3), 1)
    with pytest.raises(MeshError, match="not an edge"):
        transport_along_path(mesh, np.array([0, 0]))
    with pytest.raises(MeshError, match="not a vertex index"):
        transport_along_path(mesh, np.array([0, 99]))
    with pytest.raises(MeshError, match="not reachable"):
        two = shapes.two_spheres(1)
        shortest_edge_path(two, 0, two.n_verts - 1)
