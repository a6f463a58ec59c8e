"""The functional-map layer (nn.fmap) and the descriptor matching loss (nn.matching): closed form against
dense references (float64), agreement with the numpy ``analysis.functional_maps``, an isometric pair,
gradcheck, batches, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from manifoldnet import shapes
from manifoldnet.analysis import functional_maps as fm
from manifoldnet.data import collate_operators
from manifoldnet.data.transforms import center_and_scale
from manifoldnet.mesh import Mesh
from manifoldnet.nn.fmap import FunctionalMap, fmap_from_matches, fmap_loss, fmap_solve, scaled_evals
from manifoldnet.nn.matching import soft_match_loss
from tests.nn.layer_fixtures import small_bundle


def _dense_reference(A, B, ls, ld, lam):
    """argmin ||C A - B||^2 + lam ||C diag(ls) - diag(ld) C||^2 by one dense least-squares on vec(C)."""
    ks, kd = A.shape[0], B.shape[0]
    rows = [np.kron(A.T, np.eye(kd))]  # vec(C A) = (A^T kron I) vec(C), column-major vec
    rhs = [B.reshape(-1, order="F")]
    comm = np.kron(np.diag(ls), np.eye(kd)) - np.kron(np.eye(ks), np.diag(ld))
    rows.append(np.sqrt(lam) * comm)
    rhs.append(np.zeros(ks * kd))
    c = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]
    return c.reshape(kd, ks, order="F")


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.5])
def test_closed_form_equals_dense_least_squares(device, lam):
    rng = np.random.default_rng(0)
    P, ks, kd, C = 3, 7, 5, 9
    A, B = rng.normal(size=(P, ks, C)), rng.normal(size=(P, kd, C))
    ls, ld = np.sort(rng.uniform(0, 1, (P, ks))), np.sort(rng.uniform(0, 1, (P, kd)))
    got = fmap_solve(*(torch.tensor(a, device=device) for a in (A, B, ls, ld)), lam)
    assert got.shape == (P, kd, ks) and got.device.type == device.type
    for p in range(P):
        ref = _dense_reference(A[p], B[p], ls[p], ld[p], lam)
        np.testing.assert_allclose(got[p].cpu().numpy(), ref, rtol=1e-9, atol=1e-10)
    one = fmap_solve(*(torch.tensor(a[0], device=device) for a in (A, B, ls, ld)), lam)
    torch.testing.assert_close(one, got[0])


def _unit_area_bundle(mesh, k):
    return small_bundle(center_and_scale(mesh), k=k)


def _spectral(bundle):
    return fm.SpectralShape(bundle.evals, bundle.evecs, bundle.mass)


def _rms_unit(desc, mass):
    return desc / np.sqrt(mass @ desc**2 / mass.sum())


def test_module_agrees_with_numpy_fmap_from_descriptors(device):
    """Same energy as analysis.functional_maps (descriptor + Laplacian terms) on unit-area shapes with
    unit-RMS descriptors, so the direction and scaling conventions are the library's."""
    src = _unit_area_bundle(shapes.noisy_sphere(2, noise=0.05, seed=1), k=20)
    dst = _unit_area_bundle(shapes.noisy_sphere(2, noise=0.08, seed=2), k=20)
    rng = np.random.default_rng(1)
    ds = _rms_unit(np.abs(rng.normal(size=(src.n_verts, 12))) + src.hks[:, :1], src.mass)
    dd = _rms_unit(np.abs(rng.normal(size=(dst.n_verts, 12))) + dst.hks[:, :1], dst.mass)
    ref = fm.fmap_from_descriptors(
        _spectral(src), _spectral(dst), ds, dd, k=(15, 12), w_descr=1.0, w_lap=0.3, w_dcomm=0.0
    )
    ops = collate_operators([src, dst], device=device)
    feat = torch.tensor(np.concatenate([ds, dd]), device=device)
    got = FunctionalMap(k=15, k_dst=12, lam=0.3)(feat, ops, [[0, 1]])
    np.testing.assert_allclose(got[0].cpu().numpy(), ref, rtol=1e-7, atol=1e-9)


def _permuted_copy(mesh, seed):
    perm = np.random.default_rng(seed).permutation(mesh.n_verts)  # dst vertex j is src vertex perm[j]
    inv = np.argsort(perm)
    return Mesh(mesh.verts[perm], inv[mesh.faces]), perm


def test_isometric_pair_recovers_the_permutation(device):
    """A mesh and a permuted copy (its own eigenbasis, computed afresh: signs may differ): with descriptors
    that the map preserves exactly, the layer returns the ground-truth map ``Phi_dst^T M_dst Phi_src[perm]``
    (a signed permutation between eigenspaces), and its point map is the permutation."""
    mesh = center_and_scale(shapes.noisy_sphere(2, noise=0.05, seed=3))
    copy, perm = _permuted_copy(mesh, 0)
    src, dst = small_bundle(mesh, k=40), small_bundle(copy, k=40)
    k = 30
    rng = np.random.default_rng(2)
    desc_src = src.evecs[:, :k] @ rng.normal(size=(k, 40)) + 0.1 * np.tile(src.hks, 5)
    desc_dst = desc_src[perm]
    ops = collate_operators([src, dst], device=device)
    feat = torch.tensor(np.concatenate([desc_src, desc_dst]), device=device)
    C = FunctionalMap(k=k, lam=1e-3)(feat, ops, torch.tensor([[0, 1]]))[0].cpu().numpy()
    C_gt = fm.p2p_to_fmap(perm, _spectral(src), _spectral(dst), k, k)
    # the bundle's HKS is built from its first 8 eigenpairs, so every descriptor lies in the k-span: the
    # energy is zero at C_gt, its unique minimiser
    np.testing.assert_allclose(C, C_gt, atol=1e-8)
    np.testing.assert_allclose(np.abs(C_gt).max(axis=1), 1.0, atol=1e-8)  # signed permutation (simple evals)
    p2p = fm.fmap_to_p2p(C, _spectral(src), _spectral(dst))
    np.testing.assert_array_equal(p2p, perm)


def test_gradcheck(device):
    rng = np.random.default_rng(3)
    P, ks, kd, C = 2, 4, 3, 5
    kw = {"dtype": torch.float64, "device": device}
    A = torch.tensor(rng.normal(size=(P, ks, C)), requires_grad=True, **kw)
    B = torch.tensor(rng.normal(size=(P, kd, C)), requires_grad=True, **kw)
    ls = torch.tensor(np.sort(rng.uniform(0, 1, (P, ks))), requires_grad=True, **kw)
    ld = torch.tensor(np.sort(rng.uniform(0, 1, (P, kd))), requires_grad=True, **kw)
    assert torch.autograd.gradcheck(lambda *t: fmap_solve(*t, lam=0.2), (A, B, ls, ld))


def test_gradcheck_through_descriptors(device, three_bundles):
    ops = collate_operators(three_bundles[:2], device=device)
    layer = FunctionalMap(k=6, lam=1e-2)
    feat = torch.randn(ops.n_verts, 8, dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: layer(f, ops, [[0, 1], [1, 0]]), (feat,))


def test_batch_equals_each_pair_alone(device, three_bundles):
    ops = collate_operators(three_bundles, device=device)
    feat = torch.randn(ops.n_verts, 10, dtype=torch.float64, device=device)
    parts = ops.split(feat)
    layer = FunctionalMap(k=8, k_dst=6, lam=1e-2)
    pairs = [[0, 1], [2, 0], [1, 2]]
    batched = layer(feat, ops, pairs)
    for row, (s, d) in enumerate(pairs):
        alone = collate_operators([three_bundles[s], three_bundles[d]], device=device)
        torch.testing.assert_close(layer(torch.cat([parts[s], parts[d]]), alone, [[0, 1]])[0], batched[row])


def test_scaled_evals_are_scale_free(three_bundles):
    """lambda * area is unchanged by scaling a shape, and each pair's largest value is 1."""
    b = three_bundles[1]
    scaled = type(b)(**{**b.__dict__, "mass": b.mass * 4.0, "evals": b.evals / 4.0})
    ops = collate_operators([b, scaled, three_bundles[2]])
    es, ed = scaled_evals(ops, 10, 10, torch.tensor([[0, 2], [1, 2]]))
    torch.testing.assert_close(es[0], es[1])
    assert float(torch.maximum(es.amax(1), ed.amax(1)).min()) == pytest.approx(1.0)


def test_fmap_from_matches_weighted_equals_p2p_to_fmap(three_bundles):
    """Every dst vertex matched once, weights M_dst: the least-squares map is Phi_dst^T M_dst Phi_src[p2p]."""
    src, dst = three_bundles[1], three_bundles[2]
    p2p = np.random.default_rng(4).integers(0, src.n_verts, dst.n_verts)
    ref = fm.p2p_to_fmap(p2p, _spectral(src), _spectral(dst), 10, 12)
    got = fmap_from_matches(
        torch.tensor(src.evecs[:, :10]),
        torch.tensor(dst.evecs[:, :12]),
        torch.tensor(p2p),
        torch.arange(dst.n_verts),
        weights=torch.tensor(dst.mass),
    )
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-10)
    # pseudo-inverse form on a subset of matches: the normal equations hold
    ids = torch.arange(0, dst.n_verts, 3)
    X = torch.tensor(dst.evecs[:, :12])[ids]
    Y = torch.tensor(src.evecs[:, :10])[torch.tensor(p2p)[ids]]
    C = fmap_from_matches(torch.tensor(src.evecs[:, :10]), torch.tensor(dst.evecs[:, :12]), p2p[::3], ids)
    torch.testing.assert_close(X.T @ (X @ C - Y), torch.zeros(12, 10, dtype=torch.float64), atol=1e-9, rtol=0)


def test_fmap_loss():
    C = torch.zeros(2, 3, 3)
    gt = torch.eye(3).expand(2, 3, 3)
    assert float(fmap_loss(C, gt)) == pytest.approx(3.0)
    assert float(fmap_loss(gt[0], gt[0])) == 0.0
    with pytest.raises(ValueError, match="C_gt"):
        fmap_loss(C, torch.zeros(2, 3, 4))


def test_soft_match_loss_value_and_ranking(device):
    g = torch.Generator().manual_seed(0)
    f = torch.nn.functional.normalize(torch.randn(50, 8, generator=g, dtype=torch.float64), dim=1).to(device)
    perm = torch.randperm(50, generator=g).to(device)
    src_ids, dst_ids = perm[:20], torch.arange(20, device=device)
    f_dst = f[perm]  # dst vertex j is src vertex perm[j]
    got = soft_match_loss(f, f_dst, src_ids, dst_ids, tau=0.1, n_samples=None)
    logits = f_dst[dst_ids] @ f.T / 0.1
    ref = -(logits.log_softmax(1)[torch.arange(20), src_ids]).mean()
    torch.testing.assert_close(got, ref)
    wrong = soft_match_loss(f, f_dst, src_ids.roll(1), dst_ids, tau=0.1, n_samples=None)
    assert float(wrong) > float(got) + 1.0
    sub = soft_match_loss(f, f_dst, src_ids, dst_ids, tau=0.1, n_samples=5, generator=g)
    assert torch.isfinite(sub)


def test_bad_inputs(three_bundles):
    ops = collate_operators(three_bundles[:2])
    feat = torch.randn(ops.n_verts, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="outside the batch"):
        FunctionalMap(k=4)(feat, ops, [[0, 2]])
    with pytest.raises(ValueError, match=r"\(P, 2\)"):
        FunctionalMap(k=4)(feat, ops, [[0, 1, 1]])
    with pytest.raises(ValueError, match="exceeds the bundles' K"):
        FunctionalMap(k=25)(feat, ops, [[0, 1]])
    with pytest.raises(ValueError, match="rows"):
        FunctionalMap(k=4)(feat[:-1], ops, [[0, 1]])
    with pytest.raises(ValueError, match="lam"):
        FunctionalMap(k=4, lam=-1.0)
    A, B = torch.randn(1, 5, 3, dtype=torch.float64), torch.randn(1, 4, 3, dtype=torch.float64)
    ls, ld = torch.rand(1, 5, dtype=torch.float64), torch.rand(1, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="at least k_src = 5 descriptor channels"):
        fmap_solve(A, B, ls, ld, lam=0.0)
    with pytest.raises(ValueError, match="same P and C"):
        fmap_solve(A, B[..., :2], ls, ld)
    with pytest.raises(ValueError, match="evals_src must be"):
        fmap_solve(A, B, ld, ld)
    with pytest.raises(ValueError, match="src_ids\\[1\\] = 99"):
        fmap_from_matches(torch.randn(10, 3), torch.randn(10, 3), [0, 99, 2, 3], [0, 1, 2, 3])
    with pytest.raises(ValueError, match="must share C"):
        soft_match_loss(torch.randn(5, 3), torch.randn(5, 4), [0], [0])
    with pytest.raises(ValueError, match="tau"):
        soft_match_loss(torch.randn(5, 3), torch.randn(5, 3), [0], [0], tau=0.0)


def test_missing_eigenbasis_names_the_field(three_bundles):
    from manifoldnet.operators import compute_operators

    ops = collate_operators([compute_operators(shapes.icosphere(1), fields=("mass",), dtype="float64")])
    with pytest.raises(ValueError, match="eigenbasis"):
        FunctionalMap(k=4)(torch.randn(ops.n_verts, 3, dtype=torch.float64), ops, [[0, 0]])
