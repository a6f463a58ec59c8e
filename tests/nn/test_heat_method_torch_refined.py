"""Torch heat method on a refined solver (long slivers split): (S, V) for the input vertices, as scipy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from manifoldnet import Mesh
from manifoldnet.geometry.geodesics import HeatMethodSolver
from manifoldnet.nn.heat_method import TorchHeatMethod
from manifoldnet.testing import sliver_fan_plate


@pytest.mark.parametrize("boundary", ["average", "neumann"])
def test_torch_equals_scipy_on_refined_mesh(boundary):
    m = sliver_fan_plate()
    m = Mesh(np.r_[m.verts, [[3.0, 3.0, 3.0]]], m.faces)  # an unreferenced last vertex too
    s = HeatMethodSolver(m, boundary=boundary)
    assert s.solve_mesh.n_verts > m.n_verts + 100
    th = TorchHeatMethod(s, backend="cg")
    src = torch.tensor([0, 40, m.n_verts - 1])
    d = th.distances(src)
    ref = s.distances([0, 40, m.n_verts - 1])
    assert d.shape == (3, m.n_verts)
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(d.numpy()), fin)
    np.testing.assert_allclose(d.numpy()[fin], ref[fin], rtol=1e-5, atol=1e-7)
