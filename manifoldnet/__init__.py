"""manifoldnet: geometry processing and geometric deep learning on meshes.

Only the core (``Mesh``, ``MeshError``) is imported eagerly; everything else loads on first use so that
``import manifoldnet`` and the ``manifoldnet`` command stay fast.
"""

from __future__ import annotations

import importlib

from .errors import MeshError
from .mesh import Mesh, MeshReport

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily on first attribute access)
_LAZY = {
    "clean": "manifoldnet.repair",
    "CleanReport": "manifoldnet.repair",
    "load_mesh": "manifoldnet.io",
    "save_mesh": "manifoldnet.io",
    "load_points": "manifoldnet.io",
    "from_trimesh": "manifoldnet.io",
    "to_trimesh": "manifoldnet.io",
    "from_pyvista": "manifoldnet.io",
    "MeshIOWarning": "manifoldnet.io",
    "geometry": "manifoldnet.geometry",
    "operators": "manifoldnet.operators",
    "data": "manifoldnet.data",
    "compute_operators": "manifoldnet.operators",
    "OperatorBundle": "manifoldnet.operators",
    "OperatorSpec": "manifoldnet.operators",
    "OperatorCache": "manifoldnet.operators",
    "shapes": "manifoldnet.shapes",
}

_SUBPACKAGES = {"geometry", "operators", "data", "shapes"}

__all__ = ["Mesh", "MeshError", "MeshReport"] + list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'manifoldnet' has no attribute {name!r}")
    module = importlib.import_module(mod)
    value = module if name in _SUBPACKAGES else getattr(module, name)
    globals()[name] = value
    return value
