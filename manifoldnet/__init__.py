"""manifoldnet: geometry processing and geometric deep learning on meshes.

Everything numpy/scipy-based is imported here plainly; torch (``manifoldnet.nn``, torch objects of
``operators`` and ``data``) and pyvista (``manifoldnet_viewer``) load only when used.
"""

from __future__ import annotations

from . import data, geometry, operators, shapes
from .errors import MeshError
from .io import MeshIOWarning, from_pyvista, from_trimesh, load_mesh, load_points, save_mesh, to_trimesh
from .mesh import Mesh, MeshReport
from .operators import OperatorBundle, OperatorCache, OperatorSpec, compute_operators
from .repair import CleanReport, clean

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

__all__ = [
    "Mesh",
    "MeshError",
    "MeshReport",
    "clean",
    "CleanReport",
    "load_mesh",
    "save_mesh",
    "load_points",
    "from_trimesh",
    "to_trimesh",
    "from_pyvista",
    "MeshIOWarning",
    "geometry",
    "operators",
    "data",
    "compute_operators",
    "OperatorBundle",
    "OperatorSpec",
    "OperatorCache",
    "shapes",
]
