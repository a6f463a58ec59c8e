"""manifoldnet.shapes: topology (Euler characteristic, genus, boundaries, components, manifoldness),
geometry against analytic values, orientation, determinism, and the parameter validators."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.elements import corner_angles


def _outward(mesh: Mesh) -> bool:
    return shapes.signed_volume(mesh) > 0


@pytest.mark.parametrize("s", range(6))
def test_icosphere_counts_and_exact_radius(s):
    m = shapes.icosphere(s, radius=2.5)
    assert m.n_verts == shapes.ICOSPHERE_VERTS[s] == 10 * 4**s + 2
    assert m.n_faces == 20 * 4**s
    assert_allclose(np.linalg.norm(m.verts, axis=1), 2.5, rtol=1e-15, atol=0)
    r = m.report()
    assert (r.euler_characteristic, r.genus, r.n_components, r.n_boundary_loops) == (2, 0, 1, 0)
    assert r.is_edge_manifold and r.is_vertex_manifold and r.is_oriented
    assert _outward(m)
    assert r.duplicate_faces == 0 and r.zero_area_faces == 0


def test_icosphere_big_levels_counts():
    assert shapes.icosphere(5).n_verts == 10242
    m = shapes.icosphere(6)
    assert (m.n_verts, m.n_faces) == (40962, 81920)
    assert m.euler_characteristic == 2


@pytest.mark.slow
def test_icosphere_level7():
    m = shapes.icosphere(7)
    assert m.n_verts == 163842
    assert_allclose(np.linalg.norm(m.verts, axis=1), 1.0, rtol=1e-15)


def test_icosphere_area_converges_from_below():
    err = [4 * np.pi - shapes.icosphere(s).total_area for s in range(1, 6)]
    assert all(e > 0 for e in err)  # inscribed polyhedra
    ratios = np.array(err[:-1]) / np.array(err[1:])
    assert_allclose(ratios[-2:], 4.0, rtol=0.05)  # second-order: error / 4 per level


def test_icosphere_with_verts():
    assert shapes.icosphere_with_verts(10000).n_verts == 10242
    assert shapes.icosphere_with_verts(10242).n_verts == 10242
    assert shapes.icosphere_with_verts(10243).n_verts == 40962
    assert shapes.icosphere_with_verts(1).n_verts == 12
    with pytest.raises(MeshError, match="n_min"):
        shapes.icosphere_with_verts(163843)


def test_uv_sphere():
    m = shapes.uv_sphere(12, 24, radius=1.5)
    assert m.n_verts == 2 + 11 * 24 and m.n_faces == 2 * 24 * 11
    assert_allclose(np.linalg.norm(m.verts, axis=1), 1.5, rtol=1e-15)
    r = m.report()
    assert (r.euler_characteristic, r.genus, r.n_boundary_loops) == (2, 0, 0)
    assert r.is_oriented and _outward(m)
    assert 0 < 4 * np.pi * 1.5**2 - m.total_area < 0.05 * 4 * np.pi * 1.5**2


def test_torus_topology_and_area():
    R, r = 2.0, 0.5
    m = shapes.torus(R, r, 64, 32)
    rep = m.report()
    assert (rep.euler_characteristic, rep.genus, rep.n_components, rep.n_boundary_loops) == (0, 1, 1, 0)
    assert rep.is_oriented and _outward(m)
    # points on the torus: (sqrt(x^2 + y^2) - R)^2 + z^2 = r^2
    rho = np.hypot(m.verts[:, 0], m.verts[:, 1])
    assert_allclose((rho - R) ** 2 + m.verts[:, 2] ** 2, r**2, rtol=1e-12)
    e_area = [abs(shapes.torus(R, r, 16 * k, 8 * k).total_area - 4 * np.pi**2 * R * r) for k in (1, 2, 4)]
    assert_allclose(np.array(e_area[:-1]) / np.array(e_area[1:]), 4.0, rtol=0.1)  # second order
    assert e_area[2] < 5e-3 * 4 * np.pi**2 * R * r
    assert_allclose(shapes.signed_volume(shapes.torus(R, r, 128, 64)), 2 * np.pi**2 * R * r**2, rtol=3e-3)


def _ellipsoid_area(a, b, c):
    """Legendre's closed form for a > b > c."""
    from scipy.special import ellipeinc, ellipkinc

    phi = np.arccos(c / a)
    m = a**2 * (b**2 - c**2) / (b**2 * (a**2 - c**2))
    s = np.sin(phi)
    return 2 * np.pi * c**2 + 2 * np.pi * a * b / s * (
        ellipeinc(phi, m) * s**2 + ellipkinc(phi, m) * np.cos(phi) ** 2
    )


def test_ellipsoid_on_surface_and_area():
    a, b, c = 1.5, 1.0, 0.6
    m = shapes.ellipsoid(a, b, c, subdivisions=5)
    q = (m.verts / np.array([a, b, c])) ** 2
    assert_allclose(q.sum(axis=1), 1.0, rtol=1e-14)
    assert_allclose(m.total_area, _ellipsoid_area(a, b, c), rtol=1e-3)
    assert m.euler_characteristic == 2 and m.is_oriented and _outward(m)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_flat_disk(n):
    m = shapes.flat_disk(n, radius=2.0)
    assert m.n_verts == 1 + 3 * n * (n + 1)
    assert_array_equal(m.verts[:, 2], 0.0)
    assert_allclose(m.face_normals, np.tile([0.0, 0.0, 1.0], (m.n_faces, 1)), atol=1e-15)
    r = m.report()
    assert (r.euler_characteristic, r.n_boundary_loops, r.n_components, r.genus) == (1, 1, 1, 0)
    loop = m.boundary_loops[0]
    assert len(loop) == 6 * n
    assert_allclose(np.linalg.norm(m.verts[loop], axis=1), 2.0, rtol=1e-14)
    N = 6 * n  # the triangulation covers the inscribed regular N-gon exactly
    assert_allclose(m.total_area, 0.5 * N * 2.0**2 * np.sin(2 * np.pi / N), rtol=1e-12)


def test_flat_disk_is_delaunay():
    m = shapes.flat_disk(8)
    ang = corner_angles(m)
    # the angle opposite half-edge k sits at corner (k + 2) % 3
    opp = ang[:, [2, 0, 1]].reshape(-1)
    e = m.halfedge_edges
    interior = m.edge_face_counts[e] == 2
    s = np.zeros(m.n_edges)
    np.add.at(s, e[interior], opp[interior])
    assert s[m.edge_face_counts == 2].max() <= np.pi + 1e-9
    assert np.degrees(ang.min()) > 25  # reasonably regular


def test_open_cylinder():
    m = shapes.open_cylinder(radius=0.5, height=3.0, n_around=48, n_height=20)
    r = m.report()
    assert (r.euler_characteristic, r.n_boundary_loops, r.genus) == (0, 2, 0)
    assert r.is_oriented and r.is_edge_manifold and r.is_vertex_manifold
    z = sorted(float(np.unique(m.verts[loop, 2]).item()) for loop in m.boundary_loops)
    assert_allclose(z, [-1.5, 1.5])
    assert_allclose(np.hypot(m.verts[:, 0], m.verts[:, 1]), 0.5, rtol=1e-14)
    centers = m.verts[m.faces].mean(axis=1)
    assert (np.einsum("ij,ij->i", m.face_normals[:, :2], centers[:, :2]) > 0).all()  # outward
    assert_allclose(m.total_area, 2 * np.pi * 0.5 * 3.0, rtol=5e-3)


@pytest.mark.parametrize("s", [0, 1, 2])
def test_genus2(s):
    m = shapes.genus2(s)
    r = m.report()
    assert (r.euler_characteristic, r.genus, r.n_components, r.n_boundary_loops) == (-2, 2, 1, 0)
    assert r.is_edge_manifold and r.is_vertex_manifold and r.is_oriented and _outward(m)
    assert r.zero_area_faces == 0 and r.duplicate_faces == 0
    assert_allclose(np.ptp(m.verts, axis=0).max(), 2.0)


def test_loop_subdivide_counts_and_smoothing():
    m = shapes.icosphere(1)
    s = shapes.loop_subdivide(m, 2)
    assert s.n_verts == shapes.ICOSPHERE_VERTS[3] and s.euler_characteristic == 2 and s.is_oriented
    # Loop's limit surface of an icosahedron is close to, and inside, its circumsphere
    rad = np.linalg.norm(s.verts, axis=1)
    assert rad.max() <= 1.0 and rad.min() > 0.8
    with pytest.raises(MeshError, match="closed edge-manifold"):
        shapes.loop_subdivide(shapes.flat_disk(2))


def test_nonmanifold_fin():
    m = shapes.nonmanifold_fin()
    r = m.report()
    assert r.nonmanifold_edges == 2 and r.nonmanifold_verts == 3
    assert not r.is_edge_manifold and r.genus is None and r.n_components == 1
    assert (m.edge_face_counts[m.nonmanifold_edges] == 3).all()
    assert_allclose(m.verts[m.edges[m.nonmanifold_edges].reshape(-1), 0], 0.0)


def test_bowtie():
    m = shapes.bowtie()
    r = m.report()
    assert r.is_edge_manifold and not r.is_vertex_manifold
    assert_array_equal(m.nonmanifold_verts, [0])
    assert r.n_components == 1


def test_two_spheres():
    m = shapes.two_spheres(2, radius=1.0, separation=3.0)
    r = m.report()
    assert (r.n_components, r.euler_characteristic, r.genus) == (2, 4, 0)
    assert np.bincount(m.vertex_components).tolist() == [162, 162]
    with pytest.raises(MeshError, match="separation"):
        shapes.two_spheres(separation=1.5)


def test_noisy_sphere_irregular_deterministic():
    a, b = shapes.noisy_sphere(3, noise=0.05, seed=7), shapes.noisy_sphere(3, noise=0.05, seed=7)
    assert_array_equal(a.verts, b.verts)
    assert_array_equal(a.faces, b.faces)
    c = shapes.noisy_sphere(3, noise=0.05, seed=8)
    assert not np.array_equal(a.verts, c.verts)
    r = a.report()
    assert (r.euler_characteristic, r.genus, r.n_boundary_loops) == (2, 0, 0)
    assert r.is_oriented and _outward(a) and r.zero_area_faces == 0
    assert a.n_verts == shapes.ICOSPHERE_VERTS[3]
    valence = np.bincount(a.edges.reshape(-1))
    assert valence.std() > 0.5  # irregular; the icosphere has valence 5 or 6 only
    rad = np.linalg.norm(a.verts, axis=1)
    assert rad.std() > 0.02 and rad.min() > 0.5
    flat = shapes.noisy_sphere(2, noise=0.0, seed=0)
    assert_allclose(np.linalg.norm(flat.verts, axis=1), 1.0, rtol=1e-15)


GENERATORS = [
    (shapes.icosphere, {"subdivisions": 2}),
    (shapes.uv_sphere, {}),
    (shapes.torus, {}),
    (shapes.ellipsoid, {}),
    (shapes.flat_disk, {}),
    (shapes.open_cylinder, {}),
    (shapes.genus2, {"subdivisions": 1}),
    (shapes.nonmanifold_fin, {}),
    (shapes.bowtie, {}),
    (shapes.two_spheres, {}),
    (shapes.noisy_sphere, {"subdivisions": 2}),
]


@pytest.mark.parametrize("fn,kw", GENERATORS, ids=[g[0].__name__ for g in GENERATORS])
def test_deterministic_and_readonly(fn, kw):
    a, b = fn(**kw), fn(**kw)
    assert isinstance(a, Mesh)
    assert_array_equal(a.verts, b.verts)
    assert_array_equal(a.faces, b.faces)
    assert a.verts.dtype == np.float64 and a.faces.dtype == np.int64
    assert not a.verts.flags.writeable


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: shapes.icosphere(8), "subdivisions"),
        (lambda: shapes.icosphere(-1), "subdivisions"),
        (lambda: shapes.icosphere(1.5), "integer"),
        (lambda: shapes.icosphere(True), "integer"),
        (lambda: shapes.icosphere(2, radius=0.0), "radius"),
        (lambda: shapes.icosphere(2, radius=float("nan")), "radius"),
        (lambda: shapes.torus(R=0.3, r=0.4), "R > r"),
        (lambda: shapes.torus(n_major=2), "n_major"),
        (lambda: shapes.uv_sphere(n_lat=1), "n_lat"),
        (lambda: shapes.flat_disk(0), "n_rings"),
        (lambda: shapes.open_cylinder(height=-1.0), "height"),
        (lambda: shapes.ellipsoid(a=-1.0), "a must"),
        (lambda: shapes.noisy_sphere(noise=0.5), "noise"),
        (lambda: shapes.noisy_sphere(irregularity=0.9), "irregularity"),
        (lambda: shapes.genus2(6), "subdivisions"),
    ],
)
def test_bad_parameters_raise(call, match):
    with pytest.raises(MeshError, match=match):
        call()
