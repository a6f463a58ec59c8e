"""``Scene``: a PyVista plotter built up layer by layer (surface colouring, isolines, arrows, frames,
a channel slider, picking), the same for the on-screen window, the offscreen screenshot and the browser.

Every ``add_*`` method takes a :class:`manifoldnet.Mesh` and plain arrays; what needs geometry
(geodesic distances, frames, normals) is asked from :mod:`manifoldnet_viewer.features`.
"""

from __future__ import annotations

import numpy as np

from manifoldnet import Mesh, MeshError

from . import features
from ._pv import headless, require_pyvista, require_web
from .arrows import ArrowsMixin
from .colors import categorical_colors, colour_scale, is_signed, label_colors, vertex_to_face_labels
from .convert import as_mesh, to_pyvista
from .interaction import ChannelBrowser, format_pick, pick_info
from .web import serve

__all__ = ["DEFAULT_WINDOW", "TESTING_WINDOW", "Scene", "viewer_theme"]

DEFAULT_WINDOW = (1024, 768)
TESTING_WINDOW = (300, 300)


def viewer_theme(testing: bool = False):
    """The viewer's theme: white background, black text, grey surfaces, NaN in magenta.

    ``testing=True`` fixes everything an image test depends on: a 300x300 window, no anti-aliasing,
    no smooth shading, fixed font sizes.
    """
    pv = require_pyvista()
    theme = pv.themes.DocumentTheme()
    theme.background = "white"
    theme.font.color = "black"
    theme.color = "lightgrey"
    theme.nan_color = "magenta"
    theme.cmap = "viridis"
    theme.show_scalar_bar = True
    theme.window_size = list(TESTING_WINDOW if testing else DEFAULT_WINDOW)
    if testing:
        theme.anti_aliasing = None
        theme.smooth_shading = False
        theme.font.size = 10
        theme.font.title_size = 10
        theme.font.label_size = 10
    return theme


def text_width(text: str, font_size: int, dpi: int = 72) -> int:
    """Width in pixels of ``text`` drawn in the viewer's font (Arial) at ``font_size`` (VTK's measure)."""
    require_pyvista()
    from vtkmodules.vtkRenderingCore import vtkTextProperty, vtkTextRenderer

    prop = vtkTextProperty()
    prop.SetFontFamilyToArial()
    prop.SetFontSize(int(font_size))
    box = [0, 0, 0, 0]
    vtkTextRenderer.GetInstance().GetBoundingBox(prop, str(text), box, dpi)
    return int(box[1] - box[0])


def _split_values(mesh: Mesh, values, per: str | None, what: str) -> tuple[np.ndarray, str]:
    """Validate a per-vertex or per-face array; return it and ``"vertex"`` / ``"face"``."""
    a = np.asarray(values)
    if a.ndim == 0:
        raise MeshError(f"{what} must be an array with one row per vertex or face, got a scalar")
    n = a.shape[0]
    if per is None:
        per = "vertex" if n == mesh.n_verts else "face" if n == mesh.n_faces else None
    if per not in ("vertex", "face"):
        raise MeshError(
            f"{what} has {n} rows, but the mesh has {mesh.n_verts} vertices and {mesh.n_faces} faces"
        )
    want = mesh.n_verts if per == "vertex" else mesh.n_faces
    if n != want:
        raise MeshError(f"{what} has {n} rows, expected {want} (one per {per})")
    return a, per


class Scene(ArrowsMixin):
    """A plotter with one or more side-by-side views (``n_views``) of meshes and their features.

    Parameters
    ----------
    n_views : number of side-by-side subplots (1 row).
    window_size : (width, height) pixels; default from the theme.
    off_screen : render without a window (screenshots, tests); default False.
    testing : use the fixed testing theme (see :func:`viewer_theme`).
    link_views : share one camera between the views (same-pose meshes).
    """

    def __init__(
        self,
        n_views: int = 1,
        *,
        window_size=None,
        off_screen: bool = False,
        testing: bool = False,
        link_views: bool = False,
    ):
        pv = require_pyvista()
        if n_views < 1:
            raise MeshError(f"a scene needs at least one view, got {n_views}")
        self.theme = viewer_theme(testing)
        self.testing = testing
        self.plotter = pv.Plotter(
            shape=(1, n_views),
            off_screen=off_screen,
            theme=self.theme,
            window_size=list(window_size) if window_size else None,
        )
        if link_views and n_views > 1:
            self.plotter.link_views()
        self.n_views = n_views
        self._view = 0
        self._bars = 0
        self._channels: dict[int, tuple] = {}  # view -> (poly, actor, browser, bar title)
        self._pick_target: tuple | None = None  # (mesh, arrays) that picking reports on
        self._arrays: dict[str, np.ndarray] = {}
        self._overlays: dict[int, object] = {}  # view -> renderer drawn on top (markers)

    # ------------------------------------------------------------------ helpers
    def view(self, index: int) -> Scene:
        """Make view ``index`` current for the next ``add_*`` calls."""
        if not 0 <= index < self.n_views:
            raise MeshError(f"view {index} out of range for a scene with {self.n_views} views")
        self.plotter.subplot(0, index)
        self._view = index
        return self

    def _view_pixels(self) -> tuple[int, int]:
        """(width, height) in pixels of one view (the views split the window side by side)."""
        w, h = (int(x) for x in self.plotter.window_size)
        return max(1, w // self.n_views), h

    def _bar_args(self, title: str | None, values=(0.0, 1.0), fmt: str = "%.3g", n_labels: int = 5) -> dict:
        """Scalar bar arguments for a vertical bar at the view's right edge, placed so that its title and
        labels (measured at their fixed font sizes) stay inside the view, never clipped by its edge.
        ``values``: the range the bar will show (its tick labels are measured)."""
        self._bars += 1  # pyvista merges scalar bars with equal titles; make each one unique but readable
        t = (title or "value") + " " * (self._bars - 1)
        w, h = self._view_pixels()
        lo, hi = (float(x) for x in (np.nanmin(values), np.nanmax(values)))
        ticks = [fmt % x for x in np.linspace(lo, hi, n_labels)] if np.isfinite([lo, hi]).all() else ["nan"]
        title_size, label_size = max(8, h // 28), max(8, h // 32)
        margin, box = 6.0, 0.07 * w
        title_w = text_width(t, title_size)
        if title_w > w - 2 * margin:  # a title wider than the view: smaller type, never clipped
            title_size = max(6, int(title_size * (w - 2 * margin) / title_w))
            title_w = text_width(t, title_size)
        label_w = max(text_width(x, label_size) for x in ticks)
        # the bar fills 3/8 of its box; tick labels start right of it; the title is centred on the box
        reach = max(box, 0.375 * box + 6 + label_w, 0.5 * box + 0.5 * title_w)
        x0 = min(0.82 * w, w - margin - reach)
        x0 = max(x0, margin + 0.5 * title_w - 0.5 * box)
        return {
            "title": t,
            "vertical": True,
            "position_x": x0 / w,
            "position_y": 0.1,
            "height": 0.75,
            "width": 0.07,
            "fmt": fmt,
            "n_labels": n_labels,
            "title_font_size": title_size,
            "label_font_size": label_size,
        }

    def _remember(self, mesh: Mesh, name: str, values) -> None:
        if self._pick_target is None:
            self._pick_target = mesh
        if self._pick_target is mesh:
            self._arrays[name] = np.asarray(values)

    # ------------------------------------------------------------------ surfaces
    def add_mesh(
        self,
        mesh,
        scalars=None,
        *,
        per: str | None = None,
        cmap: str | None = None,
        clim=None,
        percentile: float | None = None,
        nan_color=None,
        scalar_bar: bool = True,
        title: str | None = None,
        color=None,
        opacity: float = 1.0,
        show_edges: bool = False,
        smooth_shading: bool | None = None,
    ):
        """Draw ``mesh`` coloured by ``scalars`` ((V,) per vertex or (F,) per face, NaN allowed) or plain.

        ``clim`` fixes the colour range (default min/max, or the ``percentile`` / ``100 - percentile``
        percentiles for heavy-tailed values); NaN values get ``nan_color``. A signed field (values of both
        signs: eigenfunctions, curvature) gets a diverging colour map centred at 0 (symmetric range) unless
        ``cmap`` or ``clim`` is given (:func:`~manifoldnet_viewer.colors.colour_scale`). Returns the
        pyvista actor.
        """
        mesh = as_mesh(mesh)
        poly = to_pyvista(mesh)
        kw = {"opacity": opacity, "show_edges": show_edges, "smooth_shading": smooth_shading}
        if nan_color is not None:
            kw["nan_color"] = nan_color
        if scalars is None:
            self._remember(mesh, "mesh", np.zeros(mesh.n_verts))
            return self.plotter.add_mesh(poly, color=color, **kw)
        a, where = _split_values(mesh, scalars, per, title or "scalars")
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 1:
            raise MeshError(f"scalars must be one value per {where}, got shape {a.shape} (use add_channels)")
        name = title or "value"
        (poly.point_data if where == "vertex" else poly.cell_data)[name] = a
        self._remember(mesh, name, a)
        cmap, lim = colour_scale(a, cmap, clim, percentile, default_cmap=self.theme.cmap)
        return self.plotter.add_mesh(
            poly,
            scalars=name,
            preference="point" if where == "vertex" else "cell",
            cmap=cmap,
            clim=lim,
            show_scalar_bar=scalar_bar,
            scalar_bar_args=self._bar_args(name, lim) if scalar_bar else None,
            **kw,
        )

    def add_labels(
        self,
        mesh,
        labels,
        *,
        per: str | None = None,
        n_classes: int | None = None,
        names: dict | list | None = None,
        legend: bool = True,
        max_legend: int = 12,
        sharp: bool = True,
        show_edges: bool = False,
    ):
        """Draw integer ``labels`` ((V,) or (F,); negative = unlabelled, grey) in distinct colours.

        The legend lists the ``max_legend`` most frequent classes in class order (then "+ k more"), named
        by ``names`` (a list or a dict id -> name) when given, in black beside a swatch of each colour.
        Per-vertex labels are drawn per face by majority of its corners (``sharp``,
        :func:`~manifoldnet_viewer.colors.vertex_to_face_labels`), or with colours blended across faces
        whose corners disagree (``sharp=False``).
        """
        mesh = as_mesh(mesh)
        lab, where = _split_values(mesh, labels, per, "labels")
        colors = label_colors(lab, n_classes)
        self._remember(mesh, "label", np.asarray(lab))
        if where == "vertex" and sharp:
            colors = label_colors(vertex_to_face_labels(mesh.faces, lab), n_classes)
            where = "face"
        actor = self.add_colors(mesh, colors, per=where, show_edges=show_edges)
        if legend:
            self.add_legend(self.legend_entries(lab, n_classes, names, max_legend))
        return actor

    def add_legend(self, entries: list[list]):
        """A legend in the current view's lower left corner: ``entries`` ``[[text, rgb], ...]`` drawn as
        black text beside a swatch of the colour (VTK's legend would colour the text itself, which is
        unreadable for pale colours), on a white background. Returns the VTK legend actor (or None)."""
        if not entries:
            return None
        # rows of at least 14 pixels whatever the window (VTK fits the type to the box)
        w, h = self._view_pixels()
        row = max(14, h // 24)
        text_w = max(text_width(text, int(0.8 * row)) for text, _ in entries)
        legend = self.plotter.add_legend(
            [[text, color] for text, color in entries],
            bcolor="white",
            background_opacity=0.8,
            border=False,
            size=(min(0.5, (text_w + 2.5 * row + 8) / w), min(0.7, (len(entries) * row + 8) / h)),
            loc="lower left",
            face="rectangle",
        )
        pv = require_pyvista()
        for i, (_text, color) in enumerate(entries):
            # the swatch carries its colour as RGB scalars; a negative entry colour leaves the text to
            # the entry text property (black)
            swatch = pv.wrap(legend.GetEntrySymbol(i)).copy()
            rgb = (np.clip(np.asarray(color, dtype=np.float64), 0, 1) * 255).round().astype(np.uint8)
            swatch.point_data["rgb"] = np.tile(rgb, (swatch.n_points, 1))
            legend.SetEntrySymbol(i, swatch)
            legend.SetEntryColor(i, -1.0, -1.0, -1.0)
        legend.GetEntryTextProperty().SetColor(0.0, 0.0, 0.0)
        legend.GetProperty().SetColor(0.0, 0.0, 0.0)
        return legend

    @staticmethod
    def legend_entries(labels, n_classes=None, names=None, max_legend: int = 12) -> list[list]:
        """``[[text, rgb], ...]``: the ``max_legend`` most frequent classes (ties: lower id), listed by class
        id, plus one "+ k more classes" line when some are left out. Pure (tested without rendering)."""
        lab = np.asarray(labels).astype(np.int64)
        lab = lab[lab >= 0]
        if lab.size == 0:
            return []
        n = int(lab.max()) + 1 if n_classes is None else int(n_classes)
        counts = np.bincount(lab, minlength=n)
        present = np.flatnonzero(counts)
        order = present[np.lexsort((present, -counts[present]))]
        pal = categorical_colors(n)
        shown = np.sort(order[:max_legend])

        def name(c):
            if names is None:
                return f"class {c}"
            return str(names.get(int(c), f"class {c}") if isinstance(names, dict) else names[int(c)])

        entries = [[name(c), pal[c].tolist()] for c in shown]
        if order.size > shown.size:
            entries.append([f"+ {order.size - shown.size} more classes", [0.3, 0.3, 0.3]])
        return entries

    def add_colors(self, mesh, colors, *, per: str | None = None, show_edges: bool = False):
        """Draw ``mesh`` with explicit RGB ``colors`` ((V, 3) or (F, 3), floats in [0, 1])."""
        mesh = as_mesh(mesh)
        c, where = _split_values(mesh, colors, per, "colors")
        c = np.asarray(c, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 3 or not np.all(np.isfinite(c)):
            raise MeshError(f"colors must be finite (N, 3) RGB in [0, 1], got shape {c.shape}")
        poly = to_pyvista(mesh)
        (poly.point_data if where == "vertex" else poly.cell_data)["rgb"] = (
            (np.clip(c, 0, 1) * 255).round().astype(np.uint8)
        )
        return self.plotter.add_mesh(
            poly,
            scalars="rgb",
            rgb=True,
            show_edges=show_edges,
            preference="point" if where == "vertex" else "cell",
        )

    def add_channels(
        self,
        mesh,
        values,
        *,
        names=None,
        ids=None,
        index: int = 0,
        per: str | None = None,
        shared_range: bool = False,
        cmap: str | None = None,
        clim=None,
        slider: bool = True,
        title: str = "channel",
    ):
        """Draw channel ``index`` (0-based) of ``values`` ((V, C) or (F, C)) with a slider that browses the
        channels; the slider shows each channel's id (``ids``, default 0..C-1) and the title agrees.

        Signed values get a diverging colour map with ranges symmetric about 0 unless ``cmap`` or ``clim``
        is given (``clim`` fixes one range for all channels). The slider calls :meth:`set_channel`, which
        is what a test calls too.
        """
        mesh = as_mesh(mesh)
        vals, where = _split_values(mesh, values, per, "channels")
        signed = cmap is None and clim is None and is_signed(vals)
        browser = ChannelBrowser(
            vals,
            tuple(names) if names is not None else None,
            shared_range,
            ids=None if ids is None else tuple(ids),
            signed=signed,
            fixed_range=None if clim is None else tuple(clim),
        )
        cmap, lim = colour_scale(vals, cmap, clim, default_cmap=self.theme.cmap)
        poly = to_pyvista(mesh)
        data = poly.point_data if where == "vertex" else poly.cell_data
        data["channel"] = browser.scalars(browser.ids[index])
        actor = self.plotter.add_mesh(
            poly,
            scalars="channel",
            cmap=cmap,
            clim=browser.clim(browser.ids[index]),
            scalar_bar_args=self._bar_args(title, lim),
            preference="point" if where == "vertex" else "cell",
        )
        view = self._view
        self._channels[view] = (data, actor, browser, None)
        self._remember(mesh, "channels", browser.values)
        self.add_text(browser.title(browser.ids[index]), name=f"channel title {view}")
        if slider and browser.n_channels > 1:
            y = max(0.08, 36.0 / self._view_pixels()[1])  # its title, drawn below it, stays inside
            widget = self.plotter.add_slider_widget(
                lambda value, v=view: self.set_channel(value, v),
                rng=list(browser.slider_range),
                value=browser.ids[index],
                title=title,
                fmt="%.0f",
                pointa=(0.1, y),
                pointb=(0.6, y),
                interaction_event="always",
            )
            self._channels[view] = (data, actor, browser, widget.GetRepresentation())
        return actor

    def set_channel(self, value: float, view: int = 0) -> int:
        """Show the channel a slider ``value`` (a channel id) selects in ``view``; returns its 0-based
        index. The view's title becomes that channel's title, which ends with its id, and the slider
        moves to that id."""
        if view not in self._channels:
            raise MeshError(f"view {view} has no channels to browse (call add_channels first)")
        data, actor, browser, slider = self._channels[view]
        i = browser.index(value)
        cid = browser.ids[i]  # the browser speaks slider values (channel ids), not 0-based indices
        if slider is not None and slider.GetValue() != cid:
            slider.SetValue(cid)  # snapped to the channel shown (also when called from code)
        data["channel"] = browser.scalars(cid)
        actor.mapper.scalar_range = browser.clim(cid)
        self.view(view)
        self.add_text(browser.title(cid), name=f"channel title {view}")
        return i

    # ------------------------------------------------------------------ overlays
    def add_isolines(
        self,
        mesh,
        values,
        *,
        n: int = 10,
        levels=None,
        color="black",
        line_width: float = 2.5,
        lift: float = 2e-3,
    ):
        """Isolines of a per-vertex field ``values`` (V,): ``n`` levels evenly inside
        its range, or ``levels``.

        The lines are drawn ``lift`` times the bounding-box diagonal above the surface (along the
        interpolated vertex normals) so that the surface does not hide them.
        """
        mesh = as_mesh(mesh)
        a, _where = _split_values(mesh, values, "vertex", "isoline values")
        a = np.asarray(a, dtype=np.float64)
        finite = a[np.isfinite(a)]
        if levels is None:
            if finite.size == 0 or finite.max() <= finite.min():
                return None
            levels = np.linspace(finite.min(), finite.max(), int(n) + 2)[1:-1]
        fill = np.nanmax(finite) + 1.0 if finite.size else 0.0
        data = {"iso": np.where(np.isfinite(a), a, fill)}
        if lift:
            data["normal"] = features.vertex_normals(mesh)
        poly = to_pyvista(mesh, point_data=data)
        lines = poly.contour(isosurfaces=list(np.asarray(levels, dtype=np.float64)), scalars="iso")
        if lines.n_points == 0:
            return None
        if lift:
            diag = float(np.linalg.norm(np.ptp(mesh.verts, axis=0)))
            lines.points = np.asarray(lines.points) + lift * diag * np.asarray(lines.point_data["normal"])
        return self.plotter.add_mesh(
            lines, color=color, line_width=line_width, show_scalar_bar=False, lighting=False
        )

    def add_geodesic(
        self,
        mesh,
        sources,
        *,
        distance=None,
        n_isolines: int = 12,
        cmap: str = "magma_r",
        method: str = "heat",
        source_color="cyan",
    ):
        """Geodesic distance from ``sources`` (vertex ids) as colour, with isolines and the sources marked.

        ``distance`` (V,) may be given (e.g. computed elsewhere); otherwise it is asked from
        :func:`manifoldnet.geometry.geodesics.geodesic_distance`.
        """
        mesh = as_mesh(mesh)
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        if distance is None:
            distance = features.geodesic_distance(mesh, src, method=method)
        distance = np.asarray(distance, dtype=np.float64)
        if distance.shape == (mesh.n_verts,):
            # round-off can leave -1e-15 at a source; a distance is >= 0 (display only)
            distance = np.where(distance < 0, 0.0, distance)
        elif (src < 0).any() or (src >= mesh.n_verts).any():
            raise MeshError(f"source vertices {src.tolist()} out of range for {mesh.n_verts} vertices")
        self.add_mesh(mesh, distance, per="vertex", cmap=cmap, title="distance")
        self.add_isolines(mesh, distance, n=n_isolines)
        self.add_markers(mesh, mesh.verts[src], color=source_color)
        return distance

    def add_points(self, points, *, color="red", size: float = 10.0):
        """Mark points ``(N, 3)`` as spheres of ``size`` pixels (hidden where the surface is in front)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        return self.plotter.add_points(pts, color=color, point_size=size, render_points_as_spheres=True)

    @staticmethod
    def marker_radius(mesh) -> float:
        """Radius of a marker sphere on ``mesh``: 1.2% of its bounding-box diagonal, and at least 1.5 mean
        edge lengths (so it stands out of a coarse mesh's facets)."""
        mesh = as_mesh(mesh)
        diag = float(np.linalg.norm(np.ptp(mesh.verts, axis=0)))
        return max(0.012 * diag, 1.5 * float(mesh.edge_lengths.mean()))

    def add_markers(self, mesh, points, *, color="cyan", radius: float | None = None, on_top: bool = True):
        """Mark points ``(N, 3)`` on ``mesh`` (e.g. geodesic sources) as shaded spheres of ``radius``
        (default :meth:`marker_radius`), outlined in black. They scale with the mesh, so they keep their
        size relative to it at every zoom, and ``on_top`` draws them over the surface (in a layer above the
        view), so a source on the far side stays visible. Returns the pyvista actor."""
        pv = require_pyvista()
        mesh = as_mesh(mesh)
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        if not np.all(np.isfinite(pts)):
            raise MeshError("marker points must be finite")
        r = self.marker_radius(mesh) if radius is None else float(radius)
        ball = pv.Sphere(radius=1.0, theta_resolution=20, phi_resolution=20)
        balls, rings = (
            pv.PolyData(pts).glyph(geom=ball, scale=False, orient=False, factor=f * r) for f in (1.0, 1.18)
        )
        actor = pv.Actor(mapper=pv.DataSetMapper(balls))
        actor.prop.color = color
        actor.prop.specular = 0.3
        outline = pv.Actor(mapper=pv.DataSetMapper(rings))
        outline.prop.color = "black"
        outline.prop.culling = "front"  # the back half of a larger black sphere: a silhouette ring
        renderer = self._overlay() if on_top else self.plotter.renderer
        renderer.AddActor(outline)
        renderer.AddActor(actor)
        return actor

    def _overlay(self):
        """The current view's renderer drawn after (on top of) the view, sharing its camera and viewport."""
        if self._view not in self._overlays:
            pv = require_pyvista()
            main = self.plotter.renderer
            window = self.plotter.render_window
            overlay = pv.Renderer(self.plotter)
            overlay.viewport = main.viewport
            overlay.SetActiveCamera(main.GetActiveCamera())
            overlay.SetInteractive(False)
            overlay.SetLayer(window.GetNumberOfLayers())
            window.SetNumberOfLayers(window.GetNumberOfLayers() + 1)
            window.AddRenderer(overlay)
            self._overlays[self._view] = overlay
        return self._overlays[self._view]

    def font_size(self, scale: float = 1.0) -> int:
        """A text size that fits a view: proportional to its smaller side (1 unit is ~1.7 pixels)."""
        w, h = (int(x) for x in self.plotter.window_size)
        return max(6, round(min(h, w / self.n_views) / 42 * scale))

    def add_text(
        self, text: str, position: str = "top", font_size: int | None = None, name: str | None = None
    ):
        """Text in the current view at its ``"top"`` or ``"bottom"`` left corner, at an exact size
        (``font_size`` default :meth:`font_size`); a ``name`` replaces an earlier text of that name."""
        if position not in ("top", "bottom"):
            raise MeshError(f"text position must be 'top' or 'bottom', got {position!r}")
        size = font_size or self.font_size()
        h = float(self.plotter.window_size[1])
        lines = text.count("\n") + 1
        y = 1.0 - (1.75 * size * lines + 4) / h if position == "top" else 4.0 / h
        return self.plotter.add_text(
            text, position=(0.02, max(y, 0.0)), viewport=True, font_size=size, name=name
        )

    # ------------------------------------------------------------------ picking, camera, output
    def pick(self, point) -> str:
        """Report on a picked point (nearest vertex, its position and values); returns the text shown."""
        if self._pick_target is None:
            raise MeshError("nothing to pick: the scene has no mesh")
        text = format_pick(pick_info(self._pick_target, point, arrays=self._arrays))
        self.add_text(text, position="bottom", font_size=self.font_size(0.8), name="pick")
        return text

    def camera(self, position="iso", zoom: float = 1.0, view: int | None = None) -> Scene:
        """Set the camera of ``view`` (default every view): ``"iso"``, ``"xy"``, ``"xz"``, ``"yz"`` (or
        ``"-xy"``, ...), or a direction (3,) to look from (e.g. a vertex normal), centred on the scene."""
        views = range(self.n_views) if view is None else [view]
        for i in views:
            self.plotter.subplot(0, i)
            if isinstance(position, str):
                self.plotter.camera_position = position
            elif position is not None:
                d = np.asarray(position, dtype=np.float64).reshape(3)
                if not np.all(np.isfinite(d)) or np.linalg.norm(d) == 0:
                    raise MeshError(f"camera direction must be a finite non-zero 3-vector, got {position!r}")
                d = d / np.linalg.norm(d)
                lo, hi = np.asarray(self.plotter.bounds).reshape(3, 2).T
                centre, radius = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) or 1.0
                up = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
                self.plotter.camera_position = [tuple(centre + 2 * radius * d), tuple(centre), tuple(up)]
            self.plotter.reset_camera()
            if zoom != 1.0:
                self.plotter.camera.zoom(zoom)
        self.plotter.subplot(0, self._view)
        return self

    def enable_picking(self) -> Scene:
        """Right-click (or press P over) a point: its nearest vertex and values appear (:meth:`pick`)."""
        self.plotter.enable_point_picking(
            callback=lambda point: self.pick(point), show_message=False, left_clicking=False, use_picker=False
        )
        return self

    def screenshot(self, path=None, *, close: bool = True) -> np.ndarray:
        """Render offscreen to ``path`` (PNG) and return the image ``(H, W, 3)`` uint8."""
        img = self.plotter.screenshot(str(path) if path is not None else None, return_img=True)
        if close:
            self.plotter.close()
        return np.asarray(img)

    def show(self, backend: str | None = None, *, port: int = 0, picking: bool = True):
        """Open the interactive window (``backend=None``) or the browser view (``backend="trame"``,
        needs ``pip install 'manifoldnet[web]'``). Picking a point shows the nearest vertex's values."""
        if backend not in (None, "trame"):
            raise MeshError(f"unknown backend {backend!r}: use None (a window) or 'trame' (browser)")
        if backend is None and headless():
            self.plotter.close()
            raise RuntimeError(
                "no display ($DISPLAY is not set): render to a file with screenshot(...) / "
                "--screenshot PNG, or use the browser view (backend='trame', --web)"
            )
        if picking and self._pick_target is not None:
            self.enable_picking()
        if backend == "trame":
            require_web()
            return serve(self.plotter, port=port)
        return self.plotter.show()
