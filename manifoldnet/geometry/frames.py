"""Gauge frames: right-handed tangent frames per vertex and per face (normals: :mod:`.normals`).

A frame is a (3, 3) array whose rows are ``(e1, e2, n)``: ``e1, e2`` span the tangent plane, ``n`` is the
unit normal and ``e1 x e2 = n`` (right-handed, determinant +1). A tangent vector with frame coordinates
``(a, b)`` is the complex number ``a + 1j b``; angles are counter-clockwise about ``n``.

Gauges (``vertex_frames(mesh, gauge=...)``)
--------------------------------------------
``"intrinsic"`` (default)
    ``e1`` along the vertex's reference half-edge (:attr:`VertexFans.reference`: the first outgoing
    half-edge in face order at interior vertices, the outgoing boundary half-edge at boundary vertices)
    projected to the tangent plane. This is the gauge whose log-map angles are measured from the
    reference edge (offset 0 in :func:`~manifoldnet.geometry.logmap.gauge_offsets`). Invariant under
    rigid motions and vertex relabelling (it depends on the face order only).
``"world"``
    ``e1`` along the projection of a world axis (default +x); where that projection is shorter than
    ``1e-6`` (the normal is parallel to the axis) the next axis (+y for +x) is used instead.
``"principal"``
    ``e1`` along the maximal principal curvature direction of
    :func:`manifoldnet.geometry.curvature.principal_curvatures`, re-projected; the world gauge where it
    degenerates. The sign of a principal direction is arbitrary: this gauge is a convention.

Unreferenced vertices (and any vertex whose normal cannot be defined because all of its faces have zero
area) get the normal +z and the identity frame: deterministic, and irrelevant to every operator since no
edge reaches them.
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh
from .curvature import principal_curvatures
from .fans import vertex_fans
from .inputs import mesh_input
from .normals import _unit_rows, tangent_frames, vertex_normals

__all__ = ["GAUGES", "face_frames", "tangent_frames", "vertex_frames", "vertex_normals"]

GAUGES = ("intrinsic", "world", "principal")


@mesh_input
def vertex_frames(mesh: Mesh, gauge: str = "intrinsic", axis=(1.0, 0.0, 0.0)) -> np.ndarray:
    """(V, 3, 3) float64 right-handed vertex frames, rows ``(e1, e2, n)``, in the chosen ``gauge``.

    Parameters
    ----------
    mesh : Mesh
    gauge : "intrinsic" | "world" | "principal" (see the module docstring).
    axis : (3,) the world axis of the "world" gauge (and of every fallback).
    """
    if gauge not in GAUGES:
        raise MeshError(f"unknown gauge {gauge!r}; expected one of {GAUGES}")
    n = vertex_normals(mesh)
    directions = None
    if gauge == "intrinsic":
        ref = vertex_fans(mesh).reference
        he = mesh.halfedges[np.maximum(ref, 0)]
        directions = mesh.verts[he[:, 1]] - mesh.verts[he[:, 0]]
        directions[ref < 0] = 0.0
    elif gauge == "principal":
        directions = np.asarray(principal_curvatures(mesh)[2], dtype=np.float64)
        directions = np.where(np.isfinite(directions), directions, 0.0)
    frames = tangent_frames(n, directions, axis=axis)
    frames[~mesh.referenced] = np.eye(3)
    return frames


@mesh_input
def face_frames(mesh: Mesh) -> np.ndarray:
    """(F, 3, 3) float64 right-handed face frames: ``e1`` along half-edge ``3f`` (``p0 -> p1``),
    ``n`` the face normal, ``e2 = n x e1``. Zero-area faces get the identity frame."""
    p = mesh.verts[mesh.faces]
    e1, _ = _unit_rows(p[:, 1] - p[:, 0])
    n = mesh.face_normals
    e2 = np.cross(n, e1)
    frames = np.stack([e1, e2, n], axis=1)
    ok = np.linalg.norm(n, axis=1) > 0
    frames[~ok] = np.eye(3)
    return frames
