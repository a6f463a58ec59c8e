"""Correspondence and clustering metrics (manifoldnet.analysis.metrics)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import MeshError, shapes
from manifoldnet.analysis import geodesic_errors, label_accuracy, match_labels, mean_geodesic_error
from manifoldnet.geometry.geodesics import HeatMethodSolver


def test_matrix_and_solver_agree_and_normalize():
    mesh = shapes.icosphere(2)
    solver = HeatMethodSolver(mesh)
    D = solver.distances(list(range(mesh.n_verts)))
    rng = np.random.default_rng(0)
    gt = rng.integers(0, mesh.n_verts, 300)
    pred = rng.integers(0, mesh.n_verts, 300)
    e1 = geodesic_errors(D, pred, gt)
    e2 = geodesic_errors(solver, pred, gt, chunk=7)
    assert_allclose(e1, e2, rtol=1e-12)
    assert_allclose(e1, D[gt, pred])
    area = mesh.total_area
    assert_allclose(mean_geodesic_error(D, pred, gt, area), e1.mean() / np.sqrt(area))
    assert mean_geodesic_error(D, gt, gt, area) == 0.0


def test_geodesic_error_validators():
    D = np.zeros((5, 5))
    with pytest.raises(MeshError, match="pred_map has 2 entries"):
        geodesic_errors(D, [1, 2], [1, 2, 3])
    with pytest.raises(MeshError, match=r"gt_map\[1\] = 9"):
        geodesic_errors(D, [1, 2], [1, 9])
    with pytest.raises(MeshError, match="integer"):
        geodesic_errors(D, [1.0, 2.0], [1, 2])
    with pytest.raises(MeshError, match="area"):
        geodesic_errors(D, [1], [1], area=-1.0)
    with pytest.raises(MeshError, match=r"\(V, V\)"):
        geodesic_errors(np.zeros((5, 4)), [1], [1])
    Dinf = np.full((3, 3), np.inf)
    with pytest.raises(MeshError, match="no finite distance"):
        geodesic_errors(Dinf, [0], [1])


def test_label_accuracy_is_permutation_invariant():
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 4, 200)
    perm = np.array([2, 0, 3, 1])
    assert label_accuracy(perm[gt], gt) == 1.0
    noisy = perm[gt].copy()
    noisy[:20] = (noisy[:20] + 1) % 4
    acc = label_accuracy(noisy, gt)
    assert 0.85 <= acc < 1.0
    assert (match_labels(perm[gt], gt)[perm] == np.arange(4)).all()
    # weights: only the weighted points count
    w = np.zeros(200)
    w[20:] = 1.0
    assert label_accuracy(noisy, gt, w) == 1.0
    # more clusters than labels: the extra cluster goes to its majority label
    split = perm[gt].copy()
    split[gt == 0] = 4
    assert label_accuracy(split, gt) == 1.0


def test_label_validators():
    with pytest.raises(MeshError, match="equal length"):
        label_accuracy(np.zeros(3, int), np.zeros(4, int))
    with pytest.raises(MeshError, match="non-negative integer"):
        label_accuracy(np.array([-1, 0]), np.array([0, 0]))
    with pytest.raises(MeshError, match="weights"):
        label_accuracy(np.zeros(3, int), np.zeros(3, int), weights=[1, 2])
