"""Evaluation metrics of the shape-analysis tools: correspondence geodesic error, clustering accuracy.

Conventions
-----------
A correspondence is evaluated on N points of a source shape: ``pred_map[i]`` and ``gt_map[i]`` are the
predicted and the true TARGET vertex of point i. The geodesic error of point i is the target's geodesic
distance between them; the correspondence-task metric divides it by ``sqrt(target area)`` (FAUST papers
quote the mean of that, often times 100).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import MeshError

__all__ = ["geodesic_errors", "label_accuracy", "match_labels", "mean_geodesic_error"]


def _check_map(m, name: str, n: int | None, V: int | None) -> np.ndarray:
    a = np.asarray(m)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise MeshError(f"{name} must be a 1-D integer array of target vertices, got {a.dtype} {a.shape}")
    if n is not None and a.size != n:
        raise MeshError(f"{name} has {a.size} entries, expected {n} (one per evaluated point)")
    if V is not None and a.size:
        bad = (a < 0) | (a >= V)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MeshError(f"{name}[{i}] = {a[i]} is not a vertex of the target ({V} vertices)")
    return a.astype(np.int64)


def geodesic_errors(dist_matrix_or_solver, pred_map, gt_map, area: float | None = None, *, chunk: int = 256):
    """(N,) float64 geodesic distance on the target between ``pred_map[i]`` and ``gt_map[i]``.

    Parameters
    ----------
    dist_matrix_or_solver : (V, V) array of target distances (e.g. ``all_pairs_distances``), or a solver with
        ``.distances(list_of_sources) -> (S, V)`` (e.g.
        :class:`~manifoldnet.geometry.geodesics.HeatMethodSolver` on the target; one solve per distinct
        ground-truth vertex, ``chunk`` at a time).
    pred_map, gt_map : (N,) int target vertices.
    area : target surface area; when given, errors are divided by ``sqrt(area)``.
    """
    D = dist_matrix_or_solver
    is_solver = hasattr(D, "distances")
    if is_solver:
        V = D.mesh.n_verts if hasattr(D, "mesh") else None
    else:
        D = np.asarray(D)
        if D.ndim != 2 or D.shape[0] != D.shape[1]:
            raise MeshError(f"the distance matrix must be (V, V), got {D.shape}")
        V = D.shape[0]
    gt = _check_map(gt_map, "gt_map", None, V)
    pred = _check_map(pred_map, "pred_map", gt.size, V)
    if area is not None and not (np.isfinite(area) and area > 0):
        raise MeshError(f"area must be a positive finite number, got {area}")
    if is_solver:
        uniq, inv = np.unique(gt, return_inverse=True)
        err = np.empty(gt.size)
        order = np.argsort(inv, kind="stable")
        starts = np.searchsorted(inv[order], np.arange(0, uniq.size + 1))
        for a in range(0, uniq.size, chunk):
            rows = np.asarray(D.distances([int(u) for u in uniq[a : a + chunk]]))
            sel = order[starts[a] : starts[min(a + chunk, uniq.size)]]
            err[sel] = rows[inv[sel] - a, pred[sel]]
    else:
        err = D[gt, pred].astype(np.float64)
    if not np.isfinite(err).all():
        i = int(np.flatnonzero(~np.isfinite(err))[0])
        raise MeshError(
            f"no finite distance between predicted vertex {pred[i]} and true vertex {gt[i]} (point {i}): "
            "different components of the target?"
        )
    return err / np.sqrt(area) if area is not None else err


def mean_geodesic_error(dist_matrix_or_solver, pred_map, gt_map, area: float | None = None) -> float:
    """Mean of :func:`geodesic_errors`; with ``area`` the correspondence-task metric (x100 in papers)."""
    return float(geodesic_errors(dist_matrix_or_solver, pred_map, gt_map, area).mean())


def match_labels(pred, gt, weights=None) -> np.ndarray:
    """(n_pred_ids,) int64: the ground-truth label assigned to each predicted cluster id.

    One-to-one (Hungarian) matching maximising the (weighted) overlap; clusters left over when there are
    more clusters than labels go to the label they overlap most.
    """
    p, g = np.asarray(pred), np.asarray(gt)
    if p.shape != g.shape or p.ndim != 1:
        raise MeshError(f"pred and gt must be 1-D of equal length, got {p.shape} and {g.shape}")
    if p.size == 0:
        raise MeshError("pred and gt are empty")
    if p.dtype.kind not in "iu" or g.dtype.kind not in "iu" or p.min() < 0 or g.min() < 0:
        raise MeshError("pred and gt must hold non-negative integer labels")
    w = np.ones(p.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape or not np.isfinite(w).all() or (w < 0).any():
        raise MeshError(f"weights must be (N,) finite and non-negative, got shape {w.shape}")
    n_p, n_g = int(p.max()) + 1, int(g.max()) + 1
    overlap = np.zeros((n_p, n_g))
    np.add.at(overlap, (p, g), w)
    rows, cols = linear_sum_assignment(-overlap)
    out = overlap.argmax(axis=1)
    out[rows] = cols
    return out.astype(np.int64)


def label_accuracy(pred, gt, weights=None) -> float:
    """Fraction (weighted, e.g. by vertex area) of points whose cluster, matched to labels by
    :func:`match_labels`, is their true label: the accuracy of an unsupervised segmentation."""
    p, g = np.asarray(pred), np.asarray(gt)
    assign = match_labels(p, g, weights)
    w = np.ones(p.size) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(w[assign[p] == g].sum() / w.sum())
