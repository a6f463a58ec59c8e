"""HKS and WKS: dense heat-kernel reference, mass identities, rigid-motion and scale invariance, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import expm

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.descriptors import (
    heat_kernel_signature,
    hks_times,
    wave_kernel_signature,
    wks_energies,
)
from manifoldnet.geometry.laplacian import laplacian
from manifoldnet.geometry.spectral import eigenbasis


def _basis(mesh, k):
    L, M = laplacian(mesh)
    evals, evecs = eigenbasis(L, M, k)
    return L, M, evals, evecs


def test_hks_equals_dense_heat_kernel_diagonal():
    mesh = shapes.noisy_sphere(1, noise=0.05, seed=0)  # 42 vertices: full spectrum
    L, M, evals, evecs = _basis(mesh, mesh.n_verts)
    times = np.array([0.01, 0.1, 1.0])
    hks = heat_kernel_signature(evals, evecs, times)
    m = M.diagonal()
    for c, t in enumerate(times):
        kernel = expm(-t * (L.toarray() / m[:, None])) / m[None, :]  # K_t = exp(-t M^-1 L) M^-1
        assert_allclose(hks[:, c], np.diag(kernel), rtol=1e-9)


def test_mass_identities_and_automatic_scales():
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=1)
    _, M, evals, evecs = _basis(mesh, 30)
    m = M.diagonal()
    t = hks_times(evals, 8)
    nz = evals[evals > 1e-8 * evals.max()]
    assert_allclose(t[[0, -1]], 4 * np.log(10) / np.array([nz.max(), nz.min()]))
    assert (np.diff(np.log(t)) > 0).all()
    hks = heat_kernel_signature(evals, evecs, n_times=8)
    assert hks.shape == (mesh.n_verts, 8)
    assert_allclose(m @ hks, np.exp(-np.outer(evals, t)).sum(axis=0), rtol=1e-10)  # sum_x M h_t = tr
    wks = wave_kernel_signature(evals, evecs, n_energies=12)
    assert wks.shape == (mesh.n_verts, 12) and (wks >= 0).all()
    assert_allclose(m @ wks, 1.0, rtol=1e-10)  # each column averages M-normalized phi^2
    e, s = wks_energies(evals, 12)
    log_nz = np.log(nz)
    assert_allclose(s, 7 * (log_nz.max() - log_nz.min()) / 12)
    assert_allclose(e[[0, -1]], [log_nz.min() + 2 * s, log_nz.max() - 2 * s])


def test_wks_is_weighted_average_of_squared_eigenvectors():
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=2)
    _, _, evals, evecs = _basis(mesh, 20)
    e = np.log(evals[5:6])
    gap = np.min(np.abs(np.log(evals[[4, 6]]) - e))
    w = wave_kernel_signature(
        evals, evecs, energies=e, sigma=0.1 * gap
    )  # a narrow band picks one eigenvector
    assert_allclose(w[:, 0], evecs[:, 5] ** 2, rtol=1e-6, atol=1e-12)


def test_rigid_motion_and_scale_invariance_with_area():
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=3)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    perm = rng.permutation(mesh.n_verts)
    moved = Mesh((2.5 * mesh.verts @ q.T + 1.0)[perm], np.argsort(perm)[mesh.faces])
    _, _, ev1, vec1 = _basis(mesh, 25)
    _, _, ev2, vec2 = _basis(moved, 25)
    for fn in (heat_kernel_signature, wave_kernel_signature):
        a = fn(ev1, vec1, area=mesh.total_area)
        b = fn(ev2, vec2, area=moved.total_area)[np.argsort(perm)]
        assert_allclose(b, a, rtol=1e-6, atol=1e-9 * np.abs(a).max())
        raw = fn(ev2, vec2)[np.argsort(perm)]
        assert not np.allclose(raw, a, rtol=1e-3)  # without the area normalization the scale shows


def test_bad_input():
    evals = np.array([0.0, 1.0, 2.0])
    evecs = np.ones((5, 3))
    with pytest.raises(MeshError, match="shape"):
        heat_kernel_signature(evals, np.ones((5, 2)))
    with pytest.raises(MeshError, match="non-negative"):
        heat_kernel_signature(np.array([-1.0, 1.0, 2.0]), evecs)
    with pytest.raises(MeshError, match="non-zero eigenvalue"):
        hks_times(np.zeros(3))
    with pytest.raises(MeshError, match="times"):
        heat_kernel_signature(evals, evecs, times=[0.1, -1.0])
    with pytest.raises(MeshError, match="area"):
        heat_kernel_signature(evals, evecs, area=0.0)
    with pytest.raises(MeshError, match="non-finite"):
        wave_kernel_signature(np.array([0.0, np.nan, 1.0]), evecs)
    with pytest.raises(MeshError, match="sigma"):
        wave_kernel_signature(evals, evecs, sigma=-1.0)
    with pytest.raises(MeshError, match="too far"):
        wave_kernel_signature(evals, evecs, energies=[1e6], sigma=1e-3)
    with pytest.raises(MeshError, match="non-zero eigenvalue"):
        wave_kernel_signature(np.zeros(3), evecs)
