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
    with pytest.raises(MeshError, match="non-zero eigenvalue or the surface area.*components"):
        wks_energies(np.zeros(3))
    with pytest.raises(MeshError, match="n must be a positive integer"):
        heat_kernel_signature(np.zeros(3), evecs, n_times=0)
    with pytest.raises(MeshError, match="n must be a positive integer"):
        wave_kernel_signature(np.zeros(3), evecs, n_energies=2.5)


# ------------------------------------------------- disjoint components, no non-zero
# eigenvalue (Weyl fallback)
def _union(*meshes):
    verts, faces, off = [], [], 0
    for m in meshes:
        verts.append(m.verts)
        faces.append(m.faces + off)
        off += m.n_verts
    return Mesh(np.concatenate(verts), np.concatenate(faces))


def _dense_basis(mesh):
    """All V eigenpairs (dense generalized eigh), evals exactly 0 where below rounding."""
    from scipy.linalg import eigh

    L, M = laplacian(mesh)
    ev, phi = eigh(L.toarray(), np.diag(M.diagonal()))
    ev[ev < 1e-10 * ev.max()] = 0.0
    return ev, phi


def _parts():
    a = shapes.noisy_sphere(1, noise=0.05, seed=4)
    b = Mesh(0.5 * shapes.noisy_sphere(1, noise=0.05, seed=5).verts + 3.0, shapes.noisy_sphere(1).faces)
    c = Mesh(2.0 * shapes.icosphere(1).verts - 4.0, shapes.icosphere(1).faces)
    return [a, b, c]


def test_hks_of_disjoint_union_equals_per_component_hks():
    parts = _parts()
    union = _union(*parts)
    times = np.array([1e-3, 0.05, 1.0, 20.0])
    h = heat_kernel_signature(*_dense_basis(union), times)
    off = 0
    for m in parts:
        assert_allclose(h[off : off + m.n_verts], heat_kernel_signature(*_dense_basis(m), times), rtol=1e-8)
        off += m.n_verts


def _null_basis(parts, seed=0):
    """The exact null space of the union's Laplacian: component indicators / sqrt(area), rotated at random
    (any M-orthonormal basis of it), with evals exactly 0."""
    V = sum(m.n_verts for m in parts)
    phi = np.zeros((V, len(parts)))
    off = 0
    for c, m in enumerate(parts):
        phi[off : off + m.n_verts, c] = 1.0 / np.sqrt(m.total_area)
        off += m.n_verts
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(parts), len(parts))))
    return np.zeros(len(parts)), phi @ q


def test_all_zero_spectrum_gives_component_areas():
    """K eigenpairs on K components: no non-zero eigenvalue. HKS = 1 / component area at every time (the
    per-component result: each component alone, K = 1); WKS = that / K; M-weighted columns sum to K and 1."""
    parts = _parts()
    union = _union(*parts)
    ev, phi = _null_basis(parts)
    inv_area = np.concatenate([np.full(m.n_verts, 1.0 / m.total_area) for m in parts])
    hks = heat_kernel_signature(ev, phi, n_times=5)
    assert hks.shape == (union.n_verts, 5) and np.isfinite(hks).all()
    assert_allclose(hks, np.repeat(inv_area[:, None], 5, axis=1), rtol=1e-12)
    off = 0
    for m in parts:
        L, M = laplacian(m)
        ev1, phi1 = eigenbasis(L, M, 1)
        assert_allclose(hks[off : off + m.n_verts], heat_kernel_signature(ev1, phi1, n_times=5), rtol=1e-8)
        off += m.n_verts
    wks = wave_kernel_signature(ev, phi, n_energies=4)
    assert_allclose(wks, np.repeat(inv_area[:, None], 4, axis=1) / len(parts), rtol=1e-12)
    mass = laplacian(union)[1].diagonal()
    assert_allclose(mass @ hks, len(parts), rtol=1e-12)  # sum_x M h_t = trace = K
    assert_allclose(mass @ wks, 1.0, rtol=1e-12)
    # explicit times and energies change nothing either
    assert_allclose(heat_kernel_signature(ev, phi, times=[1e-6, 1e6]), hks[:, :2], rtol=1e-12)
    assert_allclose(wave_kernel_signature(ev, phi, energies=[-3.0, 9.0], sigma=0.1), wks[:, :2], rtol=1e-12)


def test_weyl_scales_finite_positive_and_scale_invariant():
    parts = _parts()
    area = sum(m.total_area for m in parts)
    ev, phi = _null_basis(parts, seed=1)
    for n in (1, 6):
        t = hks_times(ev, n, area=area)
        e, s = wks_energies(ev, n, area=area)
        assert np.isfinite(t).all() and (t > 0).all() and np.isfinite(e).all() and s > 0
    # Weyl's law on unit area: lambda_j = 4 pi j, j = 1..K
    t = hks_times(ev, 4, area=area)
    assert_allclose(t[[0, -1]], 4 * np.log(10) / (4 * np.pi * np.array([3.0, 1.0])))
    e, s = wks_energies(ev, 4, area=area)
    log_w = np.log(4 * np.pi * np.array([1.0, 3.0]))
    assert_allclose(s, 7 * (log_w[1] - log_w[0]) / 4)
    # coordinates scaled by 10: raw descriptors scale like 1 / area (1/100), normalized ones do not change
    scaled = [Mesh(10.0 * m.verts, m.faces) for m in parts]
    ev2, phi2 = _null_basis(scaled, seed=1)
    for fn in (heat_kernel_signature, wave_kernel_signature):
        assert_allclose(fn(ev2, phi2), fn(ev, phi) / 100.0, rtol=1e-12)
        assert_allclose(fn(ev2, phi2, area=100.0 * area), fn(ev, phi, area=area), rtol=1e-12)
    assert_allclose(hks_times(ev2, 4, area=100.0 * area), t)


def test_null_space_rounding_noise_counts_as_zero():
    """A null space computed as [0, ~1e-15] (rounding noise, not exact zeros) counts as zero: lambda / max
    phi^2 is ~1e-15 times a component's area. The HKS is 1 / component area (area /
    component area with ``area``)."""
    m = shapes.two_spheres(2)
    L, M = laplacian(m)
    ev, phi = eigenbasis(L, M, 2)
    ev = np.array([0.0, 8.6e-15]) if ev.max() == 0 else ev  # whatever the solver gives, noise is tested
    comp = m.vertex_components
    inv_area = 1.0 / np.bincount(comp, weights=M.diagonal())[comp]
    h = heat_kernel_signature(ev, phi, n_times=3)
    assert_allclose(h, np.repeat(inv_area[:, None], 3, axis=1), rtol=1e-6)
    assert_allclose(wave_kernel_signature(ev, phi, n_energies=3), h / 2, rtol=1e-6)
    h = heat_kernel_signature(ev, phi, n_times=3, area=m.total_area)
    assert_allclose(h, np.repeat(m.total_area * inv_area[:, None], 3, axis=1), rtol=1e-6)
    assert_allclose(wave_kernel_signature(ev, phi, n_energies=3, area=m.total_area), h / 2, rtol=1e-6)
    # without the eigenvectors nothing tells the noise from a real eigenvalue, but the area does
    t = hks_times(ev, 3, area=m.total_area)
    assert_allclose(t[[0, -1]], 4 * np.log(10) / (4 * np.pi * np.array([2.0, 1.0])))


def test_operator_bundle_on_a_triangle_soup():
    """The bundle's HKS/WKS on 320 separate triangles with k = 8: finite, 1 / triangle area on the triangles
    the 8 eigenvectors cover (the soup's eigenbasis is one indicator per triangle), non-negative."""
    from manifoldnet.operators import compute_operators
    from manifoldnet.testing import make_pathology

    soup = make_pathology("triangle_soup").mesh()
    b = compute_operators(soup, fields=["eigenbasis", "hks", "wks"], k=8, dtype="float64")
    assert np.asarray(b.evals).max() == 0.0
    hks, wks = np.asarray(b.hks), np.asarray(b.wks)
    assert np.isfinite(hks).all() and np.isfinite(wks).all() and (hks >= 0).all()
    assert_allclose(hks, heat_kernel_signature(b.evals, b.evecs, n_times=hks.shape[1]))
    assert_allclose(hks[:, 0], (np.asarray(b.evecs) ** 2).sum(axis=1))
    mass = laplacian(soup)[1].diagonal()
    assert_allclose(mass @ hks[:, 0], 8.0, rtol=1e-8)
    assert_allclose(mass @ wks, 1.0, rtol=1e-8)
