"""Layers and models of the spectral family: dense references, batching, invariances, discretization,
required fields and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from manifoldnet import nn as mnn
from manifoldnet import shapes
from manifoldnet.data import generated as g
from manifoldnet.data.batch import collate_operators
from manifoldnet.nn import functional as F
from manifoldnet.operators import compute_operators
from tests.nn.layer_fixtures import small_bundle


def _randomize_times(model, lo=0.002, hi=0.05, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, mnn.LearnedDiffusion):
            with torch.no_grad():
                m.time.copy_(lo + (hi - lo) * torch.rand(m.time.shape, generator=gen))
    return model


def test_spectral_conv_equals_dense_sum_of_filters(noisy_bundle, device):
    ops = noisy_bundle.to(device)
    torch.manual_seed(0)
    conv = mnn.SpectralConv(3, 2, n_basis=6).double().to(device)
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64, device=device)
    y = conv(x, ops)
    evals = ops.evals
    u = evals / evals[:, -1:]
    w = torch.einsum("bkj,jio->bkio", mnn.spectral.cubic_bspline_basis(u, 6), conv.weight)[0]  # (K, Ci, Co)
    ref = sum(
        F.spectral_filter(x[:, i : i + 1].expand(-1, 2).contiguous(), ops, w[:, i, :]) for i in range(3)
    )
    torch.testing.assert_close(y, ref + conv.bias, atol=1e-10, rtol=0)


def test_bspline_basis_is_a_smooth_partition_of_unity():
    u = torch.linspace(0, 1, 1001, dtype=torch.float64)
    B = mnn.spectral.cubic_bspline_basis(u, 9)
    torch.testing.assert_close(B.sum(1), torch.ones_like(u))
    assert bool((B >= 0).all())
    with pytest.raises(ValueError, match="n_basis must be >= 4"):
        mnn.SpectralConv(2, 2, n_basis=3)


def test_cheb_conv_order_zero_is_a_linear_map(noisy_bundle):
    ops = noisy_bundle.to()
    conv = mnn.ChebConv(3, 4, order=0).double()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    torch.testing.assert_close(conv(x, ops), x @ conv.weight[0] + conv.bias)


def test_learned_diffusion_keeps_times_nonnegative(noisy_bundle):
    ops = noisy_bundle.to()
    layer = mnn.LearnedDiffusion(3).double()
    with torch.no_grad():
        layer.time.copy_(torch.tensor([-1.0, 0.5, -0.1]))
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    y_eval = layer.eval()(x, ops)  # evaluation: negative times act as 0, the parameter is left alone
    torch.testing.assert_close(layer.time.detach().float(), torch.tensor([-1.0, 0.5, -0.1]))
    layer.train()(x, ops)
    assert layer.time.tolist() == [0.0, 0.5, 0.0]
    torch.testing.assert_close(layer.eval()(x, ops), y_eval)
    with pytest.raises(ValueError, match="method must be"):
        mnn.LearnedDiffusion(3, method="explicit")
    with pytest.raises(ValueError, match="init_time"):
        mnn.LearnedDiffusion(3, init_time=-1.0)


def test_required_fields_and_missing_field_error():
    assert mnn.DiffusionNet(3, 2).required_fields == ("eigenbasis", "gradient", "mass")
    assert mnn.DiffusionNet(3, 2, diffusion="implicit").required_fields == ("gradient", "laplacian", "mass")
    assert mnn.DiffusionNet(3, 2, with_gradient_features=False).required_fields == ("eigenbasis", "mass")
    assert mnn.build_model("chebnet", 3, 2).required_fields == ("laplacian", "mass")
    assert mnn.build_model("spectral", 3, 2).required_fields == ("eigenbasis", "mass")
    ops = compute_operators(shapes.icosphere(1), fields=("mass", "eigenbasis"), k=8).to()
    model = mnn.DiffusionNet(3, 2)
    with pytest.raises(
        ValueError, match=r"needs the bundle field 'gradient'.*'eigenbasis', 'gradient', 'mass'"
    ):
        model(ops.verts, ops)


def test_build_model_errors():
    names = sorted(mnn.MODELS)
    assert {"chebnet", "diffusionnet", "spectral"} <= set(names)
    with pytest.raises(ValueError, match=re.escape(f"unknown model 'pointnet'; choose from {names}")):
        mnn.build_model("pointnet", 3, 2)
    with pytest.raises(ValueError, match="model 'diffusionnet'.*widht"):
        mnn.build_model("diffusionnet", 3, 2, widht=64)
    with pytest.raises(ValueError, match="outputs must be one of"):
        mnn.DiffusionNet(3, 2, outputs="edges")


@pytest.mark.parametrize(
    "name,kw",
    [
        ("diffusionnet", {}),
        ("diffusionnet", {"diffusion": "implicit"}),
        ("spectral", {}),
        ("chebnet", {}),
    ],
)
@pytest.mark.parametrize("outputs", ["vertices", "faces", "global"])
def test_model_batch_of_three_equals_each_alone(three_bundles, name, kw, outputs):
    torch.manual_seed(0)
    model = (
        _randomize_times(mnn.build_model(name, 8, 5, width=16, n_blocks=2, outputs=outputs, **kw))
        .double()
        .eval()
    )
    singles = [b.to() for b in three_bundles]
    batch = collate_operators(three_bundles)
    y = model(batch.hks, batch)
    ref = torch.cat([model(s.hks, s) for s in singles])
    torch.testing.assert_close(y, ref, atol=1e-6, rtol=0)


def _permuted(mesh, perm):
    inv = np.argsort(perm)
    return type(mesh)(mesh.verts[perm], inv[mesh.faces])


@pytest.mark.parametrize("diffusion", ["spectral", "implicit"])
def test_diffusionnet_permutation_and_rigid_motion_invariance(diffusion, device):
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=3)
    rng = np.random.default_rng(0)
    perm = rng.permutation(mesh.n_verts)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = type(mesh)(mesh.verts @ q.T * np.sign(np.linalg.det(q)) + [1.0, -2.0, 0.5], mesh.faces)
    bundles = [small_bundle(m, k=40) for m in (mesh, _permuted(mesh, perm), moved)]
    torch.manual_seed(1)
    model = (
        _randomize_times(mnn.DiffusionNet(8, 4, width=16, n_blocks=2, diffusion=diffusion))
        .double()
        .eval()
        .to(device)
    )
    y0, yp, ym = (model(b.to(device).hks, b.to(device)).cpu() for b in bundles)
    torch.testing.assert_close(yp, y0[perm], atol=1e-8, rtol=0)  # exact up to rounding
    torch.testing.assert_close(ym, y0, atol=1e-8, rtol=0)  # HKS and every operator are intrinsic


def _two_triangulations(family="blob", n=(1500, 2400), seed=7):
    """The same posed surface of a generated sphere family, triangulated twice: [(mesh, params)] * 2."""
    from manifoldnet import Mesh

    rng = np.random.default_rng(seed)
    pose = g.random_pose(family, rng)
    out = []
    for size in n:
        params, faces = g._triangulate(family, size, rng)
        out.append((Mesh(g.embed(family, params, pose), faces), params))
    return out


def _transfer(values_b, faces_b, params_b, points, k=12):
    """Values of mesh b at parameter-sphere ``points``: barycentric in the face of b's (convex, star-shaped)
    parameter triangulation that the ray through each point crosses."""
    from scipy.spatial import cKDTree

    tri = params_b[faces_b]  # (F, 3, 3)
    _, cand = cKDTree(tri.mean(1)).query(points, k=k)  # (N, k)
    lam = np.linalg.solve(np.transpose(tri[cand], (0, 1, 3, 2)), points[:, None, :, None])[
        ..., 0
    ]  # (N, k, 3)
    inside = (lam >= -1e-12).all(-1)
    assert inside.any(1).all(), "a point found no face among its candidates"
    pick = inside.argmax(1)
    rows = np.arange(points.shape[0])
    bary = lam[rows, pick] / lam[rows, pick].sum(-1, keepdims=True)
    return (values_b[faces_b[cand[rows, pick]]] * bary[:, :, None]).sum(1)


@pytest.fixture(scope="module")
def two_triangulations():
    """Operators of one generated surface triangulated twice (1500 and 2400 vertices), and the map of the
    second
    mesh's vertex values onto the first mesh's vertices."""
    (a, pa), (b, pb) = _two_triangulations()
    fields = ("mass", "laplacian", "eigenbasis", "gradient")
    ops = [compute_operators(m, fields=fields, k=64, dtype="float64").to() for m in (a, b)]
    return ops, lambda y: _transfer(y, b.faces, pb, pa)


def _bumps(ops, centres):
    d2 = ((ops.verts[:, None, :] - centres[None]) ** 2).sum(-1)
    return torch.cat([ops.verts, torch.exp(-d2 / 0.3**2)], 1)  # xyz and three smooth bumps: (V, 6)


@pytest.mark.parametrize("diffusion", ["spectral", "implicit"])
def test_diffusionnet_is_nearly_discretization_agnostic(two_triangulations, diffusion):
    """The same surface, two triangulations: a fixed random DiffusionNet gives nearly the same output.

    Reported: the mass-weighted relative difference (of the output about its mean) between the two meshes, and
    as the control the change the diffusion itself makes (times -> 0), which must be several times larger."""
    (oa, ob), to_a = two_triangulations
    centres = oa.verts[[0, 500, 1000]]
    m = oa.mass[:, None].numpy()
    torch.manual_seed(2)
    model = _randomize_times(mnn.DiffusionNet(6, 8, width=32, n_blocks=2, diffusion=diffusion), 0.05, 0.5)
    model = model.double().eval()
    with torch.no_grad():
        ya, yb = model(_bumps(oa, centres), oa).numpy(), model(_bumps(ob, centres), ob).numpy()
        y0 = _randomize_times(model, 0.0, 0.0)(_bumps(oa, centres), oa).numpy()
    scale = np.sqrt((m * (ya - (m * ya).sum(0) / m.sum()) ** 2).sum())
    same = float(np.sqrt((m * (ya - to_a(yb)) ** 2).sum()) / scale)
    effect = float(np.sqrt((m * (ya - y0) ** 2).sum()) / scale)
    print(
        f"{diffusion}: relative difference between triangulations {same:.4f}; "
        f"diffusion's own effect {effect:.4f}"
    )
    assert same < 0.02 and effect > 4 * same


@pytest.mark.parametrize("diffusion", ["spectral", "implicit"])
def test_diffusion_and_gradient_features_are_nearly_discretization_agnostic(two_triangulations, diffusion):
    """Layer by layer: diffused bumps and their gradient features agree between the two triangulations, to
    within a small multiple of how well the inputs themselves agree after the transfer (linear
    interpolation)."""
    (oa, ob), to_a = two_triangulations
    centres = oa.verts[[0, 500, 1000]]
    m = oa.mass[:, None].numpy()
    t = torch.tensor([0.0, 0.0, 0.0, 0.02, 0.1, 0.5], dtype=torch.float64)
    fn = F.diffuse_spectral if diffusion == "spectral" else F.diffuse_implicit
    torch.manual_seed(5)
    A_re, A_im = torch.randn(6, 6, dtype=torch.float64), torch.randn(6, 6, dtype=torch.float64)
    for name, f in {
        "input": lambda x, o: x,
        "diffusion": lambda x, o: fn(x, o, t),
        "gradient features": lambda x, o: F.gradient_features(fn(x, o, t), o, A_re, A_im),
    }.items():
        ya, yb = f(_bumps(oa, centres), oa).numpy()[:, 3:], f(_bumps(ob, centres), ob).numpy()[:, 3:]
        rel = float(np.sqrt((m * (ya - to_a(yb)) ** 2).sum() / (m * ya**2).sum()))
        print(f"{diffusion} {name}: relative difference between triangulations {rel:.4f}")
        if name == "input":
            base = rel
        assert rel < {"input": 0.05, "diffusion": 1.5 * base, "gradient features": 5 * base}[name]


def test_model_float32_and_autocast(three_bundles):
    b = three_bundles[2]
    ops32 = b.to(dtype=torch.float32)
    torch.manual_seed(3)
    model = _randomize_times(mnn.DiffusionNet(8, 5, width=32, n_blocks=2)).eval()
    y32 = model(ops32.hks, ops32)
    y64 = model.double()(b.to().hks, b.to()).float()
    assert_allclose(y32.detach().numpy(), y64.detach().numpy(), atol=1e-4)
    model.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        yb = model(ops32.hks, ops32)
    assert torch.isfinite(yb).all()
    assert float((yb.float() - y32).abs().max()) < 0.1 * float(y32.abs().max())


def test_training_step_reduces_loss(three_bundles):
    """A few Adam steps on a fixed target lower the loss (gradients reach every parameter, times included)."""
    batch = collate_operators(three_bundles, dtype=torch.float32)
    labels = (batch.verts[:, 2] > 0).long()
    torch.manual_seed(4)
    model = mnn.DiffusionNet(8, 2, width=16, n_blocks=2, last_activation="log_softmax", dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(
            model(torch.cat([batch.verts, batch.hks[:, :5]], 1), batch), labels
        )
        loss.backward()
        losses.append(float(loss))
        opt.step()
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < 0.7 * losses[0]
    assert any(float(blk.diffusion.time.abs().max()) > 0 for blk in model.blocks)


def test_heads():
    ops = small_bundle(shapes.icosphere(2), k=12).to()
    x = torch.randn(ops.n_verts, 4, dtype=torch.float64)
    emb = mnn.OutputHead(4, 3, last_activation="normalize").double()(x, ops)
    assert_allclose(emb.norm(dim=1).detach().numpy(), 1.0)
    glob = mnn.OutputHead(4, 3, outputs="global", last_activation="log_softmax").double()(x, ops)
    assert glob.shape == (1, 3)
    assert_allclose(glob.exp().sum(1).detach().numpy(), 1.0)
    with pytest.raises(ValueError, match="last_activation"):
        mnn.OutputHead(4, 3, last_activation="relu6")
