"""A cuda device on a torch without CUDA is a sentence, not torch's bare AssertionError (issue 18 item 15)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from manifoldnet import MeshError, shapes
from manifoldnet.operators import compute_operators
from manifoldnet.operators.torch_ops import check_device, to_torch_csr

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without a usable CUDA")

MSG = r"this torch has no CUDA.*README's GPU section"


def test_every_entry_point_names_the_missing_cuda():
    import scipy.sparse as sp

    with pytest.raises(MeshError, match=MSG):
        check_device("cuda")
    with pytest.raises(MeshError, match=MSG):
        to_torch_csr(sp.eye(3), "cuda:0")
    b = compute_operators(shapes.icosphere(1), fields=("laplacian",))
    with pytest.raises(MeshError, match=MSG):
        b.to("cuda")
    ops = b.to("cpu")
    with pytest.raises(MeshError, match=MSG):
        ops.to(torch.device("cuda"))
    from manifoldnet.nn.heat_method import TorchHeatMethod

    th = TorchHeatMethod(shapes.icosphere(1))
    with pytest.raises(MeshError, match=MSG):
        th.distances([0], device="cuda")
    # CPU devices pass through unchanged
    assert check_device("cpu") == torch.device("cpu") and check_device(None) is None
    assert np.isfinite(th.distances([0], device="cpu").numpy()).all()
