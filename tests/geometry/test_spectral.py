"""eigenbasis: sphere spectrum, M-orthonormality, components, dense vs sparse, isolated vertices, errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.laplacian import laplacian
from manifoldnet.geometry.spectral import EigenbasisError, eigenbasis


def _residual(L, M, evals, evecs):
    R = L @ evecs - (M @ evecs) * evals
    return np.linalg.norm(R, axis=0).max() / (abs(L).max() * np.linalg.norm(evecs, axis=0).max())


def test_unit_sphere_spectrum_and_orthonormality():
    mesh = shapes.icosphere_with_verts(10_000)
    assert mesh.n_verts >= 10_000
    L, M = laplacian(mesh)
    evals, evecs = eigenbasis(L, M, 36, threads=1)
    expected = np.concatenate([np.full(2 * l + 1, l * (l + 1.0)) for l in range(6)])
    assert abs(evals[0]) < 1e-8
    assert_allclose(evals[1:], expected[1:], rtol=0.01)
    # multiplicities: each l-cluster is tight compared with the gaps between clusters
    for l in range(1, 6):
        cluster = evals[l * l : (l + 1) ** 2]
        assert cluster.max() - cluster.min() < 1e-3 * l * (l + 1)
    assert_allclose(evecs.T @ (M @ evecs), np.eye(36), atol=1e-8)
    assert (np.diff(evals) >= -1e-12).all()
    assert _residual(L, M, evals, evecs) < 1e-9


def test_two_disjoint_spheres_give_two_zero_eigenvalues():
    mesh = shapes.two_spheres(3)
    L, M = laplacian(mesh)
    evals, evecs = eigenbasis(L, M, 10, dense_max=0)  # force the sparse path
    assert_allclose(evals[:2], 0.0, atol=1e-8 * evals[-1])
    assert evals[2] > 0.1
    # the null space is spanned by the two component indicators
    labels = mesh.vertex_components
    for c in np.unique(labels):
        ind = (labels == c).astype(float)
        proj = evecs[:, :2] @ (evecs[:, :2].T @ (M @ ind))
        assert_allclose(proj, ind, atol=1e-8)


@pytest.mark.parametrize("mass", ["lumped", "galerkin"])
def test_dense_fallback_agrees_with_sparse(mass):
    mesh = shapes.noisy_sphere(3, noise=0.05, seed=2)  # broken symmetry: distinct eigenvalues
    L, M = laplacian(mesh, mass=mass)
    k = 20
    ev_s, vec_s = eigenbasis(L, M, k, dense_max=0)
    ev_d, vec_d = eigenbasis(L, M, k, dense_max=10**6)
    assert_allclose(ev_s, ev_d, rtol=1e-9, atol=1e-9 * ev_d[-1])
    overlap = np.abs(np.diag(vec_s.T @ (M @ vec_d)))
    assert_allclose(overlap, 1.0, atol=1e-6)
    assert_allclose(vec_s, vec_d, atol=1e-5)  # same sign convention
    for vec in (vec_s, vec_d):
        assert_allclose(vec.T @ (M @ vec), np.eye(k), atol=1e-8)


def test_isolated_vertices_do_not_use_eigenpairs():
    base = shapes.noisy_sphere(2, noise=0.05, seed=3)
    verts = np.vstack([base.verts[:10], [[5.0, 5, 5]], base.verts[10:], [[6.0, 0, 0]]])
    faces = np.where(base.faces >= 10, base.faces + 1, base.faces)
    mesh = Mesh(verts, faces)
    assert mesh.unreferenced_verts.tolist() == [10, mesh.n_verts - 1]
    for dense_max in (0, 10**6):
        evals, evecs = eigenbasis(*laplacian(mesh), 12, dense_max=dense_max)
        ev0, _ = eigenbasis(*laplacian(base), 12, dense_max=dense_max)
        assert_allclose(evals, ev0, rtol=1e-8, atol=1e-10)
        assert (evecs[mesh.unreferenced_verts] == 0).all()
        assert np.isfinite(evecs).all()


def test_invariance_and_scale():
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=6)
    ev, _ = eigenbasis(*laplacian(mesh), 15, dense_max=0)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    perm = rng.permutation(mesh.n_verts)
    moved = Mesh((mesh.verts @ q.T + 3.0)[perm], np.argsort(perm)[mesh.faces])
    ev2, _ = eigenbasis(*laplacian(moved), 15, dense_max=0)
    assert_allclose(ev2, ev, rtol=1e-9, atol=1e-10)
    for s in (1e-8, 1e8):
        evs, vecs = eigenbasis(*laplacian(mesh.with_verts(mesh.verts * s)), 15, dense_max=0)
        assert np.isfinite(vecs).all()
        assert_allclose(evs * s**2, ev, rtol=1e-7, atol=1e-9)


def test_threads_parameter_gives_the_same_result():
    L, M = laplacian(shapes.icosphere(3))
    a = eigenbasis(L, M, 10, threads=1, dense_max=0)
    b = eigenbasis(L, M, 10, threads=2, dense_max=0)
    assert_allclose(a[0], b[0], rtol=1e-10, atol=1e-12)


def test_failure_raises_with_diagnostics(monkeypatch):
    from manifoldnet.geometry import spectral

    # no rounding-floor relaxation, so an unreachable tol must exhaust the whole ladder
    monkeypatch.setattr(spectral, "_rounding_floor", lambda L, m_inv, lam_ref: (0.0, 1.0))
    L, M = laplacian(shapes.icosphere(2))
    with pytest.raises(EigenbasisError, match="residual") as info:
        eigenbasis(L, M, 8, tol=1e-30, dense_max=0)
    err = info.value
    assert isinstance(err, MeshError)
    assert err.residuals.shape == (8,) and np.isfinite(err.residuals).all()
    assert len(err.attempts) >= 2


def test_bad_input():
    L, M = laplacian(shapes.icosphere(1))
    with pytest.raises(MeshError, match="sparse"):
        eigenbasis(L.toarray(), M, 3)
    with pytest.raises(MeshError, match="k must"):
        eigenbasis(L, M, 0)
    with pytest.raises(MeshError, match="exceeds"):
        eigenbasis(L, M, L.shape[0] + 1)
    with pytest.raises(MeshError, match="symmetric"):
        eigenbasis(L + sp.random(42, 42, density=0.1, random_state=0), M, 3)
    with pytest.raises(MeshError, match="vertex 5"):
        m = M.diagonal().copy()
        m[5] = 0.0
        eigenbasis(L, sp.diags(m), 3)
    with pytest.raises(MeshError, match="sigma"):
        eigenbasis(L, M, 3, sigma=0.5)
    with pytest.raises(MeshError, match="shape"):
        eigenbasis(L, M[:10, :10], 3)
    bad = L.copy()
    bad.data[0] = np.nan
    with pytest.raises(MeshError, match="non-finite"):
        eigenbasis(bad, M, 3)


def test_inertia_count_matches_dense_spectrum():
    from scipy.linalg import eigh

    from manifoldnet.geometry.spectral import _count_below

    L, M = laplacian(shapes.noisy_sphere(2, noise=0.05, seed=1))
    ev = eigh(L.toarray(), M.toarray(), eigvals_only=True)
    for tau in (0.5, 3.0, 10.0, 25.0):
        assert _count_below(L, M, tau) == int((ev < tau).sum())


def test_high_multiplicity_beyond_the_block_size_is_not_missed():
    # two identical spheres: every eigenvalue at least doubled (l = 1: six-fold) while the block has 1 column
    mesh = shapes.two_spheres(3)
    L, M = laplacian(mesh)
    ev, vec = eigenbasis(L, M, 16, block=1, dense_max=0)
    ev_d, _ = eigenbasis(L, M, 16, dense_max=10**6)
    assert_allclose(ev, ev_d, rtol=1e-8, atol=1e-10)
    assert_allclose(vec.T @ (M @ vec), np.eye(16), atol=1e-8)


@pytest.mark.slow
def test_rna_meshes_with_unreferenced_vertices():
    from conftest import shared_data

    from manifoldnet.io import load_mesh

    root = shared_data("rna")
    done = 0
    for path in sorted(root.rglob("*.off")):
        mesh = load_mesh(path)
        if mesh.unreferenced_verts.size == 0:
            continue
        for kind in ("cotan", "robust"):
            L, M = laplacian(mesh, kind)
            evals, evecs = eigenbasis(L, M, 128, threads=1)
            assert (evecs[mesh.unreferenced_verts] == 0).all(), path.name
            assert_allclose(evecs.T @ (M @ evecs), np.eye(128), atol=1e-8, err_msg=path.name)
            assert int((evals < 1e-8 * evals[-1]).sum()) == mesh.n_components, path.name
        done += 1
        if done == 3:
            break
    assert done == 3


def _mixed_components(seed=0) -> Mesh:
    """Components of every size class: 40 random triangles, 6 random tetrahedra (batched), a noisy sphere of
    42 vertices (batched), noisy spheres of 162 and 642 vertices (per-component solves), a
    flat disk (boundary)."""
    rng = np.random.default_rng(seed)
    parts = [(rng.normal(size=(3, 3)) * rng.uniform(0.1, 2.0), np.array([[0, 1, 2]])) for _ in range(40)]
    tet = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    parts += [(rng.normal(size=(4, 3)) * rng.uniform(0.5, 2.0), tet) for _ in range(6)]
    for sub, s in ((1, 0.7), (2, 1.3), (3, 1.0)):
        m = shapes.noisy_sphere(sub, noise=0.05, seed=seed + sub)
        parts.append((m.verts * s, m.faces))
    d = shapes.flat_disk(4)
    parts.append((d.verts, d.faces))
    verts, faces, off = [], [], 0
    for v, f in parts:
        verts.append(v + rng.normal(size=3) * 20)
        faces.append(f + off)
        off += len(v)
    return Mesh(np.vstack(verts), np.vstack(faces))


@pytest.mark.parametrize("mass", ["lumped", "galerkin"])
def test_many_components_equal_the_dense_solve_of_the_whole_matrix(mass):
    from scipy.linalg import eigh

    mesh = _mixed_components()
    n_comp = int(mesh.vertex_components.max()) + 1
    assert n_comp == 50
    L, M = laplacian(mesh, mass=mass)
    ev_d, vec_d = eigh(L.toarray(), M.toarray())
    for k in (20, 50, 120):
        evals, evecs = eigenbasis(L, M, k)
        # one zero eigenvalue per component (up to k), then the dense spectrum
        assert int((np.abs(evals) < 1e-8 * ev_d[n_comp]).sum()) == min(k, n_comp)
        assert_allclose(evals, ev_d[:k], rtol=1e-8, atol=1e-10 * ev_d[max(k, n_comp)])
        assert_allclose(evecs.T @ (M @ evecs), np.eye(k), atol=1e-8)
        assert _residual(L, M, evals, evecs) < 1e-9
        # same invariant subspace as the dense solve where the spectrum has a gap after k
        if ev_d[k] - ev_d[k - 1] > 1e-6 * ev_d[k] and k > n_comp:
            s = np.linalg.svd(evecs.T @ (M @ vec_d[:, :k]), compute_uv=False)
            assert_allclose(s, 1.0, atol=1e-7)
    # the null space is spanned by the component indicators
    evals, evecs = eigenbasis(L, M, n_comp)
    ind = (mesh.vertex_components[:, None] == np.arange(n_comp)).astype(float)
    assert_allclose(evecs @ (evecs.T @ (M @ ind)), ind, atol=1e-8)


def test_triangle_soup_has_one_zero_eigenvalue_per_triangle():
    from manifoldnet.testing import make_pathology

    p = make_pathology("triangle_soup")
    mesh = Mesh(p.verts, p.faces)
    L, M = laplacian(mesh)
    n_comp = mesh.n_faces
    for k in (8, n_comp + 40):
        evals, evecs = eigenbasis(L, M, k)
        scale = abs(L).max() / M.diagonal().min()
        assert int((np.abs(evals) < 1e-12 * scale).sum()) == min(k, n_comp)
        assert (evals[min(k, n_comp) :] > 1e-6 * scale).all()
        assert_allclose(evecs.T @ (M @ evecs), np.eye(k), atol=1e-8)
        assert (np.diff(evals) >= 0).all()
        assert (evals >= 0).all()  # rounding noise below zero is returned as 0 (k=8: an all-null basis)


@pytest.mark.parametrize("name", ["zero_area_faces", "needle_faces", "cap_faces"])
def test_sliver_pathologies_succeed_on_the_dense_path(name):
    from manifoldnet.testing import assert_eigenbasis, make_pathology

    p = make_pathology(name)
    L, M = laplacian(Mesh(p.verts, p.faces))
    assert L.shape[0] <= 1000  # the dense path, where the rounding floor was missing
    c = make_pathology("clean")
    ev_clean, _ = eigenbasis(*laplacian(Mesh(c.verts, c.faces)), 40)
    for k in (8, 40):
        evals, evecs = eigenbasis(L, M, k)
        assert_eigenbasis(evals, evecs, L, M)
        # the slivers split edges of the same surface: nearly the clean spectrum
        assert_allclose(evals, ev_clean[:k], rtol=0.02, atol=1e-8 * evals[-1])


@pytest.mark.slow
def test_featuretype_852_components():
    from conftest import shared_data

    from manifoldnet.io import load_mesh

    path = shared_data("format_edge_cases") / "featuretype.ply"
    if not path.exists():
        pytest.skip(f"{path} not found")
    mesh = load_mesh(path)
    n_comp = mesh.n_components
    assert n_comp == 852
    L, M = laplacian(mesh)
    ev_all, _ = eigenbasis(L, M, 1000, threads=1)
    zero = 1e-8 * ev_all[-1]
    assert int((np.abs(ev_all) < zero).sum()) == n_comp  # one zero eigenvalue per component
    assert (np.diff(ev_all) >= 0).all()
    evals, evecs = eigenbasis(L, M, 128, threads=1)  # fewer than the components: all zero
    assert_allclose(evals, 0.0, atol=zero)
    assert_allclose(evecs.T @ (M @ evecs), np.eye(128), atol=1e-8)


@pytest.mark.slow
def test_ogre_default_tolerance_succeeds():
    """ogre (44 components, slivers): the per-component dense solves meet the rounding floor
    (they missed by 1.2x)."""
    from conftest import shared_data

    from manifoldnet import load_mesh

    mesh = load_mesh(shared_data("classic") / "ogre.obj")
    L, M = laplacian(mesh)
    evals, evecs = eigenbasis(L, M, 128, threads=1)
    from scipy.sparse.csgraph import connected_components

    # one zero eigenvalue per component of L's graph (vertices with no non-zero weight are left out)
    n_graph, _ = connected_components(L, directed=False)
    n_isolated = int((L.diagonal() == 0).sum())
    # zeros are exact only to ~eps * lambda_max (about 4e-7 here: ogre's slivers give lambda_max ~ 2e9)
    assert np.sum(evals < 1e-3 * evals[-1]) == n_graph - n_isolated and np.all(np.diff(evals) >= 0)
    np.testing.assert_allclose(evecs.T @ (M @ evecs), np.eye(128), atol=1e-8)


def _spy(monkeypatch, name):
    """Record the arguments of every call of ``spectral.<name>`` (still calling it)."""
    from manifoldnet.geometry import spectral

    calls = []
    real = getattr(spectral, name)

    def wrapper(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(spectral, name, wrapper)
    return calls


def test_missed_multiplicity_is_found_with_the_found_pairs_locked(monkeypatch):
    # icosahedral symmetry: exact 3-, 4- and 5-fold eigenvalues; a block of 1 misses copies, the inertia count
    # sees it, and a second Lanczos run with the verified pairs locked finds them
    L, M = laplacian(shapes.icosphere(3))
    calls = _spy(monkeypatch, "_block_lanczos")
    ev, vec = eigenbasis(L, M, 16, block=1, dense_max=0)
    ev_d, _ = eigenbasis(L, M, 16, dense_max=10**6)
    assert_allclose(ev, ev_d, rtol=1e-8, atol=1e-10)
    assert_allclose(vec.T @ (M @ vec), np.eye(16), atol=1e-8)
    locked = [args[10][0].shape[1] for args, _ in calls if args[10] is not None]
    assert max(locked) > 1, "the locking restart was not exercised"


def test_power_choice_follows_the_rounding_bound():
    from manifoldnet.geometry.spectral import _power_for

    # default shift -0.01 lambda_K: spread 101, 10 eps 101^p = 2.3e-11 (p = 2), 2.3e-9 (p = 3)
    assert [_power_for(t, -0.01) for t in (1e-12, 1e-10, 1e-9, 1e-8, 1e-6)] == [1, 2, 2, 3, 3]
    assert _power_for(1e-8, -1e-4) == 1  # a tiny shift: spread 1e4
    # an ill-conditioned L - sigma M (rounding floor 1.1e-8, an rna mesh): each solve amplifies it
    assert _power_for(1.1e-8, -0.01, 1.1e-8) == 2
    assert _power_for(1e-8, -0.01, 1e-12) == 3


def test_power_falls_back_when_rounding_caps_it(monkeypatch):
    # force p = 3 at tol = 1e-12: eps (mu_1 / mu_K)^3 ~ 1e-12 (spread about 17 on this sphere) is caught while
    # iterating, and the method steps down to p = 2 (eps 17^2 ~ 6e-14), which reaches the tolerance
    from manifoldnet.geometry import spectral

    monkeypatch.setattr(spectral, "_power_for", lambda tol, sigma, floor: 3)
    L, M = laplacian(shapes.icosphere(3))
    calls = _spy(monkeypatch, "_block_lanczos")
    ev, vec = eigenbasis(L, M, 40, dense_max=0, tol=1e-12)
    ev_d, _ = eigenbasis(L, M, 40, dense_max=10**6)
    assert_allclose(ev, ev_d, rtol=1e-9, atol=1e-10 * ev_d[-1])
    assert_allclose(vec.T @ (M @ vec), np.eye(40), atol=1e-8)
    assert [args[11] for args, _ in calls] == [3, 2]


def test_stalled_residual_steps_the_power_down(monkeypatch):
    # needle triangles on an ellipsoid: L - sigma M is ill-conditioned, the residual of the cubed operator
    # stalls above tol; the stall is detected and p = 2 reaches the tolerance
    from manifoldnet.geometry import spectral
    from manifoldnet.testing import make_pathology

    p = make_pathology("needle_faces", base=shapes.ellipsoid(subdivisions=4))
    L, M = laplacian(Mesh(p.verts, p.faces))
    counts = _spy(monkeypatch, "_count_below")
    monkeypatch.setattr(spectral, "_power_for", lambda tol, sigma, floor: 2)
    eigenbasis(L, M, 64, dense_max=0, tol=1e-8)
    n_counts = len(counts)
    monkeypatch.setattr(spectral, "_power_for", lambda tol, sigma, floor: 3)
    calls = _spy(monkeypatch, "_block_lanczos")
    ev, vec = eigenbasis(L, M, 64, dense_max=0, tol=1e-8)
    ev_d, _ = eigenbasis(L, M, 64, dense_max=10**6)
    assert [args[11] for args, _ in calls] == [3, 2]
    # no cluster in this spectrum, so no inertia count (a factorization), and the step
    # down is no reason for one
    assert n_counts == 0 and len(counts) == 0
    assert_allclose(ev, ev_d, rtol=0, atol=1e-8 * ev_d[-1])
    assert_allclose(vec.T @ (M @ vec), np.eye(64), atol=1e-8)


def test_component_with_more_eigenvalues_than_its_area_share_gets_more(monkeypatch):
    # a sphere and a thin tube of small area: Weyl's area share underestimates the tube's count (1D spectrum),
    # so the tube must be solved again with more pairs
    sphere, tube = (
        shapes.icosphere(2),
        shapes.open_cylinder(radius=0.02, height=20.0, n_around=6, n_height=300),
    )
    mesh = Mesh(
        np.vstack([sphere.verts, tube.verts]), np.vstack([sphere.faces, tube.faces + len(sphere.verts)])
    )
    L, M = laplacian(mesh)
    calls = _spy(monkeypatch, "_solve")
    ev, vec = eigenbasis(L, M, 40)
    from scipy.linalg import eigh

    ev_d = eigh(L.toarray(), M.toarray(), eigvals_only=True, subset_by_index=[0, 39])
    assert_allclose(ev, ev_d, rtol=1e-8, atol=1e-10 * ev_d[-1])
    assert_allclose(vec.T @ (M @ vec), np.eye(40), atol=1e-8)
    tube_calls = [args[2] for args, _ in calls if args[0].shape[0] == len(tube.verts)]
    assert len(tube_calls) >= 2 and tube_calls[-1] > tube_calls[0]


@pytest.mark.parametrize("dense_max", [0, 10**6])
def test_null_space_values_are_exact_zeros(dense_max):
    # one exact 0 per component (rounding noise such as 8.6e-15 would make scale choices absurd), then the
    # smallest non-zero value untouched
    L, M = laplacian(shapes.two_spheres(2))
    for k in (1, 2, 3):
        evals, _ = eigenbasis(L, M, k, dense_max=dense_max)
        assert (evals[: min(k, 2)] == 0.0).all()
    evals, _ = eigenbasis(L, M, 4, dense_max=dense_max)
    assert evals[2] > 1.0  # l = 1 on a unit sphere: 2
