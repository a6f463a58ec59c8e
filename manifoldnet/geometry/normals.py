"""Angle-weighted vertex normals and right-handed tangent frames from normals and preferred directions.

Below both :mod:`.frames` (the gauges) and :mod:`.curvature` (principal directions), which use them;
:mod:`.frames` re-exports both functions.
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh
from .fans import cached_corner_angles
from .inputs import mesh_input

__all__ = ["tangent_frames", "vertex_normals"]

_DEGENERATE = 1e-6


def _unit_rows(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalized rows and their original norms (zero rows stay zero)."""
    n = np.linalg.norm(v, axis=-1)
    ok = n > 0
    out = np.zeros_like(v)
    out[ok] = v[ok] / n[ok, None]
    return out, n


@mesh_input
def vertex_normals(mesh: Mesh) -> np.ndarray:
    """(V, 3) float64 unit normals: corner-angle-weighted average of the incident face normals.

    Fallbacks: the area-weighted average where the angle-weighted sum vanishes, then +z (unreferenced
    vertices, vertices whose faces all have zero area or cancel exactly).
    """
    V = mesh.n_verts
    w = cached_corner_angles(mesh).reshape(-1)
    fidx = np.repeat(np.arange(mesh.n_faces), 3)
    vid = mesh.faces.reshape(-1)
    fn = mesh.face_normals[fidx] * w[:, None]
    acc = np.stack([np.bincount(vid, weights=fn[:, k], minlength=V) for k in range(3)], axis=1)
    n, norm = _unit_rows(acc)
    bad = norm <= 1e-12  # a sum of angle-weighted unit vectors: O(1) at every coordinate scale
    if bad.any():
        fv = mesh.face_vectors[fidx]
        acc2 = np.stack([np.bincount(vid, weights=fv[:, k], minlength=V) for k in range(3)], axis=1)
        n2, norm2 = _unit_rows(acc2)
        n[bad] = n2[bad]
        still = bad & (norm2 <= 0)
        n[still] = (0.0, 0.0, 1.0)
    return n


def tangent_frames(normals, directions=None, axis=(1.0, 0.0, 0.0)) -> np.ndarray:
    """(N, 3, 3) right-handed frames ``(e1, e2, n)`` from unit normals and preferred ``e1`` directions.

    Parameters
    ----------
    normals : (N, 3) float, non-zero (normalized here).
    directions : (N, 3) float or None; ``e1`` is the projection of ``directions[i]`` to the tangent plane.
        Where it is shorter than 1e-6 times ``|directions[i]|`` (or zero), the world gauge is used.
    axis : (3,) world axis of the world gauge; the fallback axis is the next coordinate axis after the
        largest component of ``axis`` (+x -> +y, +y -> +z, +z -> +x).

    Works for point clouds as well as meshes.
    """
    nrm = np.asarray(normals, dtype=np.float64)
    if nrm.ndim != 2 or nrm.shape[1] != 3:
        raise MeshError(f"normals must have shape (N, 3), got {nrm.shape}")
    if not np.isfinite(nrm).all():
        i = int(np.flatnonzero(~np.isfinite(nrm).all(axis=1))[0])
        raise MeshError(f"normals has non-finite entries; first at row {i}")
    n, norm = _unit_rows(nrm)
    if (norm == 0).any():
        raise MeshError(f"normals has zero rows; first at row {int(np.flatnonzero(norm == 0)[0])}")
    ax = np.asarray(axis, dtype=np.float64).reshape(3)
    if not np.isfinite(ax).all() or np.linalg.norm(ax) == 0:
        raise MeshError(f"axis must be a finite non-zero 3-vector, got {ax.tolist()}")
    ax = ax / np.linalg.norm(ax)
    fb = np.zeros(3)
    fb[(int(np.argmax(np.abs(ax))) + 1) % 3] = 1.0

    def project(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = d - np.einsum("ij,ij->i", d, n)[:, None] * n
        t, tn = _unit_rows(t)
        return t, tn

    e1, tn = project(np.broadcast_to(ax, n.shape))
    weak = tn < _DEGENERATE
    if weak.any():
        e1b, _ = project(np.broadcast_to(fb, n.shape))
        e1[weak] = e1b[weak]
    if directions is not None:
        d = np.asarray(directions, dtype=np.float64)
        if d.shape != n.shape:
            raise MeshError(f"directions must have shape {n.shape}, got {d.shape}")
        if not np.isfinite(d).all():
            i = int(np.flatnonzero(~np.isfinite(d).all(axis=1))[0])
            raise MeshError(f"directions has non-finite entries; first at row {i}")
        e1d, dn = project(d)
        good = dn > _DEGENERATE * np.linalg.norm(d, axis=1)
        e1[good] = e1d[good]
    e2 = np.cross(n, e1)
    return np.stack([e1, e2, n], axis=1)
