"""The one way a mesh enters a geometry function.

Every public function of :mod:`manifoldnet.geometry` that takes a mesh accepts, in its first argument,

- a :class:`~manifoldnet.mesh.Mesh` (connectivity and per-mesh caches are reused across calls), or
- a ``(verts, faces)`` pair (tuple or list), or
- ``verts, faces`` as its first two positional arguments: ``laplacian(V, F)``, ``laplacian(V, F, "robust")``.

Solver classes take the same forms (``HeatMethodSolver(V, F)``, through :func:`mesh_method`).

Arrays are validated by building a :class:`Mesh` (``verts (V, 3)`` real, ``faces (F, 3)`` integer; the same
errors name the offending shape or index). Passing a ``Mesh`` is cheaper when calling several functions on
the same surface: each call on bare arrays builds (and validates) a new one.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh

__all__ = ["as_mesh", "mesh_input", "mesh_method", "validate_sources"]


def _type_name(x) -> str:
    if isinstance(x, np.ndarray):
        return f"ndarray of shape {x.shape}"
    return type(x).__name__


def as_mesh(mesh, name: str = "mesh") -> Mesh:
    """``mesh`` itself if it is a :class:`Mesh`, ``Mesh(*mesh)`` for a ``(verts, faces)`` pair.

    Raises
    ------
    MeshError
        anything else (named with its type), or arrays that do not make a valid mesh.
    """
    if isinstance(mesh, Mesh):
        return mesh
    if isinstance(mesh, (tuple, list)) and len(mesh) == 2:
        return Mesh(*mesh)
    raise MeshError(
        f"expected a manifoldnet.Mesh or a (verts, faces) pair for {name}, got {_type_name(mesh)} "
        "(build one with Mesh(verts, faces))"
    )


def _is_2d_array_like(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 2
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple, np.ndarray)):
        return True
    return hasattr(x, "shape") and hasattr(x, "__array__") and len(x.shape) == 2  # torch tensors and the like


def _coerce(mesh, args: tuple) -> tuple[Mesh, tuple]:
    if not isinstance(mesh, Mesh):
        if args and _is_2d_array_like(mesh) and _is_2d_array_like(args[0]):
            return Mesh(mesh, args[0]), args[1:]
        return as_mesh(mesh), args
    return mesh, args


def mesh_input(fn):
    """Decorator for a function whose first parameter is ``mesh``: accept the forms of the module docstring.

    ``f(verts, faces, *rest)`` is recognised only when the first argument is not a Mesh or a pair and is a 2D
    array: such a call was an error before, so no existing call changes meaning.
    """

    @functools.wraps(fn)
    def wrapper(mesh, *args, **kwargs):
        mesh, args = _coerce(mesh, args)
        return fn(mesh, *args, **kwargs)

    return wrapper


def mesh_method(fn):
    """:func:`mesh_input` for a method (``__init__``) whose parameter after ``self`` is ``mesh``:
    ``Solver(mesh)``, ``Solver((verts, faces))``, ``Solver(verts, faces, ...)``."""

    @functools.wraps(fn)
    def wrapper(self, mesh, *args, **kwargs):
        mesh, args = _coerce(mesh, args)
        return fn(self, mesh, *args, **kwargs)

    return wrapper


def validate_sources(sources, n_verts: int, name: str = "sources") -> np.ndarray:
    """Source vertex indices as a sorted unique (K,) int64 array, K >= 1.

    Raises
    ------
    MeshError
        empty, not integers (floats, bools), more than one dimension, or an index outside ``[0, V)``
        (named, negative ones too: no Python-style wrap-around).
    """
    s = np.asarray(sources)
    if s.ndim > 1:
        raise MeshError(f"{name} must be a vertex index or a 1D sequence of them, got shape {s.shape}")
    s = s.reshape(-1)
    if s.size == 0:
        raise MeshError(f"{name} is empty: give at least one source vertex")
    if s.dtype == bool or s.dtype.kind not in "iu":
        if s.dtype.kind == "f" and np.all(np.isfinite(s)) and np.all(s == np.round(s)):
            raise MeshError(
                f"{name} must be integer vertex indices, got dtype {s.dtype} (cast with .astype(int))"
            )
        raise MeshError(f"{name} must be integer vertex indices, got dtype {s.dtype}")
    bad = (s < 0) | (s >= n_verts)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(f"{name}[{i}] = {int(s[i])} is not a vertex index of a mesh with {n_verts} vertices")
    return np.unique(s.astype(np.int64))
