"""Geodesic farthest-point sampling and Voronoi regions (manifoldnet.analysis.sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.analysis import farthest_point_sampling, geodesic_voronoi
from manifoldnet.geometry.geodesics import HeatMethodSolver


@pytest.mark.parametrize("method", ["heat", "exact"])
def test_fps_min_pairwise_at_least_covering_radius(method):
    mesh = shapes.noisy_sphere(2, 0.2, 3)
    res = farthest_point_sampling(mesh, 12, method=method)
    assert np.unique(res.samples).size == 12
    P = res.pairwise()
    off = P[~np.eye(12, dtype=bool)]
    # the FPS inequality: every pair of samples is at least the final covering radius apart
    assert off.min() >= res.covering_radius - 1e-12
    # radii are non-increasing and each is the distance of the new sample to the earlier ones
    assert np.all(np.diff(res.radii[1:]) <= 1e-12)
    for i in range(1, 12):
        assert_allclose(res.radii[i], res.distances[:i, res.samples[i]].min(), rtol=1e-12)
    # the covering radius is the largest distance to the nearest sample and at most the last radius
    assert_allclose(res.covering_radius, res.distances.min(axis=0).max(), rtol=1e-12)
    assert res.covering_radius <= res.radii[-1] + 1e-12


def test_fps_spreads_on_sphere_better_than_random():
    mesh = shapes.icosphere(3)
    res = farthest_point_sampling(mesh, 20)
    rng = np.random.default_rng(0)
    solver = HeatMethodSolver(mesh)
    rand = rng.choice(mesh.n_verts, 20, replace=False)
    cover_rand = solver.distances(list(rand)).min(axis=0).max()
    assert res.covering_radius < 0.8 * cover_rand
    # 20 caps of geodesic radius r cover the unit sphere: 20 * 2 pi (1 - cos r) >= 4 pi
    assert 20 * 2 * np.pi * (1 - np.cos(res.covering_radius)) >= 4 * np.pi * 0.97


def test_fps_reuses_a_prefactored_solver_and_start():
    mesh = shapes.icosphere(2)
    solver = HeatMethodSolver(mesh)
    a = farthest_point_sampling(mesh, 6, solver=solver, start=5)
    b = farthest_point_sampling(mesh, 6, start=5)
    assert a.samples[0] == 5
    assert_array_equal(a.samples, b.samples)


def test_fps_visits_every_component_and_skips_unreferenced():
    two = shapes.two_spheres(1)
    verts = np.vstack([two.verts, [[10.0, 10.0, 10.0]]])  # an unreferenced vertex, far away
    mesh = Mesh(verts, two.faces)
    res = farthest_point_sampling(mesh, 2, method="exact")
    comps = mesh.vertex_components[res.samples]
    assert comps[0] != comps[1]
    assert mesh.n_verts - 1 not in res.samples
    assert res.labels[-1] == -1 and np.isinf(res.distance[-1])
    with pytest.raises(MeshError, match="unreferenced"):
        farthest_point_sampling(mesh, 2, start=mesh.n_verts - 1)


def test_voronoi_regions():
    mesh = shapes.icosphere(3)
    res = farthest_point_sampling(mesh, 8)
    labels, dist = geodesic_voronoi(mesh, res.samples)
    assert_array_equal(labels[res.samples], np.arange(8))
    assert_allclose(dist[res.samples], 0.0)
    # same nearest-source assignment as the FPS fields (same solver family)
    D = HeatMethodSolver(mesh).distances(list(res.samples))
    assert_array_equal(labels, np.argmin(D, axis=0))
    assert_allclose(dist, D.min(axis=0), rtol=1e-10)
    # regions are connected pieces of the surface
    A = mesh.adjacency.tocoo()
    same = labels[A.row] == labels[A.col]
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    G = csr_matrix((np.ones(same.sum()), (A.row[same], A.col[same])), shape=A.shape)
    n, _ = connected_components(G, directed=False)
    assert n == 8


def test_sampling_validators():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="k must be"):
        farthest_point_sampling(mesh, 0)
    with pytest.raises(MeshError, match="k must be"):
        farthest_point_sampling(mesh, mesh.n_verts + 1)
    with pytest.raises(MeshError, match="start"):
        farthest_point_sampling(mesh, 2, start=mesh.n_verts)
    with pytest.raises(MeshError, match="unknown geodesic method"):
        farthest_point_sampling(mesh, 2, method="dijkstra")
    with pytest.raises(MeshError, match="repeated"):
        geodesic_voronoi(mesh, [1, 1])
    with pytest.raises(MeshError, match="not a vertex index"):
        geodesic_voronoi(mesh, [0, mesh.n_verts])
    with pytest.raises(MeshError, match="Mesh"):
        farthest_point_sampling(mesh.verts, 2)
