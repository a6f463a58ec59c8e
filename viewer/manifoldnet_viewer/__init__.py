"""manifoldnet_viewer: PyVista rendering of meshes and what manifoldnet computes on them.

The only code of the project that imports pyvista (``pip install 'manifoldnet[viewer]'``); the browser
view needs ``'manifoldnet[web]'``. It depends on manifoldnet, never the reverse, and computes no geometry
itself. Submodules load lazily: ``import manifoldnet_viewer`` does not import pyvista.

Quick use::

    import manifoldnet_viewer as mv
    mv.screenshot(mesh, "hks.png", scalars="hks:4")
    mv.show(mesh, channels="eig:1-20")            # slider over eigenfunctions
    mv.show(mesh, geodesic=[0], isolines=15)
    scene = mv.Scene(); scene.add_labels(mesh, labels); scene.add_frames(mesh); scene.show()
"""

from __future__ import annotations

from ._lazy import lazy_exports
from ._pv import _prefer_egl

_prefer_egl()  # headless Linux: ask VTK for EGL up front (sets an env var only; pyvista is not imported)

_LAZY = {
    "show": "api",
    "screenshot": "api",
    "build_scene": "api",
    "Scene": "scene",
    "viewer_theme": "scene",
    "to_pyvista": "convert",
    "from_pyvista": "convert",
    "as_mesh": "convert",
    "categorical_colors": "colors",
    "label_colors": "colors",
    "xyz_colors": "colors",
    "scalar_range": "colors",
    "colour_scale": "colors",
    "is_signed": "colors",
    "ChannelBrowser": "interaction",
    "pick_info": "interaction",
    "format_pick": "interaction",
    "subsample_indices": "interaction",
    "correspondence_scene": "correspondence",
    "correspondence_error": "correspondence",
    "transfer_colors": "correspondence",
    "map_from_pairs": "correspondence",
    "load_array": "inputs",
    "load_labels": "inputs",
    "load_vertex_map": "inputs",
    "load_predictions": "inputs",
    "load_bundle": "inputs",
    "resolve_field": "inputs",
    "ViewerDependencyError": "_pv",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
