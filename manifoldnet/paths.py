"""Where manifoldnet finds real data and keeps its cache.

``MANIFOLDNET_DATA`` points at a folder laid out like ``../shared/data`` (faust_5k, rna, classic, ...);
``MANIFOLDNET_CACHE`` at the operator cache. Both have defaults; neither is required.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The real-data folder: ``root`` if given, else ``$MANIFOLDNET_DATA``, else ``<project>/../shared/data``.

    The folder may not exist (a user's fresh clone); callers check ``.is_dir()`` and say so.
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("MANIFOLDNET_DATA")
    if env:
        return Path(env)
    return _PROJECT_ROOT.parent / "shared" / "data"


def cache_root(root: str | os.PathLike | None = None) -> Path:
    """The operator cache folder: ``root``, else ``$MANIFOLDNET_CACHE``, else ``~/.cache/manifoldnet``."""
    if root is not None:
        return Path(root)
    env = os.environ.get("MANIFOLDNET_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "manifoldnet"


def meshes_root() -> Path:
    """The project's generated meshes (``meshes/``), written by ``manifoldnet.shapes``."""
    return _PROJECT_ROOT / "meshes"
