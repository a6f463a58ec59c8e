"""Two-ring neighbourhoods (``OperatorSpec(patch_rings=2)``) in the patch and gauge convolutions: a layer
reads exactly the two-ring, GemConv stays gauge equivariant, GeodesicConv / MoNetConv / GemConv on a batch
equal each mesh alone, gradients, and a missing field named."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import matrix_power

torch = pytest.importorskip("torch")
from manifoldnet import shapes
from manifoldnet.data import collate_operators
from manifoldnet.data import generated as gen
from manifoldnet.nn.base import OperatorModule
from manifoldnet.nn.field_types import FieldType
from manifoldnet.nn.gem import GemConv, NormNonlinearity
from manifoldnet.nn.intrinsic import GeodesicConv, MoNetConv
from manifoldnet.nn.models.gem_net import GEMNet
from manifoldnet.operators import TorchOperators, compute_operators
from manifoldnet.testing import assert_gauge_equivariant

FIELDS = ("patches", "mass")
TYPES = [FieldType([2, 2, 1]), FieldType([3, 2, 1]), FieldType([2, 1, 1])]


def _bundle(mesh, rings=2):
    return compute_operators(mesh, fields=FIELDS, dtype="float64", patch_rings=rings)


@pytest.fixture(scope="module")
def bundles():
    """Two-ring bundles of an irregular sphere, a generated torus and a generated star (float64)."""
    meshes = [
        shapes.noisy_sphere(2, noise=0.05, seed=1),
        gen.generate_shape("torus", 3, 260).mesh,
        gen.generate_shape("star", 3, 330).mesh,
    ]
    return [_bundle(m) for m in meshes]


class GemStack(OperatorModule):
    """GemConv -> norm nonlinearity -> GemConv on the patches, every parameter (biases too) non-zero."""

    def __init__(self, types=TYPES):
        super().__init__()
        self.a = GemConv(types[0], types[1], band_limit=2, neighbourhood="patches")
        self.act = NormNonlinearity(types[1])
        self.b = GemConv(types[1], types[2], band_limit=2, neighbourhood="patches")
        torch.manual_seed(0)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_()

    def forward(self, x, ops):
        return self.b(self.act(self.a(x, ops), ops), ops)


def _patch_layers():
    torch.manual_seed(2)
    return [
        GeodesicConv(3, 4, 2, 6, neighbourhood="patches").double(),
        MoNetConv(3, 4, 4, orientation="gauge", neighbourhood="patches").double(),
        MoNetConv(3, 4, 4, orientation="pooled", n_rotations=5, neighbourhood="patches").double(),
        GemConv([3], [2, 1], band_limit=2, neighbourhood="patches").double(),  # out: 2 scalars, 1 vector
    ]


def _ring_pattern(mesh, n):
    """(V, V) bool: j within n edges of i, or j = i (nonzeros of (I + A)^n)."""
    return matrix_power((sp.identity(mesh.n_verts) + mesh.adjacency).tocsr(), n).toarray() != 0


@pytest.mark.parametrize("rings", [1, 2])
def test_one_layer_reads_exactly_the_n_ring(rings):
    """d y_i / d x_j is non-zero exactly for j within ``rings`` edges of i (and i itself): the bundle's
    neighbourhood reaches the layers, no more and no less."""
    mesh = shapes.noisy_sphere(1, noise=0.05, seed=2)
    ops = _bundle(mesh, rings).to()
    want = _ring_pattern(mesh, rings)
    assert not want.all()  # the pattern is not trivial on this mesh
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    for layer in _patch_layers():
        J = torch.autograd.functional.jacobian(lambda x, layer=layer: layer(x, ops), x)  # (V, 4, V, 3)
        reads = J.abs().amax(dim=(1, 3)).numpy() > 0
        np.testing.assert_array_equal(reads, want, err_msg=type(layer).__name__)


def test_gem_stack_is_gauge_equivariant_on_two_rings(bundles, device):
    model = GemStack()
    for bundle in bundles:
        ops = TorchOperators.from_bundle(bundle, device)
        assert assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], tol=1e-10) < 1e-10
        assert assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], tol=1e-5, dtype="float32") < 1e-5


def test_gem_net_on_two_rings_is_gauge_equivariant_from_the_mesh():
    """From a mesh: the check builds the bundle with ``patch_rings=2`` itself."""
    torch.manual_seed(0)
    model = GEMNet(4, 3, width=10, n_blocks=2, neighbourhood="patches")
    mesh = gen.generate_shape("torus", 4, 200).mesh
    assert assert_gauge_equivariant(model, mesh, 4, 3, patch_rings=2) < 1e-10


def test_batch_equals_each_mesh_alone(bundles, device):
    alone = [b.to(device) for b in bundles]
    batch = collate_operators(bundles, device=device)
    assert batch.patch_index.shape[1] == sum(b.patch_index.shape[1] for b in bundles)
    x = torch.randn(batch.n_verts, 3, dtype=torch.float64, device=device)
    for layer in _patch_layers():
        layer = layer.to(device)
        ref = torch.cat([layer(xb, o) for xb, o in zip(batch.split(x), alone, strict=True)])
        torch.testing.assert_close(layer(x, batch), ref, atol=1e-12, rtol=0)
    model = GemStack().double().to(device)
    x = torch.randn(batch.n_verts, TYPES[0].size, dtype=torch.float64, device=device)
    ref = torch.cat([model(xb, o) for xb, o in zip(batch.split(x), alone, strict=True)])
    torch.testing.assert_close(model(x, batch), ref, atol=1e-12, rtol=0)


def test_gradcheck_on_two_rings():
    ops = _bundle(shapes.icosphere(1)).to()
    torch.manual_seed(3)
    for layer in (
        MoNetConv(2, 2, 3, neighbourhood="patches").double(),
        GemConv([1, 1], [1, 1], band_limit=1, neighbourhood="patches").double(),
    ):
        x = torch.randn(ops.n_verts, 2 if isinstance(layer, MoNetConv) else 3, dtype=torch.float64)
        x.requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x, layer=layer: layer(x, ops), (x,), atol=1e-8)


def test_missing_patches_field_is_named():
    ops = compute_operators(shapes.icosphere(1), fields=("logmap", "mass"), dtype="float64").to()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    for layer in _patch_layers():
        with pytest.raises(ValueError, match=r"'patches'.*one of patch_k=, patch_radius=, patch_rings="):
            layer(x, ops)
