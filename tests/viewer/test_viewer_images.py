"""Offscreen image tests of the viewer on generated meshes, against small committed reference PNGs.

Fixed testing theme (:func:`manifoldnet_viewer.viewer_theme` with ``testing=True``) and window size.
Regenerate the references after an intended change with::

    MANIFOLDNET_UPDATE_IMAGES=1 .venv/bin/python -m pytest tests/viewer/test_viewer_images.py

References are stored as 128/256-colour palette PNGs (a few KB); the comparison is
``pyvista.compare_images`` (VTK's image difference, tolerant of one-pixel shifts) below ``TOLERANCE``:
quantizing costs ~100, a 5% shift of the colour range ~250-450, another colormap ~2800.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import MeshError, shapes

mv = pytest.importorskip("manifoldnet_viewer")
pv = pytest.importorskip("pyvista")
Image = pytest.importorskip("PIL.Image")

REFERENCE = Path(__file__).parent / "reference"
UPDATE = os.environ.get("MANIFOLDNET_UPDATE_IMAGES", "") not in ("", "0")
TOLERANCE = 250.0
WINDOW = (240, 240)


def _reference_png(img: np.ndarray) -> bytes:
    """The smallest PNG of ``img`` whose quantization error stays under 75% of the tolerance
    (128- or 256-colour palette, else full RGB)."""
    for colors in (128, 256, None):
        im = Image.fromarray(img)
        if colors is not None:
            im = im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        if colors is None or pv.compare_images(img, back) < 0.75 * TOLERANCE:
            return buf.getvalue()
    raise AssertionError("unreachable")


def check_image(img: np.ndarray, name: str) -> None:
    """Compare ``img`` with ``reference/<name>.png`` (or write it when MANIFOLDNET_UPDATE_IMAGES is set)."""
    path = REFERENCE / f"{name}.png"
    if UPDATE:
        REFERENCE.mkdir(exist_ok=True)
        path.write_bytes(_reference_png(img))
        return
    assert path.exists(), f"no reference image {path}; create it with MANIFOLDNET_UPDATE_IMAGES=1"
    ref = np.asarray(Image.open(path).convert("RGB"))
    assert ref.shape == img.shape, f"{name}: image {img.shape} vs reference {ref.shape}"
    err = pv.compare_images(img, ref)
    assert err < TOLERANCE, f"{name}: image differs from its reference (error {err:.0f} >= {TOLERANCE})"


def scene(n_views: int = 1, window=WINDOW):
    return mv.Scene(n_views, off_screen=True, testing=True, window_size=window)


@pytest.fixture(scope="module")
def sphere():
    return shapes.icosphere(3)


@pytest.fixture(scope="module")
def torus():
    return shapes.torus(n_major=32, n_minor=16)


def test_scalar_with_nan_and_colour_bar(sphere):
    z = sphere.verts[:, 2].copy()
    z[:40] = np.nan
    s = scene()
    s.add_mesh(sphere, z, clim=(-1, 1), nan_color="magenta", title="z")
    img = s.camera("iso").screenshot()

    # NaN vertices are drawn in the NaN colour: (shaded) magenta pixels exist, none without NaN
    def magenta(im):
        r, g, b = (im[..., c].astype(int) for c in range(3))
        return np.count_nonzero((r > 120) & (b > 120) & (g < 40) & (abs(r - b) < 30))

    assert magenta(img) > 50
    s = scene()
    s.add_mesh(sphere, sphere.verts[:, 2], clim=(-1, 1), nan_color="magenta", title="z")
    assert magenta(s.camera("iso").screenshot()) == 0
    check_image(img, "scalar_nan")


def test_face_labels_with_legend(torus):
    centre = torus.verts[torus.faces].mean(axis=1)
    labels = (np.floor((np.arctan2(centre[:, 1], centre[:, 0]) + np.pi) / (2 * np.pi) * 8) % 8).astype(int)
    labels[:20] = -1
    s = scene()
    s.add_labels(torus, labels, per="face", max_legend=4)
    check_image(s.camera("xy").screenshot(), "labels_torus")


def test_isolines_of_height_are_latitude_circles(sphere):
    s = scene()
    s.add_mesh(sphere, sphere.verts[:, 2], cmap="coolwarm", scalar_bar=False)
    actor = s.add_isolines(sphere, sphere.verts[:, 2], n=5, lift=0)
    lines = actor.mapper.dataset
    # contour points of z = level lie at that height: 5 distinct heights evenly inside (-1, 1)
    heights = np.unique(np.round(np.asarray(lines.points)[:, 2], 6))
    assert_allclose(heights, np.linspace(-1, 1, 7)[1:-1] * np.abs(sphere.verts[:, 2]).max(), atol=1e-6)
    check_image(s.camera("xz").screenshot(), "isolines_sphere")


def _rotation_field(sphere):
    n = sphere.verts / np.linalg.norm(sphere.verts, axis=1, keepdims=True)
    e1 = np.cross([0.31, 0.17, 0.93], n)  # an axis through no vertex
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(n, e1)
    return np.stack([e1, e2, n], axis=1)


def test_vectors_in_gauge_equal_vectors_in_world(sphere):
    frames = _rotation_field(sphere)
    z = 0.3 + 0.8j  # a fixed vector in every gauge
    world = 0.3 * frames[:, 0] + 0.8 * frames[:, 1]
    s1 = scene()
    s1.add_mesh(sphere)
    s1.add_vectors(sphere, world, max_arrows=120)
    a = s1.camera("iso").screenshot()
    s2 = scene()
    s2.add_mesh(sphere)
    s2.add_vectors(sphere, np.full(sphere.n_verts, z), frames=frames, max_arrows=120)
    b = s2.camera("iso").screenshot()
    assert pv.compare_images(a, b) < 1.0
    check_image(a, "vectors_sphere")


def test_frames_arrows(sphere):
    s = scene()
    s.add_mesh(sphere)
    s.add_frames(sphere, _rotation_field(sphere), max_arrows=80, normal=True)
    check_image(s.camera("iso").screenshot(), "frames_sphere")
    with pytest.raises(MeshError, match="frames have shape"):
        scene().add_frames(sphere, np.zeros((3, 3, 3)))


def test_channel_slider_shows_the_selected_channel(sphere):
    chans = np.stack([sphere.verts[:, 0], sphere.verts[:, 1] ** 2, np.sin(3 * sphere.verts[:, 2])], axis=1)

    def render(index, set_to=None):
        s = scene()
        s.add_channels(sphere, chans, index=index, slider=False)
        if set_to is not None:
            assert s.set_channel(set_to) == round(set_to)
        return s.camera("iso").screenshot()

    moved = render(0, set_to=2.2)  # the slider callback, called directly: no display needed
    direct = render(2)
    assert pv.compare_images(moved, direct) < 1.0
    assert pv.compare_images(moved, render(0)) > 4 * TOLERANCE
    s = scene()
    s.add_channels(sphere, chans, index=1, names=["x", "y^2", "sin 3z"])
    check_image(s.camera("iso").screenshot(), "channels_slider")


def test_pick_reports_nearest_vertex(sphere):
    s = scene()
    s.add_mesh(sphere, sphere.verts[:, 0], title="x")
    text = s.pick(sphere.verts[10] * 1.05)
    assert text.splitlines()[0].startswith("vertex 10 ")
    assert f"x: {sphere.verts[10, 0]:.6g}" in text


def test_correspondence_colour_transfer_and_error(sphere):
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    target = sphere.with_verts(sphere.verts @ rot.T)
    true = np.arange(sphere.n_verts)
    pred = true.copy()
    pred[sphere.verts[:, 2] > 0.6] = 0  # a wrong cap: error there, zero elsewhere
    err = mv.correspondence_error(target, pred, true, metric="euclidean")
    assert_allclose(err[sphere.verts[:, 2] <= 0.6], 0)
    s = mv.correspondence_scene(
        sphere, target, pred, error=err, off_screen=True, testing=True, window_size=(480, 180)
    )
    check_image(s.camera("xz").screenshot(), "correspondence")


def test_screenshot_api_writes_png(tmp_path, sphere):
    out = tmp_path / "sub" / "shot.png"
    img = mv.screenshot(sphere, out, scalars=sphere.verts[:, 1], window_size=(160, 120), testing=True)
    assert out.exists() and img.shape == (120, 160, 3)
    assert_allclose(np.asarray(Image.open(out).convert("RGB")), img)
    with pytest.raises(MeshError, match="one surface colouring at a time"):
        mv.build_scene(sphere, scalars=sphere.verts[:, 0], labels=np.zeros(sphere.n_verts, int))


def test_picking_through_the_vtk_picker(sphere):
    """The interactive path: a VTK point pick at the window centre reaches Scene.pick, which reports the
    vertex facing the camera (looking down -z: the vertex of largest z)."""
    s = scene(window=(200, 200))
    s.add_mesh(sphere, sphere.verts[:, 0], title="x")
    reports = []
    shown = s.pick
    s.pick = lambda point: reports.append(shown(point))
    s.camera("xy").enable_picking()
    s.plotter.render()
    s.plotter.iren.picker.Pick(100, 100, 0, s.plotter.renderer)
    top = int(np.argmax(sphere.verts[:, 2]))
    assert len(reports) == 1 and reports[0].startswith(f"vertex {top} ")
    s.plotter.close()


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_extreme_scales_render_like_the_unit_mesh(sphere, scale):
    """Arrow lengths, isoline lift and camera follow the mesh size: a scaled mesh looks the same."""
    field = np.cross(sphere.verts, [0.31, 0.17, 0.93])

    def render(m, s):
        sc = scene()
        sc.add_mesh(m, m.verts[:, 2] / s, scalar_bar=False)
        sc.add_isolines(m, m.verts[:, 2], n=5)
        sc.add_vectors(m, field * s, max_arrows=100)
        return sc.camera("iso").screenshot()

    big = render(sphere.with_verts(sphere.verts * scale), scale)
    assert pv.compare_images(big, render(sphere, 1.0)) < 0.2 * TOLERANCE
