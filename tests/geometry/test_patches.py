"""Geodesic patches: exact on a flat disk, one-ring equals the log map, agreement with the vector heat log map."""

from __future__ import annotations

import numpy as np
import pytest

from manifoldnet import MeshError, shapes
from manifoldnet.geometry.logmap import one_ring_logmap
from manifoldnet.geometry.patches import geodesic_patches


def test_flat_disk_exact():
    m = shapes.flat_disk(10)
    v = np.asarray(m.verts)
    P = geodesic_patches(m, radius=0.35, frames="world")
    i, j = P.edge_index
    d = v[j] - v[i]
    np.testing.assert_allclose(P.r, np.linalg.norm(d, axis=1), atol=1e-12)
    np.testing.assert_allclose(np.angle(np.exp(1j * (P.theta - np.arctan2(d[:, 1], d[:, 0])))), 0, atol=1e-12)
    # every vertex within the radius (convex disk: geodesic = Euclidean) is found
    D = np.linalg.norm(v[:, None] - v[None], axis=2)
    assert P.r.size == int(((D <= 0.35) & (D > 0)).sum())


def test_one_ring_entries_equal_logmap_and_k_nearest():
    m = shapes.noisy_sphere(3, 0.0, 0, 0.45)  # irregular triangulation of the smooth sphere
    ei, r1, th1 = one_ring_logmap(m)
    P = geodesic_patches(m, radius=float(r1.max()))
    key = P.edge_index[0] * m.n_verts + P.edge_index[1]
    pos = np.searchsorted(key, ei[0] * m.n_verts + ei[1])
    np.testing.assert_array_equal(key[pos], ei[0] * m.n_verts + ei[1])  # every one-ring pair is in
    np.testing.assert_allclose(P.r[pos], r1, rtol=1e-12)
    np.testing.assert_allclose(P.theta[pos], th1, atol=1e-12)
    Pk = geodesic_patches(m, k=40)
    assert (Pk.sizes == 40).all()
    # the k nearest are the k smallest radii of the radius patch (where that patch has >= k entries)
    big = geodesic_patches(m, radius=0.8)
    for c in (0, 100, 500):
        rad = np.sort(big.r[big.edge_index[0] == c])
        np.testing.assert_allclose(np.sort(Pk.r[Pk.edge_index[0] == c]), rad[:40], rtol=1e-12)


def test_irregular_sphere_radius_close_to_exact():
    from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance

    m = shapes.noisy_sphere(3, 0.0, 1, 0.45)
    P = geodesic_patches(m, radius=0.35)
    for c in (0, 300):
        sel = P.edge_index[0] == c
        ex = exact_geodesic_distance(m, c)[P.edge_index[1][sel]]
        assert np.percentile(np.abs(P.r[sel] - ex) / ex, 90) < 0.005


def test_sphere_radius_close_to_great_circle():
    m = shapes.icosphere(4)
    v = np.asarray(m.verts)
    P = geodesic_patches(m, radius=0.3)
    i, j = P.edge_index
    gc = np.arccos(np.clip(np.einsum("ij,ij->i", v[i], v[j]), -1, 1))
    assert np.median(np.abs(P.r - gc) / gc) < 0.01


@pytest.mark.slow
def test_bunny_agrees_with_vector_heat_logmap():
    from conftest import shared_data

    from manifoldnet.geometry.vector_heat import VectorHeatSolver
    from manifoldnet.io import load_mesh
    from manifoldnet.repair import clean

    m, _ = clean(load_mesh(shared_data("classic") / "stanford-bunny.obj"))
    P = geodesic_patches(m, k=30)
    s = VectorHeatSolver(m)
    er, et = [], []
    for c in (0, 1000, 5000, 20000):
        r, th = s.logmap(c, check="off")
        sel = P.edge_index[0] == c
        jj = P.edge_index[1][sel]
        er.append(np.abs(P.r[sel] - r[jj]) / r[jj])
        et.append(np.degrees(np.abs(np.angle(np.exp(1j * (P.theta[sel] - th[jj]))))))
    assert np.percentile(np.concatenate(er), 90) < 0.05
    assert np.percentile(np.concatenate(et), 90) < 5.0


def test_validation():
    m = shapes.icosphere(1)
    with pytest.raises(MeshError, match="exactly one"):
        geodesic_patches(m)
    with pytest.raises(MeshError, match="radius"):
        geodesic_patches(m, radius=-1)
    with pytest.raises(MeshError, match="k must"):
        geodesic_patches(m, k=0)


@pytest.mark.parametrize("make", [shapes.two_spheres, shapes.nonmanifold_fin, shapes.bowtie])
def test_awkward_meshes_give_finite_patches_within_components(make):
    m = make()
    P = geodesic_patches(m, k=8)
    assert np.isfinite(P.r).all() and np.isfinite(P.theta).all() and np.isfinite(P.transport).all()
    comp = np.asarray(m.vertex_components)
    np.testing.assert_array_equal(comp[P.edge_index[0]], comp[P.edge_index[1]])
    assert (P.edge_index[0] != P.edge_index[1]).all()
    key = P.edge_index[0] * m.n_verts + P.edge_index[1]
    assert (np.diff(key) > 0).all()  # sorted, no duplicate pair
