"""Tangent vector fields as arrows: vectors (world or gauge coordinates), gauge frames, transported
vectors. Mixed into :class:`~manifoldnet_viewer.scene.Scene` (which provides ``plotter``, ``add_markers``).

Arrows are drawn on an evenly spread, deterministic subset of the vertices (farthest-point sampling down
to :meth:`ArrowsMixin.arrow_spacing`: 5% of the bounding-box diagonal, at least 2.5 mean edge lengths, and
at most ``max_arrows`` arrows), with lengths proportional to ``|v|``, the longest 0.8 spacings.
"""

from __future__ import annotations

import numpy as np

from manifoldnet import Mesh, MeshError

from . import features
from ._pv import require_pyvista
from .convert import as_mesh
from .interaction import subsample_indices

__all__ = ["ArrowsMixin"]


class ArrowsMixin:
    """The arrow-drawing methods of :class:`~manifoldnet_viewer.scene.Scene`."""

    SPACING_DIAG = 0.05  # arrow spacing as a fraction of the bounding-box diagonal
    SPACING_EDGES = 2.5  # ... and at least this many mean edge lengths
    LENGTH = 0.8  # the longest arrow, in spacings

    def arrow_spacing(self, mesh: Mesh, max_arrows: int | None = None) -> float:
        """Distance between neighbouring arrows: ``SPACING_DIAG`` of the bounding-box diagonal (a density
        that reads at any mesh size), at least ``SPACING_EDGES`` mean edge lengths (a coarse mesh's field
        is not drawn denser than its vertices resolve it), and at least ``sqrt(area / max_arrows)``."""
        diag = float(np.linalg.norm(np.ptp(mesh.verts, axis=0)))
        spacing = max(self.SPACING_DIAG * diag, self.SPACING_EDGES * float(mesh.edge_lengths.mean()))
        if max_arrows:
            spacing = max(spacing, float(np.sqrt(mesh.total_area / max_arrows)))
        return spacing

    def arrow_sites(self, mesh: Mesh, max_arrows: int | None, seed: int = 0) -> np.ndarray:
        """The vertices that get an arrow: farthest-point sampling from a ``seed``-chosen vertex until
        every vertex is within :meth:`arrow_spacing` of one (so arrows are at least that far apart), at
        most ``max_arrows``; all vertices when ``max_arrows`` is None. Sorted, deterministic."""
        if max_arrows is None:
            return np.arange(mesh.n_verts)
        spacing = self.arrow_spacing(mesh, max_arrows)
        return subsample_indices(mesh.n_verts, max_arrows, seed, points=mesh.verts, spacing=spacing)

    def add_vectors(
        self,
        mesh,
        vectors,
        *,
        frames=None,
        at=None,
        max_arrows: int | None = 400,
        length: float | None = None,
        color="black",
        seed: int = 0,
        lift: float = 0.02,
    ):
        """Arrows for a tangent vector field.

        vectors : (V, 3) world, or (V, 2) / (V,) complex in the gauge ``frames`` (V, 3, 3) (rows e1, e2,
        n; default the intrinsic gauge from :func:`manifoldnet.geometry.frames.vertex_frames`);
        ``at`` : (N,) vertex ids when the vectors are given only there.
        Arrows are drawn at an evenly spread subset of the vertices (:meth:`arrow_sites`, at most
        ``max_arrows``; ``None``: at every given vertex). Arrow length is proportional to |v|; the longest
        is ``length`` (default ``LENGTH`` spacings).
        Arrows start slightly above the surface (``lift`` times the length, along the normal).
        """
        mesh = as_mesh(mesh)
        idx = np.arange(mesh.n_verts) if at is None else np.atleast_1d(np.asarray(at, dtype=np.int64))
        if idx.size and ((idx < 0).any() or (idx >= mesh.n_verts).any()):
            raise MeshError(f"arrow vertex ids out of range for {mesh.n_verts} vertices")
        v = np.asarray(vectors)
        if v.shape[0] != idx.size:
            raise MeshError(f"vectors have {v.shape[0]} rows, expected {idx.size} (one per arrow vertex)")
        if np.iscomplexobj(v) or (v.ndim == 2 and v.shape[1] == 2):
            if frames is None:
                frames = features.vertex_frames(mesh)
            frames = np.asarray(frames)
            if frames.shape == (mesh.n_verts, 3, 3):
                frames = frames[idx]
        world = features.tangent_to_world(v, frames)
        if max_arrows is None:
            spacing = float(np.sqrt(mesh.total_area / max(idx.size, 1)))
        else:
            spacing = self.arrow_spacing(mesh, max_arrows)
            keep = subsample_indices(idx.size, max_arrows, seed, points=mesh.verts[idx], spacing=spacing)
            idx, world = idx[keep], world[keep]
        mag = np.linalg.norm(world, axis=1)
        if idx.size == 0 or mag.max() == 0:
            return None
        scale = (length or self.LENGTH * spacing) / mag.max()
        normals = features.vertex_normals(mesh)[idx]
        start = mesh.verts[idx] + lift * scale * mag.max() * normals
        pv = require_pyvista()
        pts = pv.PolyData(start)
        pts["vectors"] = world * scale
        arrow = pv.Arrow(
            tip_length=0.35, tip_radius=0.14, shaft_radius=0.05, tip_resolution=12, shaft_resolution=8
        )
        glyphs = pts.glyph(orient="vectors", scale="vectors", factor=1.0, geom=arrow)
        return self.plotter.add_mesh(glyphs, color=color, show_scalar_bar=False)

    def add_frames(
        self,
        mesh,
        frames="intrinsic",
        *,
        max_arrows: int | None = 250,
        length: float | None = None,
        normal: bool = False,
        seed: int = 0,
    ):
        """Gauge frames as arrows: e1 red, e2 green (and n blue with ``normal=True``).

        frames : (V, 3, 3) rows (e1, e2, n), or a gauge name for
        :func:`manifoldnet.geometry.frames.vertex_frames`.
        """
        mesh = as_mesh(mesh)
        if isinstance(frames, str):
            frames = features.vertex_frames(mesh, gauge=frames)
        f = np.asarray(frames, dtype=np.float64)
        if f.shape != (mesh.n_verts, 3, 3):
            raise MeshError(f"frames have shape {f.shape}, expected ({mesh.n_verts}, 3, 3)")
        keep = self.arrow_sites(mesh, max_arrows, seed)
        length = length or 0.6 * self.arrow_spacing(mesh, max_arrows)
        colors = ["red", "green", "blue"][: 3 if normal else 2]
        for axis, color in enumerate(colors):
            self.add_vectors(mesh, f[keep, axis], at=keep, max_arrows=None, length=length, color=color)

    def add_transport(
        self,
        mesh,
        source: int,
        field,
        *,
        frames=None,
        max_arrows: int | None = 400,
        color="black",
        source_color="red",
        seed: int = 0,
    ):
        """A transported vector field: ``field`` (V,) complex or (V, 2) in gauge ``frames`` (or (V, 3)),
        e.g. from :func:`features.transported_field`, drawn as arrows at :meth:`arrow_sites`, the source
        vector highlighted and its vertex marked on top (:meth:`add_markers`). Returns the field arrows'
        actor (None when the field is zero)."""
        mesh = as_mesh(mesh)
        if not 0 <= int(source) < mesh.n_verts:
            raise MeshError(f"source vertex {source} out of range for {mesh.n_verts} vertices")
        v = np.asarray(field)
        if frames is None and (np.iscomplexobj(v) or v.shape[-1] == 2):
            frames = features.vertex_frames(mesh)
        keep = self.arrow_sites(mesh, max_arrows, seed)
        length = self.LENGTH * self.arrow_spacing(mesh, max_arrows)
        fr = None if frames is None else np.asarray(frames)
        arrows = self.add_vectors(
            mesh,
            v[keep],
            frames=None if fr is None else fr[keep],
            at=keep,
            max_arrows=None,
            length=length,
            color=color,
        )
        self.add_vectors(
            mesh,
            v[[int(source)]],
            frames=None if fr is None else fr[[int(source)]],
            at=[int(source)],
            length=1.8 * length,
            color=source_color,
        )
        # half the usual marker, so the highlighted source vector stays visible beside it
        radius = 0.5 * self.marker_radius(mesh)
        self.add_markers(mesh, mesh.verts[[int(source)]], color=source_color, radius=radius)
        return arrows
