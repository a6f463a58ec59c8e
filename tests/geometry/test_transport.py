"""Discrete Levi-Civita connection: holonomy = curvature (per triangle, Gauss-Bonnet, around a vertex),
flat transport, gauge-change law, connection Laplacian, invariances, point-cloud transport, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.fans import edge_lookup, vertex_fans
from manifoldnet.geometry.frames import vertex_frames, vertex_normals
from manifoldnet.geometry.laplacian import cotan_laplacian
from manifoldnet.geometry.transport import (
    connection_face_curvature,
    connection_laplacian,
    edge_transport,
    holonomy,
    point_cloud_transport,
)

TWO_PI = 2 * np.pi


def wrap(a):
    return np.mod(np.asarray(a) + np.pi, TWO_PI) - np.pi


def triangle_holonomies(mesh, rho, ei):
    """Rotation after transporting around every face f0 -> f1 -> f2 -> f0 (ccw)."""
    f = mesh.faces
    tot = 0.0
    for a, b in ((0, 1), (1, 2), (2, 0)):
        tot = tot + rho[edge_lookup(ei, mesh.n_verts, f[:, b], f[:, a])]
    return tot


CLOSED = {
    "icosphere": lambda: shapes.icosphere(2),
    "noisy_sphere": lambda: shapes.noisy_sphere(2, 0.2, seed=4),
    "ellipsoid": lambda: shapes.ellipsoid(1.0, 0.6, 0.3, 2),
    "torus": lambda: shapes.torus(n_major=24, n_minor=10),
    "genus2": lambda: shapes.genus2(1),
    "two_spheres": lambda: shapes.two_spheres(1),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_triangle_holonomy_is_connection_curvature_and_gauss_bonnet(name):
    mesh = CLOSED[name]()
    K = connection_face_curvature(mesh)
    for gauge in (None, "world"):
        ei, rho = edge_transport(mesh, gauge)
        assert_allclose(wrap(triangle_holonomies(mesh, rho, ei) - K), 0, atol=1e-10)
    assert_allclose(K.sum(), TWO_PI * mesh.euler_characteristic, atol=1e-10)
    assert_allclose(vertex_fans(mesh).defect.sum(), K.sum(), atol=1e-10)


def test_holonomy_with_boundary_counts_interior_defects_only():
    mesh = shapes.flat_disk(4)
    v = mesh.verts.copy()
    v[:, 2] = 0.3 * np.exp(-4 * (v[:, 0] ** 2 + v[:, 1] ** 2))  # a bump: curved interior, boundary at z~0
    bump = Mesh(v, mesh.faces)
    fans = vertex_fans(bump)
    K = connection_face_curvature(bump)
    ei, rho = edge_transport(bump)
    assert_allclose(wrap(triangle_holonomies(bump, rho, ei) - K), 0, atol=1e-10)
    assert_allclose(K.sum(), fans.defect[fans.regular].sum(), atol=1e-12)
    assert (fans.defect[~fans.regular] == 0).all()


def test_holonomy_around_a_vertex_is_its_angle_defect():
    # a cone fan: apex 0 with a boundary link; boundary vertices carry no curvature, so the link loop
    # encloses exactly the apex's defect
    n = 7
    ang = TWO_PI * np.arange(n) / n
    verts = np.vstack([[0, 0, 0.8], np.stack([np.cos(ang), np.sin(ang), np.zeros(n)], 1)])
    faces = np.stack([np.zeros(n, np.int64), 1 + np.arange(n), 1 + (np.arange(n) + 1) % n], 1)
    cone = Mesh(verts, faces)
    fans = vertex_fans(cone)
    assert fans.regular[0] and fans.defect[0] > 0.5
    assert_allclose(wrap(holonomy(cone, 1 + np.arange(n)) - fans.defect[0]), 0, atol=1e-12)
    # on a closed mesh the link loop of v encloses the curvature of v's fan faces
    mesh = shapes.noisy_sphere(2, 0.2, seed=9)
    K = connection_face_curvature(mesh)
    fans = vertex_fans(mesh)
    for v in (0, 17, 101):
        c = np.flatnonzero(mesh.faces.reshape(-1) == v)
        # link in ccw order: the start directions of v's corners, walked along the fan
        c0 = fans.reference[v]
        link, cc = [], c0
        for _ in range(len(c)):
            t, k = divmod(cc, 3)
            link.append(mesh.faces[t, (k + 1) % 3])
            cc = fans.next_corner[cc]
        enclosed = K[c // 3].sum()
        assert_allclose(wrap(holonomy(mesh, np.array(link)) - enclosed), 0, atol=1e-10)
        # and the path reversed gives the opposite rotation
        assert_allclose(wrap(holonomy(mesh, np.array(link[::-1])) + enclosed), 0, atol=1e-10)


def test_flat_transport_only_undoes_the_gauge_difference():
    for mesh in (shapes.flat_disk(5), shapes.open_cylinder(n_around=12, n_height=5)):
        fans = vertex_fans(mesh)
        ei, rho_w = edge_transport(mesh, "world")
        if np.ptp(mesh.verts[:, 2]) == 0:  # planar: world frames are parallel, transport is the identity
            assert_allclose(wrap(rho_w), 0, atol=1e-12)
        # any gauge: rho = g_j - g_i for the gauge angles (exactly path independent, zero holonomy)
        g = np.random.default_rng(0).uniform(0, TWO_PI, mesh.n_verts)
        ei, rho = edge_transport(mesh, g)
        _, rho0 = edge_transport(mesh)
        assert_allclose(wrap(rho - rho0 - (-g[ei[0]] + g[ei[1]])), 0, atol=1e-11)
        assert_allclose(connection_face_curvature(mesh), 0, atol=1e-12)
        assert fans.regular.sum() > 0


def test_flat_disk_intrinsic_transport_is_reference_angle_difference():
    mesh = shapes.flat_disk(4)
    fans = vertex_fans(mesh)
    he = mesh.halfedges[fans.reference]
    d = mesh.verts[he[:, 1]] - mesh.verts[he[:, 0]]
    a = np.arctan2(d[:, 1], d[:, 0])  # planar angle of each vertex's intrinsic e1
    ei, rho = edge_transport(mesh)
    assert_allclose(wrap(rho - (a[ei[1]] - a[ei[0]])), 0, atol=1e-12)


def test_gauge_change_law_and_antisymmetry():
    mesh = shapes.noisy_sphere(2, 0.2, seed=6)
    rng = np.random.default_rng(3)
    g0 = rng.uniform(0, TWO_PI, mesh.n_verts)
    delta = rng.uniform(-20, 20, mesh.n_verts)
    ei, rho0 = edge_transport(mesh, g0)
    _, rho1 = edge_transport(mesh, g0 + delta)
    assert_allclose(wrap(rho1 - (rho0 - delta[ei[0]] + delta[ei[1]])), 0, atol=1e-11)
    rev = vertex_fans(mesh).edge_reverse
    assert_allclose(wrap(rho0 + rho0[rev]), 0, atol=1e-12)
    assert ((rho0 >= -np.pi) & (rho0 < np.pi)).all()
    # a field transported along an edge and back returns unchanged; complex form z_i = e^{i rho} z_j
    z = np.exp(1j * rho0) * np.exp(1j * rho0[rev])
    assert_allclose(z, 1, atol=1e-12)


def test_connection_laplacian_hermitian_psd_and_kernel():
    sphere = shapes.icosphere(2)
    Lc = connection_laplacian(sphere)
    A = Lc.toarray()
    assert Lc.dtype == np.complex128 and sp.issparse(Lc)
    assert_allclose(A, A.conj().T, atol=1e-14)
    ev = np.linalg.eigvalsh(A)
    assert ev[0] > 1e-2  # no parallel field on a sphere (unit sphere: ~0.076 at this resolution)
    # real part with zero transport: the scalar Laplacian
    L = cotan_laplacian(sphere).toarray()
    assert_allclose(np.abs(A), np.abs(L), atol=1e-12)
    assert_allclose(np.diag(A).real, np.diag(L), rtol=1e-14)
    # gauge change is a unitary similarity: same spectrum
    g = np.random.default_rng(1).uniform(0, TWO_PI, sphere.n_verts)
    A2 = connection_laplacian(sphere, g).toarray()
    U = np.diag(np.exp(-1j * g))
    assert_allclose(A2, U @ A @ U.conj().T, atol=1e-12)
    # flat meshes (planar disk, intrinsically flat cylinder): the parallel field spans the kernel
    for flat in (shapes.flat_disk(4), shapes.open_cylinder(n_around=10, n_height=4)):
        g = np.random.default_rng(2).uniform(0, TWO_PI, flat.n_verts)
        Af = connection_laplacian(flat, g).toarray()
        ev, vec = np.linalg.eigh(Af)
        assert abs(ev[0]) < 1e-12 and ev[1] > 1e-3
        z = vec[:, 0]  # a parallel field: constant length, z_i = e^{i rho_ij} z_j on every edge
        assert_allclose(np.abs(z), 1 / np.sqrt(flat.n_verts), rtol=1e-9)
        ei, rho = edge_transport(flat, g)
        assert_allclose(z[ei[0]], np.exp(1j * rho) * z[ei[1]], atol=1e-9)


def test_invariance_under_rigid_motion_permutation_and_scale():
    mesh = shapes.noisy_sphere(2, 0.2, seed=8)
    ei, rho = edge_transport(mesh)
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q *= np.sign(np.linalg.det(Q))
    perm = rng.permutation(mesh.n_verts)
    verts = np.empty_like(mesh.verts)
    verts[perm] = mesh.verts @ Q.T - 3.0
    ej, rj = edge_transport(Mesh(verts, perm[mesh.faces]))
    key = perm[ei[0]] * mesh.n_verts + perm[ei[1]]
    o = np.argsort(key)
    assert_array_equal(ej[0] * mesh.n_verts + ej[1], key[o])
    assert_allclose(wrap(rj - rho[o]), 0, atol=1e-11)
    for s in (1e-8, 1e8):
        scaled = Mesh(mesh.verts * s, mesh.faces)
        assert_allclose(wrap(edge_transport(scaled)[1] - rho), 0, atol=1e-11)
        assert_allclose(
            wrap(edge_transport(scaled, "world")[1] - edge_transport(mesh, "world")[1]), 0, atol=1e-10
        )
        Lc = connection_laplacian(scaled)
        assert_allclose(Lc.toarray(), connection_laplacian(mesh).toarray(), atol=1e-10)


def test_point_cloud_transport_approximates_the_mesh_connection():
    mesh = shapes.icosphere(4)
    fr = vertex_frames(mesh, "world")
    ei, rho = edge_transport(mesh, fr)
    rho_pc = point_cloud_transport(mesh.verts, vertex_normals(mesh), ei, fr)
    err = np.abs(wrap(rho_pc - rho))
    assert err.max() < 5e-3
    rev = vertex_fans(mesh).edge_reverse
    assert_allclose(wrap(rho_pc + rho_pc[rev]), 0, atol=1e-12)
    # plane with parallel normals: identity in the world gauge; antipodal normals: finite
    pts = np.random.default_rng(0).normal(size=(20, 3))
    nrm = np.tile([0.0, 0.0, 1.0], (20, 1))
    pairs = np.stack([np.arange(20), (np.arange(20) + 3) % 20])
    assert_allclose(point_cloud_transport(pts, nrm, pairs), 0, atol=1e-14)
    nrm[5] = (0, 0, -1)
    assert np.isfinite(point_cloud_transport(pts, nrm, pairs)).all()


def test_bad_input_raises():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="not an edge"):
        holonomy(mesh, [0, 1, 2, 3, 4, 5])
    with pytest.raises(MeshError, match=r"path\[1\]"):
        holonomy(mesh, [0, 10**6])
    with pytest.raises(MeshError, match="1-D integer"):
        holonomy(mesh, [0.5, 1.5])
    with pytest.raises(MeshError, match="shape"):
        connection_laplacian(mesh, laplacian=sp.identity(3))
    pts = np.zeros((4, 3))
    with pytest.raises(MeshError, match="normals"):
        point_cloud_transport(pts, np.ones((3, 3)), np.zeros((2, 1), np.int64))
    with pytest.raises(MeshError, match="column 0"):
        point_cloud_transport(pts, np.ones((4, 3)), np.array([[0], [9]]))
    with pytest.raises(MeshError, match="zero rows"):
        point_cloud_transport(pts, np.zeros((4, 3)), np.array([[0], [1]]))


@pytest.mark.parametrize(
    "mesh", [shapes.icosphere(2), shapes.torus(n_major=16, n_minor=8)], ids=["sphere", "torus"]
)
def test_connection_laplacian_matches_potpourri3d_spectrum(mesh):
    # gauges differ, so compare the gauge-invariant spectra (closed Delaunay meshes: same cotan weights)
    pp3d = pytest.importorskip("potpourri3d")
    theirs = pp3d.MeshVectorHeatSolver(
        np.asarray(mesh.verts), np.asarray(mesh.faces)
    ).get_connection_laplacian()
    ev_theirs = np.linalg.eigvalsh(theirs.toarray())
    ev_ours = np.linalg.eigvalsh(connection_laplacian(mesh).toarray())
    assert_allclose(ev_ours, ev_theirs, atol=1e-10 * ev_theirs[-1])
