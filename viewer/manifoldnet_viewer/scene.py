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
from .colors import categorical_colors, label_colors, scalar_range, vertex_to_face_labels
from .convert import as_mesh, to_pyvista
from .interaction import ChannelBrowser, format_pick, pick_info

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

    # ------------------------------------------------------------------ helpers
    def view(self, index: int) -> Scene:
        """Make view ``index`` current for the next ``add_*`` calls."""
        if not 0 <= index < self.n_views:
            raise MeshError(f"view {index} out of range for a scene with {self.n_views} views")
        self.plotter.subplot(0, index)
        self._view = index
        return self

    def _bar_args(self, title: str | None) -> dict:
        # pyvista merges scalar bars with equal titles; make each one unique but readable
        self._bars += 1
        t = title or "value"
        h = int(self.plotter.window_size[1])
        return {
            "title": t + " " * (self._bars - 1),
            "vertical": True,
            "position_x": 0.82,
            "position_y": 0.1,
            "height": 0.75,
            "width": 0.07,
            "fmt": "%.3g",
            "title_font_size": max(8, h // 28),
            "label_font_size": max(8, h // 32),
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
        percentiles for heavy-tailed values); NaN values get ``nan_color``. Returns the pyvista actor.
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
        return self.plotter.add_mesh(
            poly,
            scalars=name,
            preference="point" if where == "vertex" else "cell",
            cmap=cmap or self.theme.cmap,
            clim=scalar_range(a, clim, percentile),
            show_scalar_bar=scalar_bar,
            scalar_bar_args=self._bar_args(name),
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

        The legend lists the ``max_legend`` most frequent classes (then "+ k more"), named by
        ``names`` (a list or a dict id -> name) when given. Per-vertex labels are drawn per face by
        majority of its corners (``sharp``, :func:`~manifoldnet_viewer.colors.vertex_to_face_labels`), or
        with colours blended across faces whose corners disagree (``sharp=False``).
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
            entries = self.legend_entries(lab, n_classes, names, max_legend)
            if entries:
                self.plotter.add_legend(
                    entries,
                    bcolor=None,
                    border=False,
                    size=(0.2, min(0.04 * len(entries), 0.6)),
                    loc="lower left",
                    face="rectangle",
                )
        return actor

    @staticmethod
    def legend_entries(labels, n_classes=None, names=None, max_legend: int = 12) -> list[list]:
        """``[[text, rgb], ...]``: the most frequent classes first, at most ``max_legend`` plus one
        "+ k more" line. Pure (tested without rendering)."""
        lab = np.asarray(labels).astype(np.int64)
        lab = lab[lab >= 0]
        if lab.size == 0:
            return []
        n = int(lab.max()) + 1 if n_classes is None else int(n_classes)
        counts = np.bincount(lab, minlength=n)
        present = np.flatnonzero(counts)
        order = present[np.lexsort((present, -counts[present]))]
        pal = categorical_colors(n)
        shown = order[:max_legend]

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
        index: int = 0,
        per: str | None = None,
        shared_range: bool = False,
        cmap: str | None = None,
        slider: bool = True,
        title: str = "channel",
    ):
        """Draw channel ``index`` of ``values`` ((V, C) or (F, C)) with a slider that browses the channels.

        The slider calls :meth:`set_channel`, which is what a test calls too.
        """
        mesh = as_mesh(mesh)
        vals, where = _split_values(mesh, values, per, "channels")
        browser = ChannelBrowser(vals, tuple(names) if names is not None else None, shared_range)
        poly = to_pyvista(mesh)
        data = poly.point_data if where == "vertex" else poly.cell_data
        data["channel"] = browser.scalars(index)
        bar = self._bar_args(title)
        actor = self.plotter.add_mesh(
            poly,
            scalars="channel",
            cmap=cmap or self.theme.cmap,
            clim=browser.clim(index),
            scalar_bar_args=bar,
            preference="point" if where == "vertex" else "cell",
        )
        view = self._view
        self._channels[view] = (data, actor, browser)
        self._remember(mesh, "channels", browser.values)
        self.add_text(browser.title(index), name=f"channel title {view}")
        if slider and browser.n_channels > 1:
            self.plotter.add_slider_widget(
                lambda value, v=view: self.set_channel(value, v),
                rng=[0, browser.n_channels - 1],
                value=index,
                title=title,
                fmt="%.0f",
                pointa=(0.1, 0.08),
                pointb=(0.6, 0.08),
                interaction_event="always",
            )
        return actor

    def set_channel(self, value: float, view: int = 0) -> int:
        """Show the channel a slider ``value`` selects in ``view``; returns the channel index."""
        if view not in self._channels:
            raise MeshError(f"view {view} has no channels to browse (call add_channels first)")
        data, actor, browser = self._channels[view]
        i = browser.index(value)
        data["channel"] = browser.scalars(i)
        actor.mapper.scalar_range = browser.clim(i)
        self.view(view)
        self.add_text(browser.title(i), name=f"channel title {view}")
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
        self.add_points(mesh.verts[src], color=source_color, size=12)
        return distance

    def add_points(self, points, *, color="red", size: float = 10.0):
        """Mark points ``(N, 3)`` as spheres."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        return self.plotter.add_points(pts, color=color, point_size=size, render_points_as_spheres=True)

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
            from .web import serve

            require_web()
            return serve(self.plotter, port=port)
        return self.plotter.show()
