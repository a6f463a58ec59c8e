"""GlobalContext (each vertex adds a map of its mesh's area-weighted mean feature) and the models that use it:
a per-mesh loop reference, batches against single meshes, vertex relabelling, gradients, gauge equivariance
of GEMNet with it, bad input, and what it is for: reaching vertices beyond a network's receptive field."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manifoldnet import shapes
from manifoldnet.data import collate_operators
from manifoldnet.mesh import Mesh
from manifoldnet.nn import GlobalContext, build_model
from manifoldnet.nn.context import broadcast_to_vertices
from manifoldnet.operators import TorchOperators, compute_operators
from manifoldnet.testing import assert_gauge_equivariant
from tests.nn.layer_fixtures import fit_losses, three_meshes

FIELDS = ("logmap", "transport", "mass")


def _ops(mesh, device=None):
    return TorchOperators.from_bundle(compute_operators(mesh, fields=FIELDS, dtype="float64"), device)


@pytest.fixture(scope="module")
def bundles():
    return [compute_operators(m, fields=FIELDS, dtype="float64") for m in three_meshes()]


def test_equals_a_per_mesh_loop_reference(bundles, device):
    torch.manual_seed(0)
    layer = GlobalContext(5).double().to(device)
    batch = collate_operators(bundles, device=device)
    x = torch.randn(batch.n_verts, 5, dtype=torch.float64, device=device)
    W, b = layer.linear.weight.detach().cpu().numpy(), layer.linear.bias.detach().cpu().numpy()
    ref = []
    for xb, bundle in zip(batch.split(x), bundles, strict=True):
        xb, m = xb.cpu().numpy(), np.asarray(bundle.mass, dtype=np.float64)
        mean = (m[:, None] * xb).sum(0) / m.sum()
        ref.append(xb + (W @ np.maximum(mean, 0.0) + b)[None, :])
    np.testing.assert_allclose(
        layer(x, batch).detach().cpu().numpy(), np.concatenate(ref), rtol=0, atol=1e-12
    )


def test_batch_equals_each_mesh_alone(bundles, device):
    batch = collate_operators(bundles, device=device)
    singles = [TorchOperators.from_bundle(b, device) for b in bundles]
    x = torch.randn(batch.n_verts, 4, dtype=torch.float64, device=device)
    for name in ("gcnn", "monet", "gem"):
        torch.manual_seed(0)
        model = build_model(name, 4, 3, width=12, n_blocks=2, global_context=True).double().eval().to(device)
        assert "mass" in model.required_fields
        ref = torch.cat([model(xs, s) for xs, s in zip(batch.split(x), singles, strict=True)])
        torch.testing.assert_close(model(x, batch), ref, rtol=0, atol=1e-12)


def test_vertex_relabelling_permutes_the_output():
    mesh = shapes.noisy_sphere(1, noise=0.05, seed=2)
    perm = np.random.default_rng(0).permutation(mesh.n_verts)
    inverse = np.argsort(perm)
    relabelled = Mesh(mesh.verts[perm], inverse[mesh.faces])
    ops, ops_p = _ops(mesh), _ops(relabelled)
    torch.manual_seed(0)
    layer = GlobalContext(3).double()
    x = torch.randn(mesh.n_verts, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(x[perm], ops_p), layer(x, ops)[perm], rtol=0, atol=1e-12)


def test_gradients():
    ops = _ops(shapes.icosphere(1))
    layer = GlobalContext(2).double()
    x = torch.randn(ops.n_verts, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x, ops), (x,))
    g = torch.randn(ops.n_meshes, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: broadcast_to_vertices(g, ops), (g,))


def test_gem_net_with_context_stays_gauge_equivariant():
    ops = _ops(shapes.noisy_sphere(2, noise=0.05, seed=1))
    torch.manual_seed(0)
    model = build_model("gem", 4, 3, width=15, n_blocks=2, global_context=True)
    assert all(block.context is not None for block in model.blocks)
    assert assert_gauge_equivariant(model, ops, 4, 3) < 1e-12
    assert assert_gauge_equivariant(model, ops, 4, 3, dtype="float32", tol=1e-5) < 1e-5


def test_context_reaches_beyond_the_receptive_field():
    """Two copies of one mesh, input zero except at vertex 0 (+1 on one copy, -1 on the other), label: the
    copy. A one-block one-ring MoNet gives the two copies the same output at every vertex outside vertex 0's
    ring (it cannot see the input there): at most half of those right. With the context it learns the label
    everywhere."""
    mesh = shapes.icosphere(2)
    bundle = compute_operators(mesh, fields=("logmap", "mass"), dtype="float64")
    ops = collate_operators([bundle, bundle])
    V = mesh.n_verts
    x = torch.zeros(2 * V, 1, dtype=torch.float64)
    x[0, 0], x[V, 0] = 1.0, -1.0
    y = torch.cat([torch.zeros(V, dtype=torch.long), torch.ones(V, dtype=torch.long)])
    near = torch.zeros(V, dtype=torch.bool)
    near[0] = True
    near[ops.edge_index[1][ops.edge_index[0] == 0]] = True
    far = torch.cat([~near, ~near])
    for context in (False, True):
        torch.manual_seed(0)
        model = build_model(
            "monet",
            1,
            2,
            width=8,
            n_blocks=1,
            dropout=0.0,
            last_activation="log_softmax",
            global_context=context,
        ).double()
        fit_losses(model, x, ops, y, steps=60, lr=3e-2)
        out = model(x, ops).detach()
        accuracy = float((out.argmax(1) == y)[far].double().mean())
        if context:
            assert accuracy == 1.0
        else:
            torch.testing.assert_close(out[:V][~near], out[V:][~near], rtol=0, atol=1e-12)
            assert accuracy <= 0.5


def test_bad_input_gives_clear_errors():
    ops = _ops(shapes.icosphere(1))
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        GlobalContext(0)
    with pytest.raises(ValueError, match="built for 3"):
        GlobalContext(3).double()(torch.zeros(ops.n_verts, 2, dtype=torch.float64), ops)
    with pytest.raises(ValueError, match="rows but the operators have"):
        GlobalContext(3).double()(torch.zeros(ops.n_verts + 1, 3, dtype=torch.float64), ops)
    with pytest.raises(ValueError, match=r"per-mesh values"):
        broadcast_to_vertices(torch.zeros(2, 3, dtype=torch.float64), ops)
    no_mass = TorchOperators.from_bundle(compute_operators(shapes.icosphere(1), fields=("logmap",)))
    with pytest.raises(ValueError, match="mass"):
        GlobalContext(3)(torch.zeros(no_mass.n_verts, 3), no_mass)
