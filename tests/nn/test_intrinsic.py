"""Intrinsic patch convolutions (GeodesicConv, MoNetConv) and their patch operator: per-vertex loop references
in float64, gradients, vertex relabelling, rigid motion, the gauge-change bound of the pooled layers, batches
against single meshes, the models, and bad input."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from manifoldnet import shapes
from manifoldnet.data.batch import collate_operators
from manifoldnet.mesh import Mesh
from manifoldnet.nn import functional as F
from manifoldnet.nn import patch as P
from manifoldnet.nn.intrinsic import GeodesicConv, MoNetConv
from manifoldnet.nn.models import build_model
from manifoldnet.operators import compute_operators
from tests.nn.layer_fixtures import fit_losses, three_meshes

# (neighbourhood, spec parameters): the one-ring log map, k-nearest geodesic patches, radius patches
NEIGHBOURHOODS = {
    "one_ring": ("one_ring", {}),
    "patch_k": ("patches", {"patch_k": 10}),
    "patch_radius": ("patches", {"patch_radius": 0.45}),
}
EPS = 1e-8  # patch_aggregate's default


def _bundle(mesh, kind="one_ring", gauge="intrinsic"):
    nb, extra = NEIGHBOURHOODS[kind]
    fields = ("logmap",) if nb == "one_ring" else ("patches",)
    return compute_operators(mesh, fields=(*fields, "mass"), dtype="float64", gauge=gauge, **extra)


@pytest.fixture(scope="module")
def sphere():
    """An irregular 162-vertex sphere."""
    return shapes.noisy_sphere(2, noise=0.05, seed=1)


@pytest.fixture(scope="module")
def bundles(sphere):
    return {kind: _bundle(sphere, kind) for kind in NEIGHBOURHOODS}


def _pairs(ops, nb):
    _, index, r, theta = P.NEIGHBOURHOODS[nb]
    return getattr(ops, index).cpu().numpy(), getattr(ops, r).cpu().numpy(), getattr(ops, theta).cpu().numpy()


def _loop_responses(ops, nb, x, kernel):
    """(V, K, C) the patch responses by a loop over vertices: ``kernel(r, theta)`` (n,) -> (n, K) weights of a
    vertex's n pairs, r divided by the vertex's largest radius, the sums normalized per kernel."""
    index, r, theta = _pairs(ops, nb)
    x = x.detach().cpu().numpy()
    out = []
    for i in range(ops.n_verts):
        sel = np.flatnonzero(index[0] == i)
        w = kernel(r[sel] / r[sel].max(), theta[sel])
        out.append((w.T @ x[index[1, sel]]) / (w.sum(0)[:, None] + EPS))
    return np.stack(out)


def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def _gaussian(d, sigma):
    return np.exp(-0.5 * (d / sigma) ** 2)


def _bins_loop(n_r, n_a):
    def kernel(r, theta):
        cols = []
        for b in range(n_r):
            for a in range(n_a):
                wr = _gaussian(r - (b + 0.5) / n_r, 1.0 / n_r)
                cols.append(wr * _gaussian(_wrap(theta - 2 * np.pi * a / n_a), np.pi / n_a))
        return np.stack(cols, 1)

    return kernel


def _np(t):
    return t.detach().cpu().numpy()


# ------------------------------------------------------------------------------------ loop references
@pytest.mark.parametrize("kind", list(NEIGHBOURHOODS))
def test_patch_aggregate_equals_loop_reference(bundles, kind, device):
    ops = bundles[kind].to(device)
    nb = NEIGHBOURHOODS[kind][0]
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64, device=device)
    r, theta = P.patch_coordinates(ops, nb)
    y = P.patch_aggregate(x, ops, P.polar_bins(r, theta, 2, 5), nb)
    ref = _loop_responses(ops, nb, x, _bins_loop(2, 5))
    assert y.shape == (ops.n_verts, 10, 3) and y.device == x.device
    np.testing.assert_allclose(_np(y), ref, atol=1e-10, rtol=0)
    if kind == "patch_k":
        assert (np.bincount(_pairs(ops, nb)[0][0]) == 10).all()


@pytest.mark.parametrize("kind", ["one_ring", "patch_k"])
def test_geodesic_conv_equals_loop_reference(bundles, kind, device):
    ops = bundles[kind].to(device)
    nb = NEIGHBOURHOODS[kind][0]
    torch.manual_seed(0)
    conv = GeodesicConv(3, 4, n_radial=2, n_angular=6, neighbourhood=nb).double().to(device)
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64, device=device)
    h = _loop_responses(ops, nb, x, _bins_loop(2, 6)).reshape(ops.n_verts, 2, 6, 3)
    W = _np(conv.weight)  # (n_r, n_a, C_in, C_out)
    rotations = [np.einsum("vbac,baco->vo", h, np.roll(W, s, axis=1)) for s in range(6)]
    ref = np.max(rotations, axis=0) + _np(x) @ _np(conv.root) + _np(conv.bias)
    np.testing.assert_allclose(_np(conv(x, ops)), ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("orientation", ["gauge", "pooled"])
@pytest.mark.parametrize("kind", ["one_ring", "patch_radius"])
def test_monet_conv_equals_loop_reference(bundles, kind, orientation, device):
    ops = bundles[kind].to(device)
    nb = NEIGHBOURHOODS[kind][0]
    torch.manual_seed(1)
    conv = MoNetConv(3, 4, n_kernels=5, orientation=orientation, n_rotations=4, neighbourhood=nb)
    conv = conv.double().to(device)
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64, device=device)
    mu_r, mu_t, s_r, s_t = (
        _np(p) for p in (conv.mu_r, conv.mu_theta, conv.log_sigma_r, conv.log_sigma_theta)
    )
    n_rot = 4 if orientation == "pooled" else 1
    outs = []
    for s in range(n_rot):
        shift = 2 * np.pi * s / n_rot

        def kernel(r, theta, shift=shift):
            dr = (r[:, None] - mu_r) / np.exp(s_r)
            dt = _wrap(theta[:, None] - mu_t - shift) / np.exp(s_t)
            return np.exp(-0.5 * (dr**2 + dt**2))

        h = _loop_responses(ops, nb, x, kernel)  # (V, K, C_in)
        outs.append(np.einsum("vkc,kco->vo", h, _np(conv.weight)))
    ref = np.max(outs, axis=0) + _np(x) @ _np(conv.root) + _np(conv.bias)
    np.testing.assert_allclose(_np(conv(x, ops)), ref, atol=1e-10, rtol=0)


def test_fixed_radius_divides_by_it(bundles):
    ops = bundles["patch_radius"].to()
    r, _ = P.patch_coordinates(ops, "patches", radius=0.45)
    torch.testing.assert_close(r, ops.patch_r / 0.45)
    assert float(r.max()) <= 1.0 + 1e-12
    r_one, _ = P.patch_coordinates(ops, "patches")
    assert float(r_one.max()) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------ gradients
def test_gradcheck_patch_aggregate_and_layers():
    ops = _bundle(shapes.noisy_sphere(1, noise=0.05, seed=2), "one_ring").to()
    r, theta = P.patch_coordinates(ops, "one_ring")
    x = torch.randn(ops.n_verts, 2, dtype=torch.float64, requires_grad=True)
    mu_r = torch.rand(3, dtype=torch.float64, requires_grad=True)
    mu_t = (6 * torch.rand(3, dtype=torch.float64)).requires_grad_()
    s_r = torch.full((3,), -0.7, dtype=torch.float64, requires_grad=True)
    s_t = torch.full((3,), 0.0, dtype=torch.float64, requires_grad=True)

    def f(x, mu_r, mu_t, s_r, s_t):  # learned kernels: gradients through the sparse product's values
        return P.patch_aggregate(x, ops, P.gaussian_kernels(r, theta, mu_r, mu_t, s_r, s_t), "one_ring")

    assert torch.autograd.gradcheck(f, (x, mu_r, mu_t, s_r, s_t))
    for conv in (GeodesicConv(2, 3, 2, 4), MoNetConv(2, 3, 3, orientation="pooled", n_rotations=3)):
        conv = conv.double()
        assert torch.autograd.gradcheck(lambda x, conv=conv: conv(x, ops), (x,))
        conv(x, ops).square().sum().backward()
        assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in conv.parameters())


# ---------------------------------------------------------------------------------------- invariances
def _layers(nb):
    torch.manual_seed(2)
    return [
        GeodesicConv(3, 4, 2, 6, neighbourhood=nb).double(),
        MoNetConv(3, 4, 4, orientation="gauge", neighbourhood=nb).double(),
        MoNetConv(3, 4, 4, orientation="pooled", n_rotations=5, neighbourhood=nb).double(),
    ]


def _relabelled(ops, nb, perm):
    """``ops`` (one mesh) with vertex a of the new labelling being vertex ``perm[a]`` of the old one."""
    _, index, r, theta = P.NEIGHBOURHOODS[nb]
    inv = torch.as_tensor(np.argsort(perm))
    return replace(ops, verts=ops.verts[perm], mass=ops.mass[perm], **{index: inv[getattr(ops, index)]})


@pytest.mark.parametrize("kind", ["one_ring", "patch_k"])
def test_vertex_relabelling_permutes_the_output(sphere, bundles, kind):
    """Relabelled operators, and operators computed from the relabelled mesh, give the relabelled output
    exactly (geodesic_patches breaks ties between candidate paths geometrically, not in label order)."""
    nb = NEIGHBOURHOODS[kind][0]
    perm = np.random.default_rng(3).permutation(sphere.n_verts)  # new vertex a is old vertex perm[a]
    ops = bundles[kind].to()
    relabelled = [_relabelled(ops, nb, perm)]
    moved = Mesh(np.asarray(sphere.verts)[perm], np.argsort(perm)[np.asarray(sphere.faces)])  # same faces
    relabelled.append(_bundle(moved, kind).to())
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    for layer in _layers(nb):
        for ops_p in relabelled:
            torch.testing.assert_close(layer(x[perm], ops_p), layer(x, ops)[perm], atol=1e-10, rtol=0)


@pytest.mark.parametrize("kind", ["one_ring", "patch_radius"])
def test_rigid_motion_leaves_the_output_unchanged(sphere, bundles, kind):
    nb = NEIGHBOURHOODS[kind][0]
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # a rotation
    moved = Mesh(np.asarray(sphere.verts) @ q.T + rng.normal(size=3), sphere.faces)
    ops, ops_m = bundles[kind].to(), _bundle(moved, kind).to()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    for layer in _layers(nb):
        torch.testing.assert_close(layer(x, ops_m), layer(x, ops), atol=1e-10, rtol=0)


def _gauge_changed(ops, nb, g):
    """``ops`` with the angles of vertex i's pairs turned by ``-g_i`` (theta -> theta - g_i, in [0, 2 pi))."""
    _, index, _, theta = P.NEIGHBOURHOODS[nb]
    i = getattr(ops, index)[0]
    return replace(ops, **{theta: torch.remainder(getattr(ops, theta) - g[i], 2 * math.pi)})


@pytest.mark.parametrize("kind", ["one_ring", "patch_k"])
@torch.no_grad()
def test_gauge_change_bound_of_the_pooled_layers(bundles, kind, device):
    """Pooled over n rotations: exactly invariant to gauge changes by multiples of D = 2 pi / n; under any
    gauge change g, vertex i's output moves by at most |d_i| L_i <= (pi / n) L_i, d_i = g_i - D round(g_i / D)
    and L_i the largest slope of its output under a rotation of its gauge (module docstring of
    nn.intrinsic). The gauge-oriented MoNet moves by far more."""
    ops = bundles[kind].to(device)
    nb = NEIGHBOURHOODS[kind][0]
    V = ops.n_verts
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(V, 3, dtype=torch.float64, generator=gen).to(device)
    geodesic, oriented, pooled = (layer.to(device) for layer in _layers(nb))
    for layer, n in ((geodesic, 6), (pooled, 5)):
        D = 2 * math.pi / n
        y0 = layer(x, ops)
        whole = D * torch.randint(-7, 8, (V,), generator=gen).double().to(device)
        torch.testing.assert_close(layer(x, _gauge_changed(ops, nb, whole)), y0, atol=1e-10, rtol=0)
        # L_i: the largest slope of y_i(t) over a fine grid of rotations t in [-D/2, D/2] (all vertices)
        ts = torch.linspace(-D / 2, D / 2, 97, dtype=torch.float64)
        ys = torch.stack(
            [layer(x, _gauge_changed(ops, nb, torch.full((V,), float(t), device=device))) for t in ts]
        )
        slope = ((ys[1:] - ys[:-1]).abs() / (ts[1] - ts[0])).amax(dim=(0, 2))  # (V,)
        g = (2 * math.pi * torch.rand(V, generator=gen, dtype=torch.float64) * 3 - 3 * math.pi).to(device)
        d = g - D * torch.round(g / D)
        change = (layer(x, _gauge_changed(ops, nb, g)) - y0).abs().amax(1)
        assert bool((change <= 1.05 * d.abs() * slope + 1e-12).all())
        assert float(change.max()) <= math.pi / n * float(slope.max()) * 1.05
        assert float(change.max()) > 1e-6  # the bound is not vacuous: the output does move within a bin
    g = (2 * math.pi * torch.rand(V, generator=gen, dtype=torch.float64)).to(device)
    moved = (oriented(x, _gauge_changed(ops, nb, g)) - oriented(x, ops)).abs().amax()
    assert float(moved) > 1e-2 * float(oriented(x, ops).abs().amax())


@torch.no_grad()
def test_principal_gauge_orients_monet_differently(sphere):
    """The oriented MoNet reads the gauge the bundle was built with; the pooled GeodesicConv barely does."""
    a, b = _bundle(sphere, "one_ring").to(), _bundle(sphere, "one_ring", gauge="principal").to()
    x = torch.randn(a.n_verts, 3, dtype=torch.float64)
    geodesic, oriented, _ = _layers("one_ring")
    diff = lambda layer: float((layer(x, a) - layer(x, b)).abs().max() / layer(x, a).abs().max())  # noqa: E731
    assert diff(oriented) > 1e-2
    assert diff(geodesic) < diff(oriented)


# -------------------------------------------------------------------------------------------- batches
@pytest.fixture(scope="module")
def three():
    fields = ("logmap", "patches", "mass")
    return [compute_operators(m, fields=fields, dtype="float64", patch_k=8) for m in three_meshes()]


@pytest.mark.parametrize("nb", ["one_ring", "patches"])
def test_batch_equals_each_mesh_alone(three, nb, device):
    alone = [b.to(device) for b in three]
    batch = collate_operators(three, device=device)
    x = torch.randn(batch.n_verts, 3, dtype=torch.float64, device=device)
    for layer in _layers(nb):
        layer = layer.to(device)
        ref = torch.cat([layer(xb, o) for xb, o in zip(batch.split(x), alone, strict=True)])
        torch.testing.assert_close(layer(x, batch), ref, atol=1e-12, rtol=0)
    # the sparse product also holds for pairs given out of order (weights follow the bundle's pair order)
    _, index, _, theta = P.NEIGHBOURHOODS[nb]
    perm = torch.randperm(getattr(batch, index).shape[1], device=device)
    arrays = {a: getattr(batch, a) for a in P.NEIGHBOURHOODS[nb][1:]}
    shuffled = replace(batch, **{a: (v[:, perm] if v.ndim == 2 else v[perm]) for a, v in arrays.items()})
    for layer in _layers(nb):
        layer = layer.to(device)
        torch.testing.assert_close(layer(x, shuffled), layer(x, batch), atol=1e-12, rtol=0)


# --------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize("name", ["gcnn", "monet"])
def test_models_are_registered_and_train(three, name):
    ops = collate_operators(three)
    model = build_model(name, 3, 4, width=8, n_blocks=2, dropout=0.0, last_activation="log_softmax")
    assert model.required_fields == ("logmap",)
    patches = build_model(name, 3, 5, neighbourhood="patches", outputs="global")
    assert patches.required_fields == ("mass", "patches")
    torch.manual_seed(0)
    model = model.double()
    x = ops.verts - ops.verts.mean(0)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()  # four quadrants
    losses = fit_losses(model, x, ops, y, steps=40)
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------------------------------------------------ bad input
def test_bad_input_gives_clear_errors(bundles):
    ops = bundles["one_ring"].to()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"bundle field 'patches'.*patch_index"):
        GeodesicConv(3, 4, neighbourhood="patches").double()(x, ops)
    with pytest.raises(ValueError, match=r"bundle field 'logmap'"):
        MoNetConv(3, 4).double()(x, bundles["patch_k"].to())
    with pytest.raises(ValueError, match="x has 2 channels, the layer was built for in_channels=3"):
        MoNetConv(3, 4).double()(x[:, :2], ops)
    with pytest.raises(ValueError, match="x has 5 rows"):
        GeodesicConv(3, 4).double()(x[:5], ops)
    with pytest.raises(ValueError, match="neighbourhood must be one of"):
        GeodesicConv(3, 4, neighbourhood="two_ring")
    with pytest.raises(ValueError, match="orientation must be one of"):
        MoNetConv(3, 4, orientation="principal")
    with pytest.raises(ValueError, match="n_angular must be a positive integer"):
        GeodesicConv(3, 4, n_angular=0)
    with pytest.raises(ValueError, match="radius must be None or a positive number"):
        GeodesicConv(3, 4, radius=-1.0).double()(x, ops)
    with pytest.raises(ValueError, match=r"weights must be \(P, K\)"):
        F.patch_aggregate(x, ops, torch.ones(7, 2, dtype=torch.float64))


def test_cached_patch_structures_leave_with_their_batch(three):
    """The per-batch structures are dropped with the batch's tensors (a cached value holding a view of its key
    kept every batch alive: 16 GB after a few training epochs)."""
    import gc

    from manifoldnet.nn import sparse

    layers = _layers("patches")
    gc.collect()
    before = len(sparse._DERIVED)
    for _ in range(3):
        ops = collate_operators(three)
        x = torch.randn(ops.n_verts, 3, dtype=torch.float64, requires_grad=True)
        for layer in layers:
            layer(x, ops).sum().backward()
        assert len(sparse._DERIVED) > before
        del ops, x
        gc.collect()
        assert len(sparse._DERIVED) == before
