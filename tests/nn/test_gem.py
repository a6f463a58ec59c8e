"""Gauge-equivariant convolution (nn.gem, nn.field_types, nn.models.gem_net) and the gauge-equivariance check
(testing.equivariance): the kernel constraint, dense references, exact equivariance with a bias, broken
controls that must fail, batching, permutation, gradcheck, tangent vectors, bad inputs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from manifoldnet import shapes
from manifoldnet.data import collate_operators
from manifoldnet.data import generated as gen
from manifoldnet.nn import DiffusionNet
from manifoldnet.nn.base import OperatorModule
from manifoldnet.nn.field_types import FieldType
from manifoldnet.nn.gem import (
    GemConv,
    NormNonlinearity,
    RegularNonlinearity,
    kernel_basis,
    kernel_terms,
    neighbour_pairs,
)
from manifoldnet.nn.models.gem_net import GEMNet
from manifoldnet.operators import TorchOperators, compute_operators
from manifoldnet.operators.fields import ARRAY_TABLE
from manifoldnet.testing import assert_gauge_equivariant, gauge_change
from manifoldnet.testing.equivariance import GAUGE_INVARIANT, GAUGE_RULES
from tests.nn.layer_fixtures import fit_losses

GEM_FIELDS = ("frames", "logmap", "transport", "patches", "gradient", "mass")


def _bundle(mesh, dtype="float64", fields=GEM_FIELDS):
    return compute_operators(mesh, fields=fields, dtype=dtype, patch_k=10)


@pytest.fixture(scope="module")
def sphere_ops():
    return TorchOperators.from_bundle(_bundle(shapes.noisy_sphere(2, noise=0.05, seed=1)))


@pytest.fixture(scope="module")
def generated_bundles():
    return [_bundle(gen.generate_shape(f, 3, n).mesh) for f, n in (("torus", 260), ("star", 330))]


def random_graph_ops(V=40, P=240, seed=0, dtype=torch.float64):
    """Operators of a random directed graph: random pairs with random log-map and transport angles."""
    g = torch.Generator().manual_seed(seed)
    i, j = torch.randint(0, V, (2, P), generator=g)
    keep = i != j
    i, j = i[keep], j[keep]
    n = i.shape[0]
    return TorchOperators(
        spec=None,
        verts=torch.zeros(V, 3, dtype=dtype),
        offsets=torch.tensor([0, V]),
        batch=torch.zeros(V, dtype=torch.long),
        edge_index=torch.stack([i, j]),
        logmap_r=(torch.rand(n, generator=g, dtype=torch.float64) + 0.1).to(dtype),
        logmap_theta=(torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi).to(dtype),
        transport_rho=(torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi - math.pi).to(dtype),
    )


class Stack(OperatorModule):
    """GemConv -> norm nonlinearity -> GemConv -> norm -> GemConv, every bias non-zero."""

    def __init__(self, types, conv=GemConv, nonlinearity=NormNonlinearity, **kw):
        super().__init__()
        layers = []
        for a, b in zip(types[:-1], types[1:], strict=True):
            layers += [conv(a, b, **kw), nonlinearity(b)]
        self.layers = torch.nn.ModuleList(layers[:-1])
        torch.manual_seed(0)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_()

    def forward(self, x, ops):
        for layer in self.layers:
            x = layer(x, ops)
        return x


TYPES = [FieldType([3, 2, 1]), FieldType([4, 3, 2]), FieldType([2, 3, 1]), FieldType([2, 1, 1])]


# ------------------------------------------------------------------------------------------- field types
def test_field_type_layout_round_trips_and_composes():
    ft = FieldType([2, 0, 3, 0])
    assert ft.multiplicities == (2, 0, 3) and ft.size == 8 and ft.orders == (0, 2)
    assert ft.slice(0) == slice(0, 2) and ft.slice(1) == slice(2, 2) and ft.slice(2) == slice(2, 8)
    assert FieldType([2, 0, 3]) == ft and hash(FieldType([2, 0, 3])) == hash(ft)
    x = torch.randn(5, 8, dtype=torch.float64)
    z = ft.to_complex(x, 2)
    assert z.shape == (5, 3) and torch.equal(z[:, 1], torch.complex(x[:, 4], x[:, 5]))  # (re, im) pairs
    torch.testing.assert_close(ft.from_complex([ft.to_complex(x, 0), None, z]), x, rtol=0, atol=0)
    g1, g2 = torch.rand(5, dtype=torch.float64) * 6, torch.rand(5, dtype=torch.float64) * 6
    torch.testing.assert_close(ft.transform(ft.transform(x, g1), g2), ft.transform(x, g1 + g2))
    torch.testing.assert_close(ft.to_complex(ft.transform(x, g1), 2), z * torch.exp(-2j * g1)[:, None])
    rep = ft.representation(-g1)  # x -> rho(-g) x is the gauge change
    torch.testing.assert_close(torch.einsum("vab,vb->va", rep, x), ft.transform(x, g1))


@pytest.mark.parametrize(
    "bad,match",
    [([-1, 2], ">= 0"), ([1.5], "integer"), ([0, 0], "at least one"), ("ab", "integer"), (3, "list")],
)
def test_field_type_refuses_bad_multiplicities(bad, match):
    with pytest.raises(ValueError, match=match):
        FieldType(bad)


# -------------------------------------------------------------------------------------------- kernels
def _rep(n, a):
    return FieldType([0] * n + [1]).representation(a)


@pytest.mark.parametrize("band_limit", [0, 1, 2, 3])
def test_kernel_basis_satisfies_the_constraint_and_spans_all_solutions(band_limit):
    gen_ = torch.Generator().manual_seed(band_limit)
    theta = torch.rand(7, generator=gen_, dtype=torch.float64) * 2 * math.pi
    g = torch.rand(7, generator=gen_, dtype=torch.float64) * 2 * math.pi
    for n in range(4):
        for m in range(4):
            d_n, d_m = (1 if n == 0 else 2), (1 if m == 0 else 2)
            K = kernel_basis(n, m, band_limit, theta)
            Kg = kernel_basis(n, m, band_limit, theta - g)
            rhs = _rep(m, -g)[None] @ K @ _rep(n, g)[None]
            torch.testing.assert_close(Kg, rhs, rtol=0, atol=1e-13)  # K(theta - g) = rho_m(-g) K rho_n(g)
            # completeness: solve the constraint on all trigonometric kernels of degree <= band_limit
            freqs = [(f, c) for f in range(band_limit + 1) for c in ((0,) if f == 0 else (0, 1))]
            t = np.linspace(0, 2 * np.pi, 11, endpoint=False)
            gg = np.linspace(0.3, 5.9, 5)

            def trig(f, c, a):
                return np.cos(f * a) if c == 0 else np.sin(f * a)

            rows = []
            for th in t:
                for gv in gg:  # one column per (frequency, entry): sum_f A_f(th - g) - R_m(-g) A_f(th) R_n(g)
                    Rm, Rn = _rep(m, torch.tensor(-gv)).numpy(), _rep(n, torch.tensor(gv)).numpy()
                    cols = []
                    for f, c in freqs:
                        for a in range(d_m):
                            for b in range(d_n):
                                E = np.zeros((d_m, d_n))
                                E[a, b] = 1.0
                                cols.append((trig(f, c, th - gv) * E - trig(f, c, th) * Rm @ E @ Rn).ravel())
                    rows.append(np.stack(cols, 1))
            A = np.concatenate(rows)
            null_dim = A.shape[1] - np.linalg.matrix_rank(A, tol=1e-9)
            assert K.shape[0] == null_dim, (n, m, band_limit, K.shape[0], null_dim)
            if K.shape[0]:  # the basis elements are linearly independent
                assert np.linalg.matrix_rank(K.reshape(K.shape[0], -1).numpy(), tol=1e-9) == K.shape[0]


def test_kernel_terms_band_limit():
    terms = kernel_terms(FieldType([1, 1, 1]), FieldType([1, 1, 1]), 2)
    assert all(abs(t.k) <= 2 for t in terms)
    assert sum(1 if t.real else 2 for t in terms) == sum(
        kernel_basis(t.n, t.m, 2, torch.zeros(1)).shape[0] for t in {(t.n, t.m): t for t in terms}.values()
    )


def _dense_reference(conv, x, ops):
    """The layer as a per-pair sum of explicit kernel matrices (float64)."""
    index, r, theta, rho = neighbour_pairs(ops, conv.neighbourhood)
    i, j = index
    R = conv.radial(r, ops.batch[i], ops.n_meshes)
    K = conv.kernel(theta, R)  # (P, C_out, C_in)
    T = conv.in_type.representation(rho)  # (P, C_in, C_in): transport j -> i
    msg = torch.einsum("poc,pcd,pd->po", K, T, x[j])
    y = torch.zeros(ops.n_verts, conv.out_type.size, dtype=x.dtype)
    y.index_add_(0, i, msg)  # a loop-free reference: index_add over pairs
    deg = torch.bincount(i, minlength=ops.n_verts).clamp(min=1)
    y = y / deg[:, None] + x @ conv.self_kernel().T
    if conv.bias is not None:
        y[:, conv.out_type.slice(0)] += conv.bias.detach()
    return y


@pytest.mark.parametrize("neighbourhood,n_radial", [("edges", None), ("edges", 2), ("patches", None)])
def test_gem_conv_equals_its_dense_kernel_and_the_kernel_is_constrained(sphere_ops, neighbourhood, n_radial):
    torch.manual_seed(0)
    conv = GemConv([2, 2, 1], [3, 1, 2, 1], band_limit=3, n_radial=n_radial, neighbourhood=neighbourhood)
    conv = conv.double()
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(sphere_ops.n_verts, conv.in_type.size, dtype=torch.float64)
    torch.testing.assert_close(conv(x, sphere_ops), _dense_reference(conv, x, sphere_ops), rtol=0, atol=1e-12)
    theta = torch.rand(9, dtype=torch.float64) * 6
    g = torch.rand(9, dtype=torch.float64) * 6
    radial = torch.rand(9, conv.n_radial, dtype=torch.float64)
    lhs = conv.kernel(theta - g, radial)
    rhs = conv.out_type.representation(-g) @ conv.kernel(theta, radial) @ conv.in_type.representation(g)
    torch.testing.assert_close(lhs, rhs, rtol=0, atol=1e-12)
    S = conv.self_kernel()  # frequency 0: commutes with every rotation
    torch.testing.assert_close(conv.out_type.representation(g) @ S, S @ conv.in_type.representation(g))


# ------------------------------------------------------------------------------------------ equivariance
@pytest.mark.parametrize("neighbourhood", ["edges", "patches"])
def test_stack_with_bias_is_gauge_equivariant_on_meshes(sphere_ops, generated_bundles, neighbourhood, device):
    model = Stack(TYPES, neighbourhood=neighbourhood, band_limit=2)
    assert all(
        float(layer.bias.detach().abs().min()) > 0 for layer in model.layers if isinstance(layer, GemConv)
    )
    for ops in [sphere_ops, *generated_bundles]:
        ops = ops.to(device) if isinstance(ops, TorchOperators) else TorchOperators.from_bundle(ops, device)
        err64 = assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], tol=1e-10)
        err32 = assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], tol=1e-5, dtype="float32")
        assert err64 < 1e-12 and err32 < 1e-5


def test_stack_is_gauge_equivariant_on_random_graphs():
    for seed in range(3):
        ops = random_graph_ops(seed=seed)
        model = Stack(TYPES, band_limit=3)
        assert assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], seed=seed) < 1e-12
        assert assert_gauge_equivariant(model, ops, TYPES[0], TYPES[-1], dtype="float32", tol=1e-5) < 1e-5


def test_stack_is_gauge_equivariant_on_real_data(data_dir):
    from manifoldnet.data import faust_5k

    if not (data_dir / "faust_5k").exists():
        pytest.skip(f"faust_5k not found under {data_dir}")
    mesh = faust_5k(data_dir, split="test")[0].mesh
    model = Stack(TYPES)
    assert assert_gauge_equivariant(model, mesh, TYPES[0], TYPES[-1]) < 1e-10
    assert assert_gauge_equivariant(model, mesh, TYPES[0], TYPES[-1], dtype="float32", tol=1e-5) < 1e-5


def test_gem_net_scalar_outputs_are_gauge_invariant(sphere_ops):
    for kw in (
        {},
        {"neighbourhood": "patches", "outputs": "global"},
        {"in_type": [2, 1], "outputs": "faces"},
    ):
        torch.manual_seed(0)
        c_in = FieldType(kw.get("in_type", [4])).size
        model = GEMNet(c_in, 3, width=15, n_blocks=2, **kw)
        assert assert_gauge_equivariant(model, _bundle(shapes.icosphere(1)), kw.get("in_type", 4), 3) < 1e-12
    vec = GEMNet(3, 2, width=10, n_blocks=1, in_type=[1, 1], outputs="vectors")
    assert vec.required_fields == ("frames", "logmap", "transport")
    assert assert_gauge_equivariant(vec, sphere_ops, [1, 1], None) < 1e-12  # world vectors: invariant


def test_other_families_are_checked_too(noisy_bundle):
    """DiffusionNet's outputs are scalars: invariant when the gradient operators change gauge."""
    torch.manual_seed(0)
    assert assert_gauge_equivariant(DiffusionNet(4, 3, width=8, n_blocks=2), noisy_bundle, 4, 3) < 1e-12


def test_regular_nonlinearity_error_falls_with_the_number_of_samples(sphere_ops, capsys):
    ft = FieldType([3, 3, 3])
    errors = {}
    for N in (5, 9, 17, 33, 65):
        torch.manual_seed(0)
        model = Stack([FieldType([3, 2]), ft, ft], nonlinearity=lambda t, N=N: RegularNonlinearity(t, N))
        errors[N] = assert_gauge_equivariant(model, sphere_ops, [3, 2], ft, tol=1.0)
        # exact for gauge changes by multiples of 2 pi / N (a shift of the samples)
        g = torch.randint(0, N, (sphere_ops.n_verts,), dtype=torch.float64) * (2 * math.pi / N)
        assert assert_gauge_equivariant(model, sphere_ops, [3, 2], ft, g=g, tol=1e-10) < 1e-10
    with capsys.disabled():
        print("\nregular nonlinearity, relative equivariance error by N:", errors)
    assert errors[65] < errors[17] < errors[5] and errors[65] < errors[5] / 20


# ------------------------------------------------------------------------------------ broken controls
class BiasOnEveryComponent(GemConv):
    """The reference implementation's bug: a bias added to every channel, rho_n ones included."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.full_bias = torch.nn.Parameter(torch.randn(self.out_type.size))

    def forward(self, x, ops):
        return super().forward(x, ops) + self.full_bias.to(x.dtype)


class WrongTransportSign(GemConv):
    def transport_phase(self, n, rho):
        return -n * rho


@pytest.mark.parametrize("broken", [BiasOnEveryComponent, WrongTransportSign])
def test_broken_controls_fail_the_check(sphere_ops, broken):
    good = Stack(TYPES, band_limit=2)
    assert assert_gauge_equivariant(good, sphere_ops, TYPES[0], TYPES[-1]) < 1e-12
    bad = Stack(TYPES, conv=broken, band_limit=2)
    with pytest.raises(AssertionError, match="not gauge equivariant: relative error"):
        assert_gauge_equivariant(bad, sphere_ops, TYPES[0], TYPES[-1], tol=1e-5)
    with pytest.raises(AssertionError, match="not gauge equivariant"):
        assert_gauge_equivariant(bad, random_graph_ops(), TYPES[0], TYPES[-1], tol=1e-5)


def test_gauge_change_knows_every_field_and_rotates_the_gradient(sphere_ops):
    assert set(GAUGE_RULES) | GAUGE_INVARIANT == set(ARRAY_TABLE)
    assert not set(GAUGE_RULES) & GAUGE_INVARIANT
    g = torch.rand(sphere_ops.n_verts, dtype=torch.float64) * 6
    changed = gauge_change(sphere_ops, g)
    f = torch.randn(sphere_ops.n_verts, 2, dtype=torch.float64)
    grad = torch.complex(sphere_ops.grad_x @ f, sphere_ops.grad_y @ f)
    grad2 = torch.complex(changed.grad_x @ f, changed.grad_y @ f)
    torch.testing.assert_close(grad2, grad * torch.exp(-1j * g)[:, None])
    # the world vector of the gradient does not depend on the gauge
    ft = FieldType([0, 2])
    xg = ft.from_complex([None, grad])
    xg2 = ft.from_complex([None, grad2])
    torch.testing.assert_close(ft.to_world(xg2, changed.frames), ft.to_world(xg, sphere_ops.frames))
    assert float(changed.logmap_theta.min()) >= 0 and float(changed.logmap_theta.max()) < 2 * math.pi
    assert float(changed.transport_rho.abs().max()) <= math.pi


# ------------------------------------------------------------------------ batching, permutation, grads
def test_batch_equals_each_mesh_alone(generated_bundles, device):
    bundles = [*generated_bundles, _bundle(shapes.icosphere(2))]
    for kw in ({"neighbourhood": "edges", "n_radial": 2}, {"neighbourhood": "patches"}):
        torch.manual_seed(0)
        model = GEMNet(5, 4, width=15, n_blocks=2, **kw).double().eval().to(device)
        singles = [TorchOperators.from_bundle(b, device) for b in bundles]
        batch = collate_operators(bundles).to(device)
        x = torch.randn(batch.n_verts, 5, dtype=torch.float64, device=device)
        ref = torch.cat([model(xs, s) for xs, s in zip(batch.split(x), singles, strict=True)])
        torch.testing.assert_close(model(x, batch), ref, rtol=0, atol=1e-12)


def test_vertex_permutation_equivariance_up_to_the_gauge_of_the_frames():
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=3)
    perm = np.random.default_rng(0).permutation(mesh.n_verts)
    permuted = type(mesh)(mesh.verts[perm], np.argsort(perm)[mesh.faces])
    a, b = (TorchOperators.from_bundle(_bundle(m)) for m in (mesh, permuted))
    fa = a.frames[perm]  # the frame of each permuted vertex in the original bundle
    torch.testing.assert_close(fa[:, 2], b.frames[:, 2])  # same normals
    g = torch.atan2((b.frames[:, 0] * fa[:, 1]).sum(1), (b.frames[:, 0] * fa[:, 0]).sum(1))
    model = Stack(TYPES).double().eval()
    x = torch.randn(mesh.n_verts, TYPES[0].size, dtype=torch.float64)
    with torch.no_grad():
        ya, yb = model(x, a), model(TYPES[0].transform(x[perm], g), b)
    torch.testing.assert_close(yb, TYPES[-1].transform(ya[perm], g), rtol=0, atol=1e-10)


def test_gradcheck(sphere_ops):
    ops = TorchOperators.from_bundle(_bundle(shapes.icosphere(1)))
    torch.manual_seed(0)
    model = Stack([FieldType([1, 1]), FieldType([1, 1, 1]), FieldType([1, 1])]).double()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: model(x, ops), (x,))
    model.zero_grad()
    model(x, ops).square().sum().backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.parameters())


def test_float32_operators_with_float64_features_and_autocast(sphere_ops):
    torch.manual_seed(0)
    model = Stack(TYPES).double()
    x = torch.randn(sphere_ops.n_verts, TYPES[0].size, dtype=torch.float64)
    with torch.no_grad():
        y = model(x, sphere_ops)
        y32 = model(x, sphere_ops.to(dtype=torch.float32))  # sparse products in float32, the rest float64
    assert y32.dtype == torch.float64
    torch.testing.assert_close(y32, y, rtol=0, atol=1e-5 * float(y.abs().max()))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        yb = model.float()(x.float(), sphere_ops.to(dtype=torch.float32))
    assert torch.isfinite(yb).all() and float((yb.float() - y.float()).abs().max()) < 0.05 * float(
        y.abs().max()
    )


def test_world_vectors_round_trip(sphere_ops):
    frames = sphere_ops.frames
    v = torch.randn(sphere_ops.n_verts, 2, 3, dtype=torch.float64)
    tangent = v - (v * frames[:, None, 2]).sum(-1, keepdim=True) * frames[:, None, 2]
    ft = FieldType([1, 2])
    z = FieldType.from_world(tangent, frames)
    x = ft.from_complex([torch.zeros(sphere_ops.n_verts, 1, dtype=torch.float64), z])
    torch.testing.assert_close(ft.to_world(x, frames), tangent)
    torch.testing.assert_close(FieldType.from_world(v, frames), z)  # the normal part is dropped
    with pytest.raises(ValueError, match="no rho_1 block"):
        FieldType([3]).to_world(torch.zeros(sphere_ops.n_verts, 3), frames)


# ------------------------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors(sphere_ops):
    conv = GemConv([2, 1], [1, 1]).double()
    with pytest.raises(ValueError, match=r"x has 3 channels but FieldType\(\[2, 1\]\) has 4"):
        conv(torch.zeros(sphere_ops.n_verts, 3, dtype=torch.float64), sphere_ops)
    with pytest.raises(ValueError, match="rows but the operators have"):
        conv(torch.zeros(5, 4, dtype=torch.float64), sphere_ops)
    with pytest.raises(ValueError, match="real floating"):
        conv(torch.zeros(sphere_ops.n_verts, 4, dtype=torch.long), sphere_ops)
    no_transport = TorchOperators.from_bundle(_bundle(shapes.icosphere(1), fields=("logmap",)))
    with pytest.raises(ValueError, match="'transport'"):
        conv(torch.zeros(no_transport.n_verts, 4, dtype=torch.float64), no_transport)
    with pytest.raises(ValueError, match="no kernel reaches the output orders"):
        GemConv([1], [0, 0, 0, 1], band_limit=2)
    with pytest.raises(ValueError, match="neighbourhood"):
        GemConv([1], [1], neighbourhood="rings")
    with pytest.raises(ValueError, match="equal multiplicities"):
        RegularNonlinearity([2, 1])
    with pytest.raises(ValueError, match="n_samples >= 5"):
        RegularNonlinearity([2, 2, 2], n_samples=4)
    with pytest.raises(ValueError, match="in_type"):
        GEMNet(4, 2, in_type=[1, 1])
    with pytest.raises(ValueError, match="nonlinearity"):
        GEMNet(4, 2, nonlinearity="tanh")
    with pytest.raises(ValueError, match="non-scalar out_type"):
        assert_gauge_equivariant(GEMNet(4, 2, width=10, outputs="global"), sphere_ops, 4, [0, 1])


def test_required_fields_and_training_step_lowers_the_loss(generated_bundles):
    from manifoldnet.nn import MODELS, build_model

    assert MODELS["gem"] is GEMNet and isinstance(build_model("gem", 4, 2, width=10), GEMNet)
    assert GEMNet(4, 2).required_fields == ("logmap", "transport")
    assert GEMNet(4, 2, neighbourhood="patches").required_fields == ("patches",)
    torch.manual_seed(0)
    ops = collate_operators(generated_bundles).to(dtype=torch.float32)
    x = torch.randn(ops.n_verts, 4)
    y = (ops.verts[:, 2] > 0).long()  # a label the model can learn from the geometry it sees
    model = GEMNet(4, 2, width=20, n_blocks=2, last_activation="log_softmax")
    losses = fit_losses(model, x, ops, y, steps=30)
    assert losses[-1] < 0.8 * losses[0]


def test_importing_the_testing_helpers_loads_no_torch():
    code = "import sys, manifoldnet.testing as t; t.assert_gauge_equivariant; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("n", [0, 1, 2])
def test_moment_matrix_and_its_cached_transpose_equal_the_dense_sums(n):
    """The CSR built without sorting equals the dense sum over pairs, and the transpose spmm's backward uses
    is its transpose (random graph, duplicate pairs included)."""
    from manifoldnet.nn.sparse import transpose_csr

    ops = random_graph_ops(V=15, P=90, seed=n)
    conv = GemConv([1, 1, 1], [1, 1, 1], band_limit=2, n_radial=2).double()
    S = conv.moment_matrix(ops, n)
    index, w, theta, rho = conv._pair_weights(ops)
    ks = torch.tensor(conv.moment_k[n], dtype=torch.float64)
    coef = (
        torch.polar(torch.ones((), dtype=torch.float64), ks[:, None] * theta[None] + n * rho[None])[:, None]
        * w.T[None]
    )
    dense = torch.zeros(2, len(ks), conv.n_radial, 15, 2 if n else 1, 15, dtype=torch.float64)
    for p in range(index.shape[1]):  # the slow, obvious loop
        i, j = int(index[0, p]), int(index[1, p])
        dense[0, :, :, i, 0, j] += coef[..., p].real
        dense[1, :, :, i, 0, j] += coef[..., p].imag
        if n:
            dense[0, :, :, i, 1, j] -= coef[..., p].imag
            dense[1, :, :, i, 1, j] += coef[..., p].real
    dense = dense.reshape(S.shape)
    torch.testing.assert_close(S.to_dense(), dense, rtol=0, atol=1e-14)
    torch.testing.assert_close(transpose_csr(S).to_dense(), dense.T, rtol=0, atol=1e-14)
