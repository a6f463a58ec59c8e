"""Every validator of the viewer fires with a message naming what is wrong (no rendering needed
except a cheap offscreen Scene)."""

from __future__ import annotations

import numpy as np
import pytest
from manifoldnet_viewer import colors, correspondence, features, inputs, interaction

from manifoldnet import MeshError, shapes

mv = pytest.importorskip("manifoldnet_viewer")
pytest.importorskip("pyvista")

SPHERE = shapes.icosphere(1)  # 42 vertices, 80 faces
V, F = SPHERE.n_verts, SPHERE.n_faces


class _Bundle:
    frames = np.zeros((5, 3, 3))


CASES = [
    (lambda: colors.categorical_colors(-1), "must be >= 0"),
    (lambda: colors.label_colors(np.zeros((2, 2), int)), "1-D"),
    (lambda: interaction.subsample_indices(-1, 3), "n must be >= 0"),
    (lambda: interaction.subsample_indices(5, 2, points=np.zeros((4, 3))), r"shape \(5, 3\)"),
    (lambda: interaction.ChannelBrowser(np.zeros((3, 0))), "C >= 1"),
    (lambda: interaction.pick_info(SPHERE), "needs a point or a vertex"),
    (lambda: correspondence.check_vertex_map(np.zeros(3, int), 4, 5), r"expected \(4,\)"),
    (lambda: correspondence.check_vertex_map(np.array(["a"]), 1, 5), "integers"),
    (lambda: correspondence.map_from_pairs([0, 1], [0], 3, 3), "differ in length"),
    (lambda: correspondence.map_from_pairs([0], [0], 3, 3, on_conflict="mean"), "on_conflict"),
    (
        lambda: correspondence.correspondence_scene(
            SPHERE, SPHERE, np.arange(V), target_colors=np.ones((3, 3))
        ),
        "target colours have shape",
    ),
    (
        lambda: correspondence.correspondence_scene(SPHERE, SPHERE, np.arange(V), error=np.ones(3)),
        "error has shape",
    ),
    (lambda: features.eigenpairs(SPHERE, 0), "must be >= 1"),
    (lambda: features.eigenpairs(SPHERE, V), f"only {V} vertices"),
    (lambda: features.eigenfunctions(SPHERE, [-1]), "must be >= 0"),
    (lambda: features.geodesic_distance(SPHERE, []), "at least one source"),
    (lambda: features.geodesic_distance(SPHERE, [V]), f"source vertex {V} out of range"),
    (lambda: features.vertex_frames(SPHERE, bundle=_Bundle()), "bundle frames have shape"),
    (lambda: features.tangent_to_world(np.ones((2, 2), complex), None), r"shape \(N,\)"),
    (lambda: features.tangent_to_world(np.ones((2, 4)), None), "vectors must be"),
    (lambda: features.tangent_to_world(np.ones((2, 2)), np.zeros((3, 3, 3))), r"expected \(2, 3, 3\)"),
    (lambda: inputs.resolve_field("hks:1-3", SPHERE), "one scale"),
    (lambda: inputs.resolve_field("eig:5-2", SPHERE), "empty eigenfunction range"),
    (lambda: mv.from_pyvista(np.zeros(3)), "expects a pyvista dataset"),
    (
        lambda: mv.build_scene(SPHERE, scalars=np.ones((V, 2)), channels=np.ones((V, 2))),
        "give the channels once",
    ),
    (lambda: mv.build_scene(SPHERE, scalars=np.ones(F), isolines=3), "per-vertex scalar"),
]


@pytest.mark.parametrize("call, message", CASES, ids=[m for _, m in CASES])
def test_validator_fires(call, message):
    with pytest.raises(MeshError, match=message):
        call()


def test_file_validators(tmp_path):
    np.savez(tmp_path / "z.npz", a=np.ones(3))
    with pytest.raises(MeshError, match="has no array 'b'"):
        inputs.load_array(f"{tmp_path / 'z.npz'}:b")
    np.save(tmp_path / "s.npy", np.array("text"))
    with pytest.raises(MeshError, match="numeric"):
        inputs.load_array(tmp_path / "s.npy")
    np.save(tmp_path / "e.npy", np.zeros(0))
    with pytest.raises(MeshError, match="empty or scalar"):
        inputs.load_array(tmp_path / "e.npy")
    np.save(tmp_path / "l2.npy", np.zeros((V, 2), int))
    with pytest.raises(MeshError, match="one integer per row"):
        inputs.load_labels(tmp_path / "l2.npy", SPHERE)
    with pytest.raises(MeshError, match="one integer per row"):
        inputs.load_vertex_map(tmp_path / "l2.npy")
    np.save(tmp_path / "m.npy", np.arange(4))
    with pytest.raises(MeshError, match="expected 5"):
        inputs.load_vertex_map(tmp_path / "m.npy", n_src=5)
    np.savez(tmp_path / "p.npz", pred=np.zeros(V, int), scores=np.zeros((3, 2)))
    with pytest.raises(MeshError, match="3 score rows"):
        inputs.load_predictions(tmp_path / "p.npz", SPHERE)
    with pytest.raises(FileNotFoundError, match="bundle"):
        inputs.load_bundle(tmp_path / "missing.npz")


def test_scene_validators():
    with pytest.raises(MeshError, match="at least one view"):
        mv.Scene(0, off_screen=True)
    s = mv.Scene(2, off_screen=True, testing=True)
    try:
        with pytest.raises(MeshError, match="view 2 out of range"):
            s.view(2)
        with pytest.raises(MeshError, match="nothing to pick"):
            s.pick([0, 0, 1])
        with pytest.raises(MeshError, match="no channels to browse"):
            s.set_channel(1)
        with pytest.raises(MeshError, match="text position"):
            s.add_text("x", position="middle")
        with pytest.raises(MeshError, match="camera direction"):
            s.camera([0, 0, 0])
        with pytest.raises(MeshError, match="colors must be finite"):
            s.add_colors(SPHERE, np.ones((V, 2)))
        with pytest.raises(MeshError, match="arrow vertex ids out of range"):
            s.add_vectors(SPHERE, np.ones((1, 3)), at=[V])
        with pytest.raises(MeshError, match="vectors have 3 rows"):
            s.add_vectors(SPHERE, np.ones((3, 3)))
        with pytest.raises(MeshError, match=f"source vertex {V} out of range"):
            s.add_transport(SPHERE, V, np.ones(V, complex))
        with pytest.raises(MeshError, match="use add_channels"):
            s.add_mesh(SPHERE, np.ones((V, 2)))
        with pytest.raises(MeshError, match="unknown backend"):
            s.show(backend="qt")
    finally:
        s.plotter.close()
