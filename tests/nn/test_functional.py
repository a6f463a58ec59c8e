"""manifoldnet.nn.functional against dense references (float64), gradcheck, batching and bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.linalg
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from manifoldnet.data.batch import collate_operators
from manifoldnet.nn import functional as F
from manifoldnet.nn.implicit import clear_factor_cache
from tests.nn.layer_fixtures import with_dense_eigenbasis


def dense(b):
    L = b.laplacian.toarray().astype(np.float64)
    m = np.asarray(b.mass, dtype=np.float64)
    return L, m


def test_spectral_diffusion_with_full_basis_equals_expm(noisy_bundle, device):
    L, m = dense(noisy_bundle)
    ops = noisy_bundle.to(device)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(L.shape[0], 3))
    t = np.array([0.0, 0.01, 0.2])
    y = F.diffuse_spectral(torch.from_numpy(x).to(device), ops, torch.from_numpy(t).to(device)).cpu().numpy()
    for c in range(3):
        ref = scipy.linalg.expm(-t[c] * (L / m[:, None])) @ x[:, c]
        assert_allclose(y[:, c], ref, atol=1e-6 * np.abs(ref).max(), rtol=0)


@pytest.mark.parametrize("backend", ["cholmod", "cg"])
def test_implicit_diffusion_equals_dense_backward_euler(noisy_bundle, device, backend):
    if backend == "cholmod" and device.type == "cuda":
        pytest.importorskip("cholespy")
    clear_factor_cache()
    L, m = dense(noisy_bundle)
    ops = noisy_bundle.to(device)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(L.shape[0], 5))
    t = np.array([0.0, 1e-3, 0.05, 0.0625, 3.0])  # zero, small, off grid, on the grid (2^-4), large
    y = F.diffuse_implicit(
        torch.from_numpy(x).to(device), ops, torch.from_numpy(t).to(device), backend=backend
    )
    for c in range(5):
        ref = np.linalg.solve(np.diag(m) + t[c] * L, m * x[:, c])
        assert_allclose(y[:, c].cpu().numpy(), ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_implicit_float32_in_float32_out(noisy_bundle):
    L, m = dense(noisy_bundle)
    ops = noisy_bundle.to(dtype=torch.float32)
    x = torch.randn(L.shape[0], 2, generator=torch.Generator().manual_seed(0))
    y = F.diffuse_implicit(x, ops, torch.tensor([0.01, 0.3]))
    assert y.dtype == torch.float32
    ref = np.linalg.solve(np.diag(m) + 0.3 * L, m * x[:, 1].double().numpy())
    assert_allclose(y[:, 1].numpy(), ref, rtol=0, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("method", ["spectral", "implicit"])
def test_diffusion_gradcheck_x_and_t(three_bundles, method):
    ops = three_bundles[0].to()
    fn = F.diffuse_spectral if method == "spectral" else F.diffuse_implicit
    x = torch.randn(
        ops.n_verts, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True
    )
    t = torch.tensor([0.003, 0.04, 0.7], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, t: fn(x, ops, t), (x, t), eps=1e-6, atol=1e-6)


def test_implicit_gradcheck_cg_backend(three_bundles):
    ops = three_bundles[1].to()
    x = torch.randn(
        ops.n_verts, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3), requires_grad=True
    )
    t = torch.tensor([0.01, 0.2], dtype=torch.float64, requires_grad=True)
    f = lambda x, t: F.diffuse_implicit(x, ops, t, backend="cg", rtol=1e-13)
    assert torch.autograd.gradcheck(f, (x, t), eps=1e-6, atol=1e-6)


def test_spectral_filter_equals_dense(noisy_bundle, device):
    L, m = dense(noisy_bundle)
    b = noisy_bundle
    ops = b.to(device)
    K = b.evals.shape[0]
    rng = np.random.default_rng(2)
    x, mult = rng.normal(size=(L.shape[0], 4)), rng.normal(size=(K, 4))
    y = (
        F.spectral_filter(torch.from_numpy(x).to(device), ops, torch.from_numpy(mult).to(device))
        .cpu()
        .numpy()
    )
    phi = np.asarray(b.evecs)
    for c in range(4):
        ref = phi @ (mult[:, c] * (phi.T @ (m * x[:, c])))
        assert_allclose(y[:, c], ref, atol=1e-10 * np.abs(ref).max())


def test_spectral_filter_of_ones_is_identity_with_full_basis(noisy_bundle):
    ops = noisy_bundle.to()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    y = F.spectral_filter(x, ops, torch.ones(ops.evals.shape[1], 3, dtype=torch.float64))
    torch.testing.assert_close(y, x, atol=1e-9, rtol=0)


@pytest.mark.parametrize("mixing", [False, True])
def test_cheb_filter_equals_dense_polynomial(noisy_bundle, device, mixing):
    L, m = dense(noisy_bundle)
    ops = noisy_bundle.to(device)
    rng = np.random.default_rng(3)
    V, order = L.shape[0], 4
    x = rng.normal(size=(V, 3))
    w = rng.normal(size=(order + 1, 3, 2) if mixing else (order + 1, 3))
    lam = float(F.laplacian_bound(ops)[0])
    S = 2.0 * (L / m[:, None]) / lam - np.eye(V)
    T = [np.eye(V), S]
    for _ in range(2, order + 1):
        T.append(2 * S @ T[-1] - T[-2])
    if mixing:
        ref = sum(T[k] @ x @ w[k] for k in range(order + 1))
    else:
        ref = sum((T[k] @ x) * w[k] for k in range(order + 1))
    y = F.cheb_filter(torch.from_numpy(x).to(device), ops, torch.from_numpy(w).to(device)).cpu().numpy()
    assert_allclose(y, ref, atol=1e-10 * np.abs(ref).max())
    # the bound really bounds the spectrum of M^-1 L: the rescaled operator stays in [-1, 1]
    ev = scipy.linalg.eigvals(S).real
    assert ev.min() >= -1 - 1e-9 and ev.max() <= 1 + 1e-9


def test_gradient_features_match_complex_formula_and_are_gauge_invariant(noisy_bundle):
    ops = noisy_bundle.to()
    V, C = ops.n_verts, 4
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(V, C, dtype=torch.float64, generator=gen)
    A_re, A_im = (
        torch.randn(C, C, dtype=torch.float64, generator=gen),
        torch.randn(C, C, dtype=torch.float64, generator=gen),
    )
    y = F.gradient_features(x, ops, A_re, A_im)
    g = F.gradient(x, ops)
    Ag = g @ torch.complex(A_re, A_im).T
    torch.testing.assert_close(y, torch.tanh((g.conj() * Ag).real), atol=1e-12, rtol=0)
    # a random gauge change rotates every vertex's gradient by exp(-1j a_v); the features do not change
    a = torch.rand(V, dtype=torch.float64, generator=gen) * 2 * np.pi
    G = torch.complex(ops.grad_x.to_dense(), ops.grad_y.to_dense()) * torch.exp(-1j * a)[:, None]
    rotated = replace(ops, grad_x=G.real.to_sparse_csr(), grad_y=G.imag.to_sparse_csr())
    torch.testing.assert_close(F.gradient(x, rotated), g * torch.exp(-1j * a)[:, None])
    torch.testing.assert_close(F.gradient_features(x, rotated, A_re, A_im), y, atol=1e-12, rtol=0)


def test_batch_of_three_equals_each_alone(three_bundles):
    singles = [b.to() for b in three_bundles]
    batch = collate_operators(three_bundles)
    gen = torch.Generator().manual_seed(5)
    xs = [torch.randn(s.n_verts, 3, dtype=torch.float64, generator=gen) for s in singles]
    x = torch.cat(xs)
    t = torch.tensor([0.0, 0.02, 0.5], dtype=torch.float64)
    K = singles[0].evals.shape[1]
    mult = torch.rand(K, 3, dtype=torch.float64, generator=gen)
    w = torch.randn(4, 3, 2, dtype=torch.float64, generator=gen)
    cases = {
        "spectral": lambda x, o: F.diffuse_spectral(x, o, t),
        "implicit": lambda x, o: F.diffuse_implicit(x, o, t),
        "filter": lambda x, o: F.spectral_filter(x, o, mult),
        "cheb": lambda x, o: F.cheb_filter(x, o, w),
        "gradient": lambda x, o: F.gradient(x, o),
    }
    for name, f in cases.items():
        torch.testing.assert_close(
            f(x, batch),
            torch.cat([f(xi, s) for xi, s in zip(xs, singles, strict=True)]),
            atol=1e-6,
            rtol=0,
            msg=name,
        )
    torch.testing.assert_close(
        F.mesh_mean(x, batch), torch.cat([F.mesh_mean(xi, s) for xi, s in zip(xs, singles, strict=True)])
    )
    torch.testing.assert_close(
        F.vertices_to_faces(x, batch),
        torch.cat([F.vertices_to_faces(xi, s) for xi, s in zip(xs, singles, strict=True)]),
    )


def test_batch_with_very_unequal_sizes_takes_the_loop(three_bundles, noisy_bundle):
    """One big and one small mesh: the padded layout would waste rows, the per-mesh loop must agree."""
    small = three_bundles[0]
    big = noisy_bundle  # 162 vertices, full basis; truncate to the small one's K
    big = with_dense_eigenbasis(replace(big, evals=None, evecs=None), k=small.evals.shape[0])
    batch = collate_operators([big, small])
    x = torch.randn(batch.n_verts, 2, dtype=torch.float64)
    t = torch.tensor([0.01, 0.1], dtype=torch.float64)
    xs = batch.split(x)
    ref = torch.cat([F.diffuse_spectral(xi, b.to(), t) for xi, b in zip(xs, [big, small], strict=True)])
    torch.testing.assert_close(F.diffuse_spectral(x, batch, t), ref)


def test_mesh_mean_and_faces_values(noisy_bundle):
    ops = noisy_bundle.to()
    x = torch.randn(ops.n_verts, 2, dtype=torch.float64)
    m = ops.mass
    torch.testing.assert_close(F.mesh_mean(x, ops)[0], (m[:, None] * x).sum(0) / m.sum())
    torch.testing.assert_close(F.vertices_to_faces(x, ops), x[ops.faces].mean(1))


def test_autocast_bfloat16_keeps_sparse_parts_in_float32(three_bundles):
    ops = three_bundles[0].to(dtype=torch.float32)
    x = torch.randn(ops.n_verts, 3).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = F.diffuse_spectral(x, ops, torch.tensor([0.01, 0.1, 1.0]))
        z = F.diffuse_implicit(x, ops, torch.tensor([0.01, 0.1, 1.0]))
    assert y.dtype == torch.float32 and z.dtype == torch.float32
    ref = F.diffuse_spectral(x.float(), ops, torch.tensor([0.01, 0.1, 1.0]))
    torch.testing.assert_close(y, ref)


# ------------------------------------------------------------------------------------------- bad input
def test_missing_field_names_field_and_spec(three_bundles):
    from manifoldnet import shapes
    from manifoldnet.operators import compute_operators

    ops = compute_operators(shapes.icosphere(1), fields=("mass", "laplacian")).to()
    x = torch.randn(ops.n_verts, 2)
    with pytest.raises(ValueError, match=r"needs the bundle field 'eigenbasis'.*OperatorSpec\(fields="):
        F.diffuse_spectral(x, ops, torch.zeros(2))
    with pytest.raises(ValueError, match="'gradient'"):
        F.gradient(x, ops)


@pytest.mark.parametrize("fn", [F.diffuse_spectral, F.diffuse_implicit])
def test_bad_times_and_shapes_are_refused(three_bundles, fn):
    ops = three_bundles[0].to()
    V = ops.n_verts
    x = torch.randn(V, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"t\[1\] = -0.5"):
        fn(x, ops, torch.tensor([0.1, -0.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="finite"):
        fn(x, ops, torch.tensor([float("nan"), 0.1], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        fn(x, ops, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match=f"{V + 1} rows but the operators have V={V}"):
        fn(torch.randn(V + 1, 2, dtype=torch.float64), ops, torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(V, C\) tensor"):
        fn(torch.randn(V, dtype=torch.float64), ops, torch.zeros(1, dtype=torch.float64))


def test_cheb_and_filter_shape_errors(three_bundles):
    ops = three_bundles[0].to()
    x = torch.randn(ops.n_verts, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="coeffs must be"):
        F.cheb_filter(x, ops, torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="lambda_max must be positive"):
        F.cheb_filter(x, ops, torch.zeros(3, 3, dtype=torch.float64), lambda_max=-1.0)
    with pytest.raises(ValueError, match="multipliers must be"):
        F.spectral_filter(x, ops, torch.zeros(5, 3, dtype=torch.float64))


def test_spectral_diffusion_float32_makes_no_denormals(noisy_bundle):
    """Large lambda t: the decays vanish exactly instead of making denormal numbers (slow CPU arithmetic)."""
    ops = noisy_bundle.to(dtype=torch.float32)
    x = torch.randn(ops.n_verts, 3)
    y = F.diffuse_spectral(x, ops, torch.tensor([0.5, 5.0, 50.0]))
    tiny = torch.finfo(torch.float32).tiny
    assert not bool(((y != 0) & (y.abs() < tiny)).any())
    ref = F.diffuse_spectral(
        x.double(), noisy_bundle.to(), torch.tensor([0.5, 5.0, 50.0], dtype=torch.float64)
    )
    torch.testing.assert_close(y.double(), ref, atol=1e-5, rtol=1e-4)


def test_implicit_auto_falls_back_to_cg_when_cholmod_refuses(noisy_bundle, monkeypatch):
    """backend="auto": a factorization that fails (a cholespy without the inputs' device) falls back to
    Jacobi CG with the same answer; backend="cholmod" lets the error through."""
    from manifoldnet.nn import implicit

    ops = noisy_bundle.to()
    x = torch.randn(ops.n_verts, 2, dtype=torch.float64)
    t = torch.tensor([0.01, 0.3], dtype=torch.float64)
    ref = F.diffuse_implicit(x, ops, t, backend="cg")
    clear_factor_cache()

    def refuse(*args, **kwargs):
        raise RuntimeError("cholespy: device not supported")

    monkeypatch.setattr(implicit, "_shifted_factor", refuse)
    torch.testing.assert_close(F.diffuse_implicit(x, ops, t), ref, atol=1e-9, rtol=0)
    with pytest.raises(RuntimeError, match="device not supported"):
        F.diffuse_implicit(x, ops, t, backend="cholmod")
