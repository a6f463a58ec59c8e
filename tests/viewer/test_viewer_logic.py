"""The viewer's logic without rendering: colours, channel slider, picking, subsampling, correspondence
maps, gauge -> world vectors, file inputs and their validators, the missing-extra message."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from manifoldnet_viewer import colors, correspondence, features, inputs, interaction
from manifoldnet_viewer._pv import ViewerDependencyError, require_web
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes


@pytest.fixture(scope="module")
def sphere():
    return shapes.icosphere(2)


# ---------------------------------------------------------------- colours
def test_categorical_colors_distinct_for_260_classes():
    c = colors.categorical_colors(260)
    assert c.shape == (260, 3)
    assert np.all((c >= 0) & (c <= 1))
    assert np.unique(np.round(c, 6), axis=0).shape[0] == 260
    # neighbouring class ids never get near-identical colours
    assert np.linalg.norm(np.diff(c, axis=0), axis=1).min() > 0.15
    assert_allclose(colors.categorical_colors(5), c[:5])  # stable prefix: same class, same colour


def test_label_colors_ignore_and_range():
    lab = np.array([0, 3, -1, 3])
    c = colors.label_colors(lab, n_classes=10)
    assert_allclose(c[2], colors.IGNORE_COLOR)
    assert_allclose(c[1], c[3])
    assert_allclose(c[0], colors.categorical_colors(10)[0])
    with pytest.raises(MeshError, match="label 12 at element 1"):
        colors.label_colors(np.array([0, 12]), n_classes=10)
    with pytest.raises(MeshError, match="entry 1 is 1.5"):
        colors.label_colors(np.array([0.0, 1.5]))
    with pytest.raises(MeshError, match="entry 0 is nan"):
        colors.label_colors(np.array([np.nan, 1.0]))


def test_xyz_colors_normalized_and_flat_axis():
    v = np.array([[0, 0, 5.0], [2, 4, 5.0], [1, 1, 5.0]])
    c = colors.xyz_colors(v)
    assert_allclose(c[:, 0], [0, 1, 0.5])
    assert_allclose(c[:, 1], [0, 1, 0.25])
    assert_allclose(c[:, 2], 0.5)


def test_scalar_range_nan_constant_percentile_and_bad_clim():
    assert colors.scalar_range([np.nan, 1.0, 3.0]) == (1.0, 3.0)
    assert colors.scalar_range([np.nan, np.nan]) == (0.0, 1.0)
    assert colors.scalar_range([2.0, 2.0]) == (1.5, 2.5)
    v = np.r_[np.linspace(0, 1, 99), 1e6]
    _lo, hi = colors.scalar_range(v, percentile=2)
    assert hi < 2
    with pytest.raises(MeshError, match="clim"):
        colors.scalar_range(v, clim=(1, 0))


# ---------------------------------------------------------------- slider and picking
def test_channel_browser_index_scalars_clim():
    vals = np.arange(12.0).reshape(4, 3) * np.array([1, 10, 100])
    b = interaction.ChannelBrowser(vals)
    assert [b.index(x) for x in (-3, 0.49, 0.5, 1.2, 1.6, 99)] == [0, 0, 1, 1, 2, 2]
    assert_array_equal(b.scalars(1.2), vals[:, 1])
    assert b.clim(2) == (vals[:, 2].min(), vals[:, 2].max())
    assert b.title(2) == "channel 2"
    assert not b.signed  # all values >= 0: the plain range
    shared = interaction.ChannelBrowser(vals, shared_range=True)
    assert shared.clim(0) == shared.clim(2) == (0.0, vals.max())
    with pytest.raises(MeshError, match="finite"):
        b.index(np.nan)
    with pytest.raises(MeshError, match="2 channel names for 3 channels"):
        interaction.ChannelBrowser(vals, names=("a", "b"))


def test_pick_info_nearest_vertex_and_values(sphere):
    i = 17
    p = sphere.verts[i] * 1.01
    scal = np.arange(sphere.n_verts, dtype=float) * 0.5
    chans = np.stack([scal, -scal], axis=1)
    info = interaction.pick_info(sphere, p, arrays={"s": scal, "c": chans, "face": np.zeros(sphere.n_faces)})
    assert info["vertex"] == i
    assert_allclose(info["position"], sphere.verts[i])
    assert info["values"]["s"] == 8.5 and info["values"]["c"] == [8.5, -8.5]
    assert "face" not in info["values"]
    text = interaction.format_pick(info)
    assert text.startswith("vertex 17") and "s: 8.5" in text
    with pytest.raises(MeshError, match="out of range"):
        interaction.pick_info(sphere, vertex=sphere.n_verts)
    with pytest.raises(MeshError, match="3 finite"):
        interaction.pick_info(sphere, [0.0, np.nan, 1.0])


def test_subsample_deterministic_sorted_unique():
    a = interaction.subsample_indices(1000, 50, seed=3)
    assert_array_equal(a, interaction.subsample_indices(1000, 50, seed=3))
    assert a.size == 50 and np.all(np.diff(a) > 0) and a.max() < 1000
    assert_array_equal(interaction.subsample_indices(10, 50), np.arange(10))
    with pytest.raises(MeshError, match="max_arrows"):
        interaction.subsample_indices(10, 0)


def test_legend_entries_most_frequent_listed_by_class_and_more_line():
    from manifoldnet_viewer.scene import Scene

    lab = np.r_[np.full(5, 7), np.full(3, 0), np.full(3, 2), [1], [-1]]
    e = Scene.legend_entries(lab, n_classes=260, max_legend=2)
    # the two most frequent (7, then 0 before 2 on a tie) listed by class id, then the rest counted
    assert [x[0] for x in e] == ["class 0", "class 7", "+ 2 more classes"]
    assert_allclose(e[1][1], colors.categorical_colors(260)[7])
    named = Scene.legend_entries(lab, names={7: "helix"}, max_legend=1)
    assert named[0][0] == "helix"


# ---------------------------------------------------------------- vectors
def test_tangent_to_world_gauge_and_complex_agree():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    frames = np.broadcast_to(q, (4, 3, 3)).copy()
    xy = rng.normal(size=(4, 2))
    w = features.tangent_to_world(xy, frames)
    assert_allclose(w, xy[:, :1] * q[0] + xy[:, 1:] * q[1])
    assert_allclose(features.tangent_to_world(xy[:, 0] + 1j * xy[:, 1], frames), w)
    assert_allclose(w @ q[2], 0, atol=1e-12)  # tangent: orthogonal to the normal row
    with pytest.raises(MeshError, match="need frames"):
        features.tangent_to_world(xy, None)
    with pytest.raises(MeshError, match="vector 1 is not finite"):
        features.tangent_to_world(np.array([[0, 0, 1.0], [np.inf, 0, 0]]), None)


# ---------------------------------------------------------------- correspondence
def test_map_from_pairs_transfer_and_euclidean_error():
    m = correspondence.map_from_pairs([0, 2], [1, 0], n_src=4, n_tgt=3)
    assert_array_equal(m, [1, -1, 0, -1])
    tc = np.eye(3)
    out = correspondence.transfer_colors(tc, m)
    assert_allclose(out[0], tc[1]) and assert_allclose(out[1], colors.IGNORE_COLOR)
    assert correspondence.map_from_pairs([0, 0], [1, 2], 4, 3)[0] == 2  # last partner wins (FAUST's T(A) = B)
    assert correspondence.map_from_pairs([0, 0], [1, 2], 4, 3, on_conflict="first")[0] == 1
    with pytest.raises(MeshError, match="source vertex 0 is matched to two"):
        correspondence.map_from_pairs([0, 0], [1, 2], 4, 3, on_conflict="error")
    with pytest.raises(MeshError, match="target id 5 in pair 1"):
        correspondence.map_from_pairs([0, 1], [1, 5], 4, 3)
    with pytest.raises(MeshError, match="entry 1 is 3"):
        correspondence.check_vertex_map([0, 3], 2, 3)


def test_correspondence_error_identity_zero_and_geodesic_at_least_euclidean():
    t = shapes.icosphere(2)
    ident = np.arange(t.n_verts)
    assert_allclose(correspondence.correspondence_error(t, ident, ident, metric="euclidean"), 0)
    rng = np.random.default_rng(1)
    pred = rng.permutation(t.n_verts)
    pred[:5] = -1
    eu = correspondence.correspondence_error(t, pred, ident, metric="euclidean", normalize=False)
    assert np.isnan(eu[:5]).all()
    assert_allclose(eu[5:], np.linalg.norm(t.verts[pred[5:]] - t.verts[5:], axis=1))
    geo = correspondence.correspondence_error(t, pred, ident, metric="geodesic", normalize=False, chunk=50)
    # the chunked batch equals one heat solve per vertex (slow reference) ...
    from manifoldnet.geometry.geodesics import geodesic_distance

    for i in (5, 40, 161):
        assert_allclose(geo[i], geodesic_distance(t, [i])[pred[i]], rtol=1e-10, atol=1e-12)
    # ... and approximates the great-circle angle 2 asin(chord / 2) on the unit sphere
    assert_allclose(geo[5:], 2 * np.arcsin(np.clip(eu[5:] / 2, 0, 1)), rtol=0.15, atol=0.05)
    with pytest.raises(MeshError, match="metric"):
        correspondence.correspondence_error(t, pred, ident, metric="cosine")


# ---------------------------------------------------------------- inputs
def test_load_array_formats(tmp_path, sphere):
    v = np.arange(sphere.n_verts, dtype=float)
    np.save(tmp_path / "a.npy", v)
    np.savetxt(tmp_path / "a.txt", v)
    np.savetxt(tmp_path / "a.csv", np.stack([v, 2 * v], 1), delimiter=",")
    np.savez(tmp_path / "a.npz", x=v, y=2 * v)
    assert_allclose(inputs.load_array(tmp_path / "a.npy"), v)
    assert_allclose(inputs.load_array(tmp_path / "a.txt"), v)
    assert_allclose(inputs.load_array(tmp_path / "a.csv")[:, 1], 2 * v)
    assert_allclose(inputs.load_array(f"{tmp_path / 'a.npz'}:y"), 2 * v)
    with pytest.raises(MeshError, match="pick one"):
        inputs.load_array(tmp_path / "a.npz")
    with pytest.raises(FileNotFoundError):
        inputs.load_array(tmp_path / "missing.npy")
    (tmp_path / "bad.txt").write_text("1\nfoo\n")
    with pytest.raises(MeshError, match="bad.txt"):
        inputs.load_array(tmp_path / "bad.txt")


def test_resolve_field_arrays_files_and_sizes(tmp_path, sphere):
    v = np.arange(sphere.n_verts, dtype=float)
    f = inputs.resolve_field(v, sphere)
    assert not f.is_channels and f.values.shape == (sphere.n_verts,)
    np.save(tmp_path / "c.npy", np.stack([v, v, v], 1))
    f = inputs.resolve_field(str(tmp_path / "c.npy"), sphere)
    assert f.is_channels and len(f.names) == 3
    per_face = inputs.resolve_field(np.ones(sphere.n_faces), sphere)
    assert per_face.values.shape == (sphere.n_faces,)
    with pytest.raises(MeshError, match=f"{sphere.n_verts} vertices and {sphere.n_faces} faces"):
        inputs.resolve_field(np.ones(7), sphere)
    with pytest.raises(MeshError, match="complex"):
        inputs.resolve_field(np.ones(sphere.n_verts, complex), sphere)
    with pytest.raises(MeshError, match="no index"):
        inputs.resolve_field("gauss:3", sphere)


def test_labels_maps_predictions(tmp_path, sphere):
    lab = np.arange(sphere.n_verts) % 5 - 1
    np.savetxt(tmp_path / "l.txt", lab, fmt="%d")
    assert_array_equal(inputs.load_labels(tmp_path / "l.txt", sphere, offset=1), lab + 1)
    np.savetxt(tmp_path / "short.txt", lab[:-3], fmt="%d")
    with pytest.raises(MeshError, match=f"{sphere.n_verts - 3} labels"):
        inputs.load_labels(tmp_path / "short.txt", sphere)
    np.savetxt(tmp_path / "m.vts", [1, 3, 2], fmt="%d")
    assert_array_equal(inputs.load_vertex_map(tmp_path / "m.vts"), [0, 2, 1])
    np.savetxt(tmp_path / "z.vts", [1, 0], fmt="%d")
    with pytest.raises(MeshError, match="1-based but holds a 0 at row 1"):
        inputs.load_vertex_map(tmp_path / "z.vts")
    scores = np.eye(5)[lab % 5]
    np.save(tmp_path / "scores.npy", scores)
    p = inputs.load_predictions(tmp_path / "scores.npy", sphere)
    assert_array_equal(p.labels, lab % 5) and p.scores.shape == (sphere.n_verts, 5)
    np.savez(tmp_path / "p.npz", pred=lab, logits=scores)
    p = inputs.load_predictions(tmp_path / "p.npz", sphere)
    assert_array_equal(p.labels, lab)
    np.savez(tmp_path / "q.npz", other=lab)
    with pytest.raises(MeshError, match="none of pred"):
        inputs.load_predictions(tmp_path / "q.npz", sphere)


def test_bundle_fields_used_instead_of_recomputing(sphere):
    class Bundle:  # what the viewer reads of an OperatorBundle
        evals = np.arange(4.0)
        evecs = np.tile(np.arange(4.0), (sphere.n_verts, 1))
        frames = np.broadcast_to(np.eye(3), (sphere.n_verts, 3, 3))
        hks = np.ones((sphere.n_verts, 16))

    f = inputs.resolve_field("eig:2", sphere, Bundle())
    assert_allclose(f.values, 2.0)
    assert_allclose(inputs.resolve_field("hks", sphere, Bundle()).values, 1.0)
    assert_allclose(features.vertex_frames(sphere, bundle=Bundle()), Bundle.frames)

    class Wrong:
        evals, evecs = np.arange(4.0), np.zeros((5, 4))

    with pytest.raises(MeshError, match="5 rows but the mesh has"):
        features.eigenpairs(sphere, 3, Wrong())


def test_mesh_conversion_roundtrip(sphere):
    from manifoldnet_viewer.convert import as_mesh, from_pyvista, to_pyvista

    poly = to_pyvista(sphere, point_data={"x": sphere.verts[:, 0]})
    back = from_pyvista(poly)
    assert_allclose(back.verts, sphere.verts)
    assert_array_equal(back.faces, sphere.faces)
    assert_allclose(poly.point_data["x"], sphere.verts[:, 0])
    assert as_mesh((sphere.verts, sphere.faces)).n_faces == sphere.n_faces
    with pytest.raises(MeshError, match="expected 162 rows"):
        to_pyvista(sphere, point_data={"x": np.ones(3)})
    import pyvista as pv

    quads = pv.Plane(i_resolution=2, j_resolution=2)  # 4 quads -> 8 triangles
    assert from_pyvista(quads).n_faces == 8
    with pytest.raises(MeshError, match="no triangles"):
        from_pyvista(pv.PolyData(np.zeros((3, 3))))
    with pytest.raises(MeshError, match="got int"):
        as_mesh(3)


def test_missing_web_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "trame", None)  # makes `import trame` raise ImportError
    with pytest.raises(ViewerDependencyError, match=r"pip install 'manifoldnet\[web\]' \(missing: trame"):
        require_web()


def test_split_values_rejects_wrong_size(sphere):
    from manifoldnet_viewer.scene import _split_values

    assert _split_values(sphere, np.ones(sphere.n_faces), None, "s")[1] == "face"
    with pytest.raises(MeshError, match="s has 5 rows"):
        _split_values(sphere, np.ones(5), None, "s")
    tiny = Mesh(np.eye(3), [[0, 1, 2]])
    with pytest.raises(MeshError, match="expected 1"):
        _split_values(tiny, np.ones(3), "face", "s")


def test_vertex_to_face_labels_majority():
    faces = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 3, 4]])
    lab = np.array([5, 5, 7, 7, 9])
    assert_array_equal(colors.vertex_to_face_labels(faces, lab), [5, 7, 7, 5])


def test_transported_field_keeps_the_source_vector(sphere):
    z = features.transported_field(sphere, 5, 0.6 + 0.8j)
    assert z.shape == (sphere.n_verts,)
    assert_allclose(z[5], 0.6 + 0.8j, atol=1e-8)
    assert_allclose(np.abs(z), 1.0, atol=0.05)  # transport preserves length (up to discretization)
    with pytest.raises(MeshError, match="source vertex 999"):
        features.transported_field(sphere, 999)
