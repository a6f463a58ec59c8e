"""Lazy re-exports for the viewer's ``__init__``: names load on first attribute access.

``__getattr__, __dir__ = lazy_exports(__name__, {"name": "submodule", ...}, globals())``: ``pkg.name`` imports
``pkg.submodule`` then and caches the object in the package namespace, so ``import manifoldnet_viewer`` does
not import pyvista. manifoldnet itself imports its names plainly.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, names: dict[str, str], namespace: dict):
    """Module-level ``__getattr__`` and ``__dir__`` for ``package`` exporting
    ``names`` (name -> submodule)."""

    def __getattr__(name: str):
        mod = names.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{mod}"), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
