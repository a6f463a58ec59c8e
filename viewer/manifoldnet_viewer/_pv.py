"""Importing PyVista (the optional ``viewer`` extra) and choosing a headless render window.

Only this package imports pyvista. On Linux without ``$DISPLAY`` VTK would first try X, print a warning,
and then fall back to EGL; when ``libEGL`` is present we ask for EGL directly (``VTK_DEFAULT_OPENGL_WINDOW``,
unless the user set it), so a headless render is silent. Without EGL, VTK's own fallback (OSMesa) still
applies. The picture is the same either way: one code path builds the scene, only the window differs.
"""

from __future__ import annotations

import ctypes.util
import importlib
import os
import sys

__all__ = ["ViewerDependencyError", "headless", "require_pyvista", "require_web"]


class ViewerDependencyError(ImportError):
    """An optional dependency of the viewer is missing; the message names the pip extra to install."""


def headless() -> bool:
    """True when no display server is reachable (Linux without ``$DISPLAY`` / ``$WAYLAND_DISPLAY``)."""
    if not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _prefer_egl() -> None:
    if headless() and "VTK_DEFAULT_OPENGL_WINDOW" not in os.environ and ctypes.util.find_library("EGL"):
        os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"


def require_pyvista():
    """Import and return :mod:`pyvista`, or raise :class:`ViewerDependencyError` naming the extra."""
    if "pyvista" not in sys.modules:
        _prefer_egl()
    try:
        return importlib.import_module("pyvista")
    except ImportError as exc:
        raise ViewerDependencyError(
            f"the manifoldnet viewer needs PyVista: pip install 'manifoldnet[viewer]' ({exc})"
        ) from exc


_WEB_MODULES = ("trame", "trame_vtk", "trame_vuetify")


def require_web() -> None:
    """Check the browser view's modules (the ``web`` extra) import, else raise
    :class:`ViewerDependencyError`."""
    missing = []
    for name in _WEB_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ViewerDependencyError(
            "the browser view (backend='trame', manifoldnet view --web) needs the optional extra "
            f"'web': pip install 'manifoldnet[web]' (missing: {', '.join(missing)})"
        )
