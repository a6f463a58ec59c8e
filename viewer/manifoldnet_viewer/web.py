"""The browser view: a scene's plotter served by trame (the optional ``web`` extra).

In a Jupyter kernel the plotter is shown inline with PyVista's trame backend; elsewhere (a script, the
CLI's ``--web`` on a remote machine) a trame server is started and serves the page on ``port``
(0 picks a free one); open the printed address, e.g. through an SSH tunnel.
"""

from __future__ import annotations

import sys

from ._pv import ViewerDependencyError, require_web

__all__ = ["build_app", "in_jupyter", "plotter_ui", "serve"]


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (``ipykernel`` loaded and running)."""
    kernel = sys.modules.get("ipykernel")
    if kernel is None:
        return False
    ip = sys.modules.get("IPython")
    return bool(ip and getattr(ip, "get_ipython", lambda: None)() is not None)


def plotter_ui(plotter, **kwargs):
    """The trame UI for ``plotter`` (``trame_pyvista`` from PyVista 0.49 on, ``pyvista.trame`` before)."""
    require_web()
    try:
        from trame_pyvista.ui import plotter_ui as ui
    except ImportError:
        try:
            from pyvista.trame.ui import plotter_ui as ui
        except ImportError as exc:
            raise ViewerDependencyError(
                "the browser view needs the optional extra 'web': pip install 'manifoldnet[web]' "
                f"(missing: trame_pyvista, {exc})"
            ) from exc
    return ui(plotter, **kwargs)


def build_app(plotter, name: str = "manifoldnet-view", title: str = "manifoldnet view"):
    """A trame server whose single page shows ``plotter`` (not started)."""
    require_web()
    from trame.app import get_server
    from trame.ui.vuetify3 import SinglePageLayout

    server = get_server(name, client_type="vue3")
    with SinglePageLayout(server) as layout:
        layout.title.set_text(title)
        with layout.content:
            plotter_ui(plotter)
    return server


def serve(plotter, port: int = 0, open_browser: bool = False):
    """Show ``plotter`` in a browser: inline in Jupyter, else start a trame server (blocks until closed)."""
    require_web()
    if in_jupyter():
        return plotter.show(jupyter_backend="trame")
    server = build_app(plotter)
    server.start(port=port, open_browser=open_browser)
    return server
