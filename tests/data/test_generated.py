"""The generated benchmark: exact ground truth on the parametrization, valid meshes,
different triangulations."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import MeshError
from manifoldnet.data import generated as g


@pytest.fixture(scope="module")
def shapes_by_family():
    return {
        f: [g.generate_shape(f, seed, n) for seed, n in ((1, 300), (2, 420), (3, 300))] for f in g.FAMILIES
    }


@pytest.mark.parametrize("family", list(g.FAMILIES))
def test_vertices_are_the_parametrization(shapes_by_family, family):
    for s in shapes_by_family[family]:
        assert_array_equal(s.mesh.verts, g.embed(family, s.params, s.pose))
        if family == "torus":
            assert s.params.shape[1] == 2 and (s.params >= 0).all() and (s.params < 1).all()
        else:
            assert_allclose(np.linalg.norm(s.params, axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("family", list(g.FAMILIES))
def test_labels_are_a_function_of_the_parameters(shapes_by_family, family):
    for s in shapes_by_family[family]:
        assert_array_equal(s.labels, g.part_labels(family, s.params))
        assert set(np.unique(s.labels)) == set(range(g.FAMILIES[family]))  # every part present
        assert_array_equal(s.global_labels, s.labels + g.LABEL_OFFSETS[family])


def test_labels_at_known_parameter_points():
    # body: the head pole (theta = 0) is the last part, the tail pole the first
    assert_array_equal(g.part_labels("body", np.array([[0.0, 0, 1], [0, 0, -1]])), [4, 0])
    # star: the tip direction of limb l is part l + 1; the direction opposite to all limbs is the body (0)
    assert_array_equal(g.part_labels("star", g._STAR_DIRS), [1, 2, 3, 4, 5])
    opposite = -g._STAR_DIRS.sum(0) / np.linalg.norm(g._STAR_DIRS.sum(0))
    assert_array_equal(g.part_labels("star", opposite[None]), [0])
    # blob: each bump direction is its own part
    assert_array_equal(g.part_labels("blob", g._BLOB_DIRS), np.arange(6))
    # torus: quarters of the ring
    uv = np.array([[0.1, 0.5], [0.3, 0.0], [0.6, 0.9], [0.9, 0.2]])
    assert_array_equal(g.part_labels("torus", uv), [0, 1, 2, 3])


@pytest.mark.parametrize("family", list(g.FAMILIES))
def test_correspondence_is_the_nearest_template_vertex_on_the_rest_shape(shapes_by_family, family):
    t = g.family_template(family)
    for s in shapes_by_family[family]:
        rest = g.embed(family, s.params)
        d = np.linalg.norm(rest[:, None, :] - t.mesh.verts[None, :, :], axis=2)  # brute force
        assert_array_equal(s.corres, np.argmin(d, axis=1))
        # the template vertex found is close (within the template's edge length) and mostly in the same part
        assert d[np.arange(len(d)), s.corres].max() < 1.5 * t.mesh.edge_lengths.max()
        assert np.mean(t.labels[s.corres] == s.labels) > 0.9
    # the template maps to itself
    assert_array_equal(g.template_correspondence(family, t.params), np.arange(t.mesh.n_verts))


@pytest.mark.parametrize("family", list(g.FAMILIES))
def test_meshes_are_closed_oriented_manifolds(shapes_by_family, family):
    for s in shapes_by_family[family]:
        r = s.mesh.report()
        assert r.is_edge_manifold and r.is_vertex_manifold and r.is_oriented
        assert r.n_boundary_loops == 0 and r.n_components == 1 and r.unreferenced_verts == 0
        assert r.euler_characteristic == (0 if family == "torus" else 2)
        p = s.mesh.verts[s.mesh.faces]
        volume = np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6
        assert volume > 0  # outward normals


@pytest.mark.parametrize("family", list(g.FAMILIES))
def test_poses_are_near_isometric(shapes_by_family, family):
    for s in shapes_by_family[family]:
        e = s.mesh.edges
        rest = g.embed(family, s.params)
        l0 = np.linalg.norm(rest[e[:, 0]] - rest[e[:, 1]], axis=1)
        l1 = s.mesh.edge_lengths
        strain = np.abs(l1 / l0 - 1)
        assert np.median(strain) < 0.05 and strain.max() < 0.35
        assert abs(s.mesh.total_area / g.family_template(family).mesh.total_area - 1) < 0.05


def test_triangulations_differ_and_generation_is_deterministic(shapes_by_family):
    for family, items in shapes_by_family.items():
        a, b, c = items
        assert a.mesh.n_verts == c.mesh.n_verts  # same size asked ...
        assert not np.array_equal(a.params, c.params)  # ... different points and connectivity
        assert b.mesh.n_verts != a.mesh.n_verts
        again = g.generate_shape(family, 1, 300)
        assert_array_equal(again.mesh.verts, a.mesh.verts)
        assert_array_equal(again.mesh.faces, a.mesh.faces)
        assert_array_equal(again.corres, a.corres)


def test_benchmark_sequence_and_splits():
    bench = g.generated_benchmark(n_per_family=5, seed=3, n_verts=(200, 260))
    n = 5 * len(g.FAMILIES)
    assert len(bench) == n
    train, test = bench.indices("train"), bench.indices("test")
    assert len(train) == 4 * len(g.FAMILIES) and len(test) == len(g.FAMILIES) and not set(train) & set(test)
    assert bench.indices(family="star") == [5, 6, 7, 8, 9]
    s = bench[6]
    assert s.family == "star" and 200 <= s.mesh.n_verts <= 260 and s is bench[6]
    assert bench[-1].name == bench[n - 1].name
    with pytest.raises(IndexError):
        bench[n]
    assert g.N_CLASSES == sum(g.FAMILIES.values())


def test_bad_arguments():
    with pytest.raises(MeshError, match="unknown generated family"):
        g.generate_shape("cube", 0)
    with pytest.raises(MeshError, match="n_verts"):
        g.generate_shape("body", 0, n_verts=10)
    with pytest.raises(MeshError, match="n_verts"):
        g.GeneratedBenchmark(n_per_family=2, n_verts=(300, 200))


def test_written_benchmark_reads_back_like_faust(tmp_path):
    from manifoldnet.data.datasets import FolderDataset

    bench = g.generated_benchmark(n_per_family=2, seed=1, n_verts=(150, 170), families=("body", "torus"))
    root = g.write_benchmark(bench, tmp_path)
    ds = FolderDataset(root / "off", labels_dir=root / "labels", corres_dir=root / "corres")
    assert len(ds) == 4 and (root / "train.txt").read_text().split() == [
        bench[i].name for i in bench.indices("train")
    ]
    for s in bench:
        item = ds[ds.names.index(s.name)]
        assert_array_equal(item.labels, s.global_labels)
        assert_array_equal(item.corres, s.template_to_vertex())
        assert_allclose(item.mesh.verts, s.mesh.verts, rtol=0, atol=0)
        # the .vts direction: template vertex k -> a vertex whose own template match is close to k
        t = g.family_template(s.family)
        back = s.corres[item.corres]
        d = np.linalg.norm(t.mesh.verts[back] - t.mesh.verts, axis=1)
        assert np.median(d) < t.mesh.edge_lengths.mean()
