"""Tangent vector fields as arrows: vectors (world or gauge coordinates), gauge frames, transported
vectors. Mixed into :class:`~manifoldnet_viewer.scene.Scene` (which provides ``plotter``, ``add_points``).

Arrows are drawn on at most ``max_arrows`` vertices, chosen by farthest-point sampling (deterministic
for a seed), with lengths proportional to ``|v|`` and the longest about the spacing between arrows.
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

    def arrow_length(self, mesh: Mesh, n_arrows: int) -> float:
        """Default arrow length: the typical spacing ``sqrt(area / n_arrows)`` between arrows."""
        return float(np.sqrt(mesh.total_area / max(n_arrows, 1)))

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
        On large meshes at most ``max_arrows`` arrows are drawn (a fixed, ``seed``-determined subset).
        Arrow length is proportional to |v|; the longest is ``length`` (default :meth:`arrow_length`).
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
        keep = subsample_indices(idx.size, max_arrows, seed, points=mesh.verts[idx])
        idx, world = idx[keep], world[keep]
        mag = np.linalg.norm(world, axis=1)
        if idx.size == 0 or mag.max() == 0:
            return None
        scale = (length or self.arrow_length(mesh, idx.size)) / mag.max()
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
        keep = subsample_indices(mesh.n_verts, max_arrows, seed, points=mesh.verts)
        length = length or 0.6 * self.arrow_length(mesh, keep.size)
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
        e.g. from :func:`features.transported_field`, drawn as arrows, the source vector highlighted."""
        mesh = as_mesh(mesh)
        if not 0 <= int(source) < mesh.n_verts:
            raise MeshError(f"source vertex {source} out of range for {mesh.n_verts} vertices")
        v = np.asarray(field)
        if frames is None and (np.iscomplexobj(v) or v.shape[-1] == 2):
            frames = features.vertex_frames(mesh)
        keep = subsample_indices(mesh.n_verts, max_arrows, seed, points=mesh.verts)
        length = self.arrow_length(mesh, keep.size)
        fr = None if frames is None else np.asarray(frames)
        self.add_vectors(
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
        self.add_points(mesh.verts[[int(source)]], color=source_color, size=12)
