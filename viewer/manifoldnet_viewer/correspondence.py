"""Correspondences between two meshes: vertex maps, colour transfer, per-vertex error, and the
side-by-side scene.

Conventions
-----------
A vertex map from a source mesh to a target mesh is ``vertex_map : (V_src,) int64``: source vertex ``i``
corresponds to target vertex ``vertex_map[i]``; ``-1`` marks a source vertex with no known partner.
"""

from __future__ import annotations

import numpy as np

from manifoldnet import Mesh, MeshError
from manifoldnet.geometry.geodesics import HeatMethodSolver

from ._checks import as_integers
from .colors import IGNORE_COLOR, xyz_colors
from .convert import as_mesh
from .scene import Scene

__all__ = [
    "check_vertex_map",
    "correspondence_error",
    "correspondence_scene",
    "map_from_pairs",
    "transfer_colors",
]


def check_vertex_map(vertex_map, n_src: int, n_tgt: int, what: str = "vertex map") -> np.ndarray:
    """Validate ``vertex_map`` (n_src,) with entries in ``[-1, n_tgt)``; returns it as int64."""
    m = as_integers(vertex_map, what)
    if m.shape != (n_src,):
        raise MeshError(f"{what} has shape {m.shape}, expected ({n_src},) (one entry per source vertex)")
    bad = (m < -1) | (m >= n_tgt)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(f"{what} entry {i} is {m[i]}, out of range for a target with {n_tgt} vertices")
    return m


def map_from_pairs(src_ids, tgt_ids, n_src: int, n_tgt: int, on_conflict: str = "last") -> np.ndarray:
    """A vertex map (n_src,) from matched pairs ``src_ids[k] <-> tgt_ids[k]`` (e.g. two FAUST ``.vts``
    files, 0-based); unmatched source vertices get -1.

    A source vertex listed in several pairs (FAUST's remeshed ``.vts`` files have some) keeps its
    ``"last"`` partner (as ``T(vtsA) = vtsB`` in the dataset's own code), its ``"first"``, or raises
    (``"error"``).
    """
    if on_conflict not in ("last", "first", "error"):
        raise MeshError(f"on_conflict must be 'last', 'first' or 'error', got {on_conflict!r}")
    s = np.asarray(src_ids, dtype=np.int64).ravel()
    t = np.asarray(tgt_ids, dtype=np.int64).ravel()
    if s.shape != t.shape:
        raise MeshError(f"pair lists differ in length: {s.size} source ids, {t.size} target ids")
    for ids, n, side in ((s, n_src, "source"), (t, n_tgt, "target")):
        bad = (ids < 0) | (ids >= n)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise MeshError(f"{side} id {ids[k]} in pair {k} out of range for {n} vertices")
    m = np.full(n_src, -1, dtype=np.int64)
    if on_conflict == "first":
        m[s[::-1]] = t[::-1]
    else:
        m[s] = t  # numpy fancy assignment: the last occurrence wins
    if on_conflict == "error":
        conflict = m[s] != t
        if conflict.any():
            k = int(np.flatnonzero(conflict)[0])
            raise MeshError(f"source vertex {s[k]} is matched to two target vertices ({m[s[k]]} and {t[k]})")
    return m


def transfer_colors(target_colors, vertex_map) -> np.ndarray:
    """Source colours ``(V_src, 3)``: ``target_colors[vertex_map[i]]``, grey where the map is -1."""
    c = np.asarray(target_colors, dtype=np.float64)
    m = check_vertex_map(vertex_map, np.asarray(vertex_map).shape[0], c.shape[0])
    out = np.tile(IGNORE_COLOR, (m.size, 1))
    ok = m >= 0
    out[ok] = c[m[ok]]
    return out


def correspondence_error(
    target: Mesh, vertex_map, true_map, metric: str = "geodesic", normalize: bool = True, chunk: int = 256
) -> np.ndarray:
    """Per source vertex, the distance on ``target`` between the predicted and the true partner
    ``(V_src,)``; NaN where either map is -1.

    metric : ``"geodesic"`` (heat method from :mod:`manifoldnet.geometry.geodesics`, one solve per distinct
    true partner, in chunks of ``chunk`` sources) or ``"euclidean"``.
    normalize : divide by ``sqrt(target area)`` (the usual correspondence benchmark unit).
    """
    target = as_mesh(target)
    pred = np.asarray(vertex_map)
    n_src = pred.shape[0] if pred.ndim == 1 else -1
    pred = check_vertex_map(pred, n_src, target.n_verts, "predicted map")
    true = check_vertex_map(true_map, n_src, target.n_verts, "true map")
    err = np.full(n_src, np.nan)
    ok = (pred >= 0) & (true >= 0)
    if metric == "euclidean":
        err[ok] = np.linalg.norm(target.verts[pred[ok]] - target.verts[true[ok]], axis=1)
    elif metric == "geodesic":
        solver = HeatMethodSolver(target)
        uniq, inv = np.unique(true[ok], return_inverse=True)
        idx_ok = np.flatnonzero(ok)
        for start in range(0, uniq.size, chunk):  # chunks of sources bound the (S, V) memory
            block = uniq[start : start + chunk]
            dist = np.asarray(solver.distances([[int(b)] for b in block]))
            sel = (inv >= start) & (inv < start + block.size)
            err[idx_ok[sel]] = dist[inv[sel] - start, pred[idx_ok[sel]]]
    else:
        raise MeshError(f"unknown error metric {metric!r}: use 'geodesic' or 'euclidean'")
    if normalize:
        err /= np.sqrt(target.total_area)
    return err


def correspondence_scene(
    source,
    target,
    vertex_map,
    *,
    true_map=None,
    error=None,
    metric: str = "geodesic",
    target_colors=None,
    error_cmap: str = "YlOrRd",
    clim=None,
    **scene_kw,
):
    """Side by side: the target coloured by ``target_colors`` (default :func:`xyz_colors`), the source
    coloured through ``vertex_map`` (grey where unmapped), and, when ``true_map`` or ``error`` (V_src,) is
    given, a third view with the error on the source (NaN = unknown).

    Returns a :class:`~manifoldnet_viewer.scene.Scene` (keyword arguments go to its constructor).
    """
    source, target = as_mesh(source), as_mesh(target)
    vmap = check_vertex_map(vertex_map, source.n_verts, target.n_verts)
    tcol = xyz_colors(target.verts) if target_colors is None else np.asarray(target_colors, dtype=np.float64)
    if tcol.shape != (target.n_verts, 3):
        raise MeshError(f"target colours have shape {tcol.shape}, expected ({target.n_verts}, 3)")
    if error is None and true_map is not None:
        error = correspondence_error(target, vmap, true_map, metric=metric)
    scene = Scene(3 if error is not None else 2, **scene_kw)
    scene.view(0)
    scene.add_colors(target, tcol)
    scene.add_text("target")
    scene.view(1)
    scene.add_colors(source, transfer_colors(tcol, vmap))
    scene.add_text("source, colours via the map")
    if error is not None:
        err = np.asarray(error, dtype=np.float64)
        if err.shape != (source.n_verts,):
            raise MeshError(f"error has shape {err.shape}, expected ({source.n_verts},)")
        scene.view(2)
        scene.add_mesh(source, err, per="vertex", cmap=error_cmap, clim=clim, title="error")
        finite = err[np.isfinite(err)]
        mean = float(finite.mean()) if finite.size else float("nan")
        scene.add_text(f"error (mean {mean:.3g})")
    return scene
