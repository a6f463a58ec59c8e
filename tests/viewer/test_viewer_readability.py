"""The viewer as a user looks at it (issue 19 item 8), checked by behaviour where possible: legends list
their classes in order in black type; signed fields get a diverging colour map centred at 0; geodesic
sources are marked by spheres sized to the mesh and drawn on top; arrows are evenly spread at a spacing
set by the mesh's size and edge length; the slider's value and the title agree; colour bars stay inside
the picture. Plus offscreen screenshots of every view: not blank, nothing cut at the image's edge."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import shapes
from manifoldnet.data.generated import generate_shape

mv = pytest.importorskip("manifoldnet_viewer")
pv = pytest.importorskip("pyvista")
from manifoldnet_viewer import colors, features, interaction  # noqa: E402
from manifoldnet_viewer.scene import text_width  # noqa: E402

WINDOW = (320, 240)


@pytest.fixture(scope="module")
def star():
    return generate_shape("star", seed=2, n_verts=1200)


@pytest.fixture(scope="module")
def sphere():
    return shapes.icosphere(3)


def scene(n_views: int = 1, window=WINDOW):
    return mv.Scene(n_views, off_screen=True, testing=True, window_size=window)


def background(img: np.ndarray) -> np.ndarray:
    """Pixels of the white background, (H, W) bool; the lines between side-by-side views (columns inked
    over their whole height) count as background."""
    bg = (img >= 250).all(axis=2)
    bg[:, (~bg).mean(axis=0) > 0.9] = True
    return bg


def assert_edges_clear(img: np.ndarray) -> None:
    """Nothing is cut by the image's edge: its two outermost rows and columns are background."""
    bg = background(img)
    for name, edge in (("top", bg[:2]), ("bottom", bg[-2:]), ("left", bg[:, :2]), ("right", bg[:, -2:])):
        assert edge.all(), f"something reaches the {name} edge of the picture"


# ---------------------------------------------------------------- legends
def test_legend_lists_classes_in_order_in_black(star):
    s = scene()
    labels = star.labels.copy()
    labels[labels == 2] = 9  # ids need not be contiguous
    s.add_labels(star.mesh, labels, n_classes=10)
    legend = s.plotter.legend
    texts = [legend.GetEntryString(i) for i in range(legend.GetNumberOfEntries())]
    ids = [int(re.fullmatch(r"class (\d+)", t).group(1)) for t in texts]
    assert ids == sorted(np.unique(labels).tolist())
    # the text is black (entry colours are unset, so VTK uses the black text property) ...
    assert_allclose(legend.GetEntryTextProperty().GetColor(), (0, 0, 0))
    for i, c in enumerate(ids):
        assert all(x < 0 for x in legend.GetEntryColor(i))
        # ... and the class colour is carried by the swatch
        rgb = pv.wrap(legend.GetEntrySymbol(i)).point_data["rgb"]
        assert_allclose(rgb / 255, np.tile(colors.categorical_colors(10)[c], (len(rgb), 1)), atol=0.003)
    s.plotter.close()


def test_legend_rows_keep_a_readable_height_in_small_windows(star):
    for window in [(200, 150), (640, 480)]:
        s = scene(window=window)
        s.add_labels(star.mesh, star.labels)
        legend = s.plotter.legend
        rows = legend.GetNumberOfEntries()
        height_px = legend.GetPosition2()[1] * window[1]
        assert height_px / rows >= 13  # at least ~14 pixels a row whatever the window
        s.plotter.close()


# ---------------------------------------------------------------- signed fields
def test_signed_fields_get_a_diverging_map_centred_at_zero(star):
    mesh = star.mesh
    for spec in ("eig:3", "mean"):
        values = mv.resolve_field(spec, mesh).values
        assert colors.is_signed(values)
        cmap, (lo, hi) = colors.colour_scale(values)
        assert cmap == colors.DIVERGING_CMAP and lo == -hi and hi == np.abs(values).max()
        s = mv.build_scene(mesh, scalars=spec, off_screen=True, window_size=WINDOW)
        actor = next(a for a in s.plotter.actors.values() if getattr(a, "mapper", None) is not None)
        lo, hi = actor.mapper.scalar_range
        assert lo == -hi
        # zero sits at the middle of the map, and the middle of RdBu_r is near white
        assert_allclose(actor.mapper.lookup_table.map_value(0.0)[:3], (0.97, 0.97, 0.97), atol=0.05)
        s.plotter.close()
    hks = mv.resolve_field("hks:3", mesh).values
    assert not colors.is_signed(hks)
    assert colors.colour_scale(hks) == ("viridis", colors.scalar_range(hks))
    # the user's choice wins: --cmap or --clim turns the automatic choice off
    phi = mv.resolve_field("eig:3", mesh).values
    assert colors.colour_scale(phi, cmap="magma") == ("magma", colors.scalar_range(phi))
    assert colors.colour_scale(phi, clim=(0, 1)) == ("viridis", (0.0, 1.0))
    # round-off on the other side of zero does not make a field signed
    assert not colors.is_signed(np.r_[np.linspace(0, 1, 50), -1e-17])
    # percentile: symmetric about zero too
    _, (lo, hi) = colors.colour_scale(np.r_[np.linspace(-1, 1, 101), 50.0], percentile=2)
    assert lo == -hi and hi < 2


def test_signed_channels_have_symmetric_ranges(sphere):
    chans = np.stack([sphere.verts[:, 0] + 0.5, 2 * sphere.verts[:, 1] ** 2], axis=1)
    b = interaction.ChannelBrowser(chans, signed=None)
    assert b.signed
    for k in (0, 1):
        lo, hi = b.clim(k)
        assert lo == -hi and hi == np.abs(chans[:, k]).max()
    assert interaction.ChannelBrowser(chans, fixed_range=(0, 3)).clim(1) == (0.0, 3.0)


# ---------------------------------------------------------------- geodesic sources
def test_source_markers_sized_to_the_mesh_and_on_top(sphere):
    for scale in (1.0, 1e3):
        mesh = sphere.with_verts(sphere.verts * scale)
        s = scene()
        s.add_geodesic(mesh, [0, 5])
        overlay = s._overlays[0]
        assert overlay.GetLayer() > s.plotter.renderer.GetLayer()  # drawn after (over) the surface
        assert overlay.GetActiveCamera() is s.plotter.renderer.GetActiveCamera()
        actors = overlay.GetActors()
        assert actors.GetNumberOfItems() == 2  # sphere and its outline
        diag = np.linalg.norm(np.ptp(mesh.verts, axis=0))
        marker = s.marker_radius(mesh)
        assert marker >= 0.012 * diag and marker >= 1.5 * mesh.edge_lengths.mean()
        # two balls of radius r around the two sources
        ball = pv.wrap(actors.GetLastActor().GetMapper().GetInput())
        centres = mesh.verts[[0, 5]]
        d = np.linalg.norm(np.asarray(ball.points)[:, None] - centres[None], axis=2).min(axis=1)
        assert_allclose(d, marker, rtol=1e-5)
        s.plotter.close()


def test_source_on_the_far_side_stays_visible(sphere):
    top = int(np.argmax(sphere.verts[:, 2]))

    def cyan_pixels(on_top):
        s = scene()
        s.add_mesh(sphere, color="lightgrey")
        s.add_markers(sphere, sphere.verts[[top]], color="cyan", on_top=on_top)
        img = s.camera((0.0, 0.0, -1.0)).screenshot()  # looking from below: the source is behind
        r, g, b = (img[..., c].astype(int) for c in range(3))
        return np.count_nonzero((r < 80) & (g > 150) & (b > 150))

    assert cyan_pixels(on_top=True) > 50
    assert cyan_pixels(on_top=False) == 0


# ---------------------------------------------------------------- arrows
def test_arrow_sites_evenly_spread_at_the_spacing(star):
    mesh = star.mesh
    s = scene()
    spacing = s.arrow_spacing(mesh, 400)
    diag = np.linalg.norm(np.ptp(mesh.verts, axis=0))
    assert spacing >= 0.05 * diag and spacing >= 2.5 * mesh.edge_lengths.mean()
    sites = s.arrow_sites(mesh, 400)
    assert np.array_equal(sites, s.arrow_sites(mesh, 400))  # deterministic
    p = mesh.verts[sites]
    pair = np.linalg.norm(p[:, None] - p[None], axis=2)
    np.fill_diagonal(pair, np.inf)
    assert pair.min() >= spacing  # never closer than the spacing ...
    cover = np.linalg.norm(mesh.verts[:, None] - p[None], axis=2).min(axis=1)
    assert cover.max() < spacing  # ... and every vertex within one spacing of an arrow
    assert 20 < sites.size <= 400
    # a small cap widens the spacing to sqrt(area / cap): at most the cap, still evenly spread
    few = mesh.verts[s.arrow_sites(mesh, 12)]
    assert 6 <= few.shape[0] <= 12
    gaps = np.linalg.norm(few[:, None] - few[None], axis=2) + np.diag(np.full(few.shape[0], np.inf))
    assert gaps.min() >= s.arrow_spacing(mesh, 12) >= np.sqrt(mesh.total_area / 12)
    # the same surface at 4x the resolution gets about the same number of arrows (the density is set by
    # the mesh's size once its edges are short enough)
    counts = [s.arrow_sites(shapes.icosphere(k), 400).size for k in (5, 6)]
    assert abs(counts[1] - counts[0]) < 0.1 * counts[0]
    s.plotter.close()


def test_transport_draws_one_arrow_per_site(star):
    mesh = star.mesh
    field = features.transported_field(mesh, 10)
    s = scene()
    actor = s.add_transport(mesh, 10, field, max_arrows=400)
    arrow = pv.Arrow(
        tip_length=0.35, tip_radius=0.14, shaft_radius=0.05, tip_resolution=12, shaft_resolution=8
    )
    n_arrows = actor.mapper.dataset.n_points / arrow.n_points
    nonzero = np.abs(field[s.arrow_sites(mesh, 400)]) > 0
    assert n_arrows == nonzero.sum()
    s.plotter.close()


# ---------------------------------------------------------------- slider
def test_slider_value_and_title_agree(star):
    s = mv.build_scene(star.mesh, channels="eig:3-7", off_screen=True, window_size=WINDOW)
    slider = s.plotter.widgets.slider_widgets[0].GetRepresentation()
    assert (slider.GetMinimumValue(), slider.GetMaximumValue()) == (3, 7)

    def shown():
        return s.plotter.actors["channel title 0"].GetInput()

    assert slider.GetValue() == 3 and shown() == "eigenfunction 3"
    for value in (3.0, 4.4, 5.6, 7.0, 99.0, 6):
        s.set_channel(value)  # what the slider calls; code may call it too
        assert slider.GetValue() == min(round(value), 7)  # the slider snaps to the channel shown
        assert shown().endswith(f" {slider.GetValue():.0f}")
    s.plotter.close()
    # names that do not end with their number get it appended, so they agree too
    b = interaction.ChannelBrowser(np.ones((4, 3)), names=("x", "y^2", "z 1"), ids=(1, 2, 3))
    assert [b.title(v) for v in (1, 2, 3)] == ["x (1)", "y^2 (2)", "z 1 (3)"]
    assert b.title(1.0) == "x (1)" and b.slider_range == (1, 3)
    with pytest.raises(Exception, match="consecutive integers"):
        interaction.ChannelBrowser(np.ones((4, 3)), ids=(0, 2, 3))


# ---------------------------------------------------------------- colour bar
@pytest.mark.parametrize(
    "window,n_views,title,scale",
    [
        ((240, 240), 1, "distance", 1.0),
        ((320, 240), 1, "a long title for a colour bar", -1e4),
        ((640, 240), 3, "mean curvature of the surface", 1e-5),
        ((180, 300), 1, "a title far wider than this narrow window", 1.0),
    ],
)
def test_colour_bar_inside_its_view(sphere, window, n_views, title, scale):
    s = scene(n_views, window)
    for k in range(n_views):
        s.view(k)
        actor = s.add_mesh(sphere, scale * sphere.verts[:, 0] + (k - 1) * abs(scale), title=title)
        actor.visibility = False  # only the bar is drawn
    img = s.screenshot()
    ink = ~background(img)
    w = img.shape[1] // n_views
    for k in range(n_views):
        cols = np.flatnonzero(ink[:, k * w : (k + 1) * w].any(axis=0))
        assert cols.size > 10  # a bar was drawn
        assert cols.min() >= 2 and cols.max() <= w - 3, f"view {k}: bar at columns {cols.min()}..{cols.max()}"
    assert_edges_clear(img)


def test_text_width_grows_with_text_and_size():
    assert 0 < text_width("ab", 12) < text_width("abcd", 12) < text_width("abcd", 24)


# ---------------------------------------------------------------- screenshots of every view
VIEWS = {
    "scalar": {"scalars": "hks:4"},
    "signed": {"scalars": "eig:5", "isolines": 5},
    "curvature": {"scalars": "mean", "percentile": 2},
    "labels": {"labels": "LABELS"},
    "channels": {"channels": "eig:1-6"},
    "geodesic": {"geodesic": [0, 300], "isolines": 8},
    "transport": {"frames": True, "transport": 40, "max_arrows": 150},
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_screenshot_of_each_view(star, tmp_path, view):
    kw = dict(VIEWS[view])
    if kw.get("labels") == "LABELS":
        kw["labels"] = star.labels
    out = tmp_path / f"{view}.png"
    img = mv.screenshot(star.mesh, out, window_size=WINDOW, **kw)
    assert out.stat().st_size > 2000 and img.shape == (WINDOW[1], WINDOW[0], 3)
    ink = ~background(img)
    assert 0.05 < ink.mean() < 0.8  # a picture, not blank and not a flood
    assert_edges_clear(img)  # bar, legend, slider and text all inside the picture


def test_screenshot_of_correspondence(star):
    other = generate_shape("star", seed=3, n_verts=1300)
    from scipy.spatial import cKDTree

    vmap = cKDTree(other.params).query(star.params)[1]
    err = np.linalg.norm(other.mesh.verts[vmap] - star.mesh.verts, axis=1)
    s = mv.correspondence_scene(
        star.mesh, other.mesh, vmap, error=err, off_screen=True, window_size=(720, 240)
    )
    img = s.camera("iso").screenshot()
    ink = ~background(img)
    assert 0.05 < ink.mean() < 0.8
    assert_edges_clear(img)
