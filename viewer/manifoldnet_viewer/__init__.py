"""manifoldnet_viewer: PyVista rendering of meshes and what manifoldnet computes on them.

The only code of the project that imports pyvista (``pip install 'manifoldnet[viewer]'``); the browser
view needs ``'manifoldnet[web]'``. It depends on manifoldnet, never the reverse, and computes no geometry
itself. ``import manifoldnet_viewer`` does not import pyvista: its modules load it when they draw
(``_pv.require_pyvista``).

Quick use::

    import manifoldnet_viewer as mv
    mv.screenshot(mesh, "hks.png", scalars="hks:4")
    mv.show(mesh, channels="eig:1-20")            # slider over eigenfunctions
    mv.show(mesh, geodesic=[0], isolines=15)
    scene = mv.Scene(); scene.add_labels(mesh, labels); scene.add_frames(mesh); scene.show()
"""

from __future__ import annotations

from ._pv import ViewerDependencyError, _prefer_egl
from .api import build_scene, screenshot, show
from .colors import categorical_colors, colour_scale, is_signed, label_colors, scalar_range, xyz_colors
from .convert import as_mesh, from_pyvista, to_pyvista
from .correspondence import correspondence_error, correspondence_scene, map_from_pairs, transfer_colors
from .inputs import load_array, load_bundle, load_labels, load_predictions, load_vertex_map, resolve_field
from .interaction import ChannelBrowser, format_pick, pick_info, subsample_indices
from .scene import Scene, viewer_theme

_prefer_egl()  # headless Linux: ask VTK for EGL up front (sets an env var only; pyvista is not imported)

__all__ = [
    "ChannelBrowser",
    "Scene",
    "ViewerDependencyError",
    "as_mesh",
    "build_scene",
    "categorical_colors",
    "colour_scale",
    "correspondence_error",
    "correspondence_scene",
    "format_pick",
    "from_pyvista",
    "is_signed",
    "label_colors",
    "load_array",
    "load_bundle",
    "load_labels",
    "load_predictions",
    "load_vertex_map",
    "map_from_pairs",
    "pick_info",
    "resolve_field",
    "scalar_range",
    "screenshot",
    "show",
    "subsample_indices",
    "to_pyvista",
    "transfer_colors",
    "viewer_theme",
    "xyz_colors",
]
