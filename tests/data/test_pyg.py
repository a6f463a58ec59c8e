"""manifoldnet.data.to_pyg: a bundle as a PyG Data; batching it with PyG equals manifoldnet's collate."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import shapes
from manifoldnet.data import generated as g
from manifoldnet.operators import compute_operators

torch = pytest.importorskip("torch")

FIELDS = ("mass", "laplacian", "eigenbasis", "gradient", "logmap", "transport")


@pytest.fixture(scope="module")
def bundles():
    meshes = [shapes.icosphere(1), g.generate_shape("torus", 0, 150).mesh]
    return [compute_operators(m, fields=FIELDS, k=6, dtype="float64") for m in meshes]


def test_missing_pyg_is_a_clear_error(bundles, monkeypatch):
    from manifoldnet.data import pyg

    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    monkeypatch.setitem(sys.modules, "torch_geometric.data", None)
    monkeypatch.setattr(pyg, "_CLASS", None)
    with pytest.raises(ImportError, match=r"pip install 'manifoldnet\[pyg\]'"):
        pyg.to_pyg(bundles[0])


def test_to_pyg_holds_the_mesh_and_every_field(bundles):
    pytest.importorskip("torch_geometric")
    from torch_geometric.data import Data

    from manifoldnet.data import to_pyg

    b = bundles[0]
    d = to_pyg(b)
    assert isinstance(d, Data) and d.num_nodes == b.n_verts
    assert_allclose(d.pos.numpy(), b.verts)
    assert d.face.shape == (3, b.faces.shape[0]) and d.face.dtype == torch.long
    assert_array_equal(d.face.numpy(), b.faces.T)
    assert d.edge_index.dtype == torch.long
    assert_array_equal(d.edge_index.numpy(), b.edge_index)
    assert_allclose(d.laplacian.to_dense().numpy(), b.laplacian.toarray())
    for name in ("mass", "evecs", "logmap_r", "logmap_theta", "transport_rho"):
        assert_allclose(getattr(d, name).numpy(), getattr(b, name), err_msg=name)
    assert d.evals.shape == (1, 6) and d.spec == b.spec
    assert to_pyg(b, dtype=torch.float32).mass.dtype == torch.float32
    # no edge field in the bundle: edge_index from the faces, the same edges
    lean = compute_operators(shapes.icosphere(1), fields=("mass",), dtype="float64")
    assert_array_equal(to_pyg(lean).edge_index.numpy(), b.edge_index)
    with pytest.raises(ValueError, match="no faces"):
        to_pyg(
            compute_operators(np.random.default_rng(0).normal(size=(60, 3)), fields=("mass",), n_neighbors=8)
        )


def test_pyg_batch_equals_collate(bundles):
    pytest.importorskip("torch_geometric")
    from torch_geometric.data import Batch

    from manifoldnet.data import collate_operators, to_pyg

    batch = Batch.from_data_list([to_pyg(b) for b in bundles])
    ours = collate_operators(bundles)
    assert_array_equal(batch.edge_index.numpy(), ours.edge_index.numpy())
    assert_array_equal(batch.face.T.numpy(), ours.faces.numpy())
    assert_array_equal(batch.batch.numpy(), ours.batch.numpy())
    assert_allclose(batch.laplacian.to_dense().numpy(), ours.laplacian.to_dense().numpy())
    assert_allclose(batch.grad_x.to_dense().numpy(), ours.grad_x.to_dense().numpy())
    assert_allclose(batch.evals.numpy(), ours.evals.numpy())
    assert_allclose(batch.evecs.numpy(), ours.evecs.numpy())
    assert_allclose(batch.transport_rho.numpy(), ours.transport_rho.numpy())
