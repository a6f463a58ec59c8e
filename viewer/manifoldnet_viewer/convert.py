"""Conversion between :class:`manifoldnet.Mesh` and ``pyvista.PolyData``; accepting any mesh-like input."""

from __future__ import annotations

import os

import numpy as np

from manifoldnet import Mesh, MeshError, load_mesh

from ._pv import require_pyvista

__all__ = ["as_mesh", "from_pyvista", "to_pyvista"]


def to_pyvista(mesh: Mesh, point_data: dict | None = None, cell_data: dict | None = None):
    """``pyvista.PolyData`` with the mesh's vertices and triangles (copies), plus optional named arrays.

    point_data : name -> (V, ...) arrays; cell_data : name -> (F, ...) arrays.
    """
    pv = require_pyvista()
    mesh = as_mesh(mesh)
    faces = np.empty((mesh.n_faces, 4), dtype=np.int64)
    faces[:, 0] = 3
    faces[:, 1:] = mesh.faces
    poly = pv.PolyData(np.array(mesh.verts), faces.ravel())
    for name, arr in (point_data or {}).items():
        poly.point_data[name] = _check_len(arr, mesh.n_verts, name, "vertices")
    for name, arr in (cell_data or {}).items():
        poly.cell_data[name] = _check_len(arr, mesh.n_faces, name, "faces")
    return poly


def _check_len(arr, n: int, name: str, what: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.shape[:1] != (n,):
        raise MeshError(f"array {name!r} has shape {a.shape}, expected {n} rows (one per {what[:-1]})")
    return a


def from_pyvista(poly) -> Mesh:
    """A validated :class:`Mesh` from a ``pyvista.PolyData`` (or any pyvista dataset with a surface).

    Polygons are triangulated; lines, vertices and strips are dropped (triangulated); a dataset with no
    triangle raises :class:`MeshError`.
    """
    pv = require_pyvista()
    if not isinstance(poly, pv.PolyData):
        if not isinstance(poly, pv.DataSet):
            raise MeshError(f"from_pyvista expects a pyvista dataset, got {type(poly).__name__}")
        poly = poly.extract_surface()
    tri = poly.triangulate() if not poly.is_all_triangles else poly
    faces = np.asarray(tri.faces)
    if faces.size == 0 or tri.n_cells == 0:
        raise MeshError(f"pyvista dataset has no triangles ({poly.n_points} points, {poly.n_cells} cells)")
    faces = faces.reshape(-1, 4)
    if not np.all(faces[:, 0] == 3):
        raise MeshError("pyvista dataset still has non-triangle cells after triangulation")
    return Mesh(np.asarray(tri.points, dtype=np.float64), faces[:, 1:])


def as_mesh(obj) -> Mesh:
    """A :class:`Mesh` from a Mesh, a path (loaded with :func:`manifoldnet.load_mesh`), a ``(verts, faces)``
    pair, or a pyvista dataset."""
    if isinstance(obj, Mesh):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return load_mesh(obj)
    if isinstance(obj, tuple) and len(obj) == 2:
        return Mesh(*obj)
    if type(obj).__module__.startswith("pyvista"):
        return from_pyvista(obj)
    raise MeshError(
        "expected a Mesh, a mesh file path, a (verts, faces) pair or a pyvista dataset, got "
        f"{type(obj).__name__}"
    )
