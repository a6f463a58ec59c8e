"""Laplacians and mass matrices: identities, anchors (robust_laplacian, libigl), guards,
invariances, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import shared_data
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.laplacian import (
    MASS_KINDS,
    cotan_laplacian,
    laplacian,
    mass_matrix,
    point_cloud_laplacian,
)


def _meshes():
    return {
        "icosphere": shapes.icosphere(2),
        "noisy": shapes.noisy_sphere(2, noise=0.05, seed=1),
        "disk": shapes.flat_disk(5),
        "torus": shapes.torus(n_major=16, n_minor=8),
        "fin": shapes.nonmanifold_fin(),
        "bowtie": shapes.bowtie(),
        "two": shapes.two_spheres(1),
    }


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


@pytest.mark.parametrize("name", list(_meshes()))
@pytest.mark.parametrize("kind", ["cotan", "robust"])
@pytest.mark.parametrize("mass", MASS_KINDS)
def test_identities(name, kind, mass):
    mesh = _meshes()[name]
    L, M = laplacian(mesh, kind, mass)
    assert L.format == "csr" and M.format == "csr" and L.dtype == np.float64
    Ld = L.toarray()
    scale = np.abs(Ld).max()
    assert_allclose(L @ np.ones(mesh.n_verts), 0.0, atol=1e-12 * scale)
    assert_allclose(Ld, Ld.T, atol=1e-14 * scale)
    assert (np.diag(Ld) >= 0).all()
    assert np.linalg.eigvalsh(Ld).min() >= -1e-10 * scale  # weak PSD
    if kind == "robust" and mass == "lumped":
        assert_allclose(M.sum(), mesh.total_area, rtol=1e-3)  # mollified intrinsic triangulation
    else:
        assert_allclose(M.sum(), mesh.total_area, rtol=1e-12)
    if mass != "galerkin":
        assert M.nnz == mesh.n_verts and (M.diagonal() > 0).all()
    if kind == "robust":
        off = Ld - np.diag(np.diag(Ld))
        assert off.max() <= 0.0


def test_cotan_equals_robust_laplacian_on_delaunay_mesh():
    import robust_laplacian as rl

    for mesh in (shapes.icosphere(3), shapes.flat_disk(6)):
        L = cotan_laplacian(mesh)
        Lr, _ = rl.mesh_laplacian(np.asarray(mesh.verts), np.asarray(mesh.faces), mollify_factor=0.0)
        assert abs(L - Lr).max() <= 1e-10 * abs(L).max()


def test_matches_libigl():
    igl = pytest.importorskip("igl")
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=3)
    v, f = np.asarray(mesh.verts), np.asarray(mesh.faces)
    assert_allclose(cotan_laplacian(mesh).toarray(), -igl.cotmatrix(v, f).toarray(), atol=1e-12)
    for ours, theirs in (
        ("lumped", igl.MASSMATRIX_TYPE_BARYCENTRIC),
        ("voronoi", igl.MASSMATRIX_TYPE_VORONOI),
    ):
        assert_allclose(
            mass_matrix(mesh, ours).diagonal(), igl.massmatrix(v, f, theirs).diagonal(), rtol=1e-12
        )


def test_galerkin_mass_integrates_linear_functions_exactly():
    mesh = shapes.noisy_sphere(1, noise=0.1, seed=2)
    Mg = mass_matrix(mesh, "galerkin")
    f = mesh.verts @ np.array([1.0, -2.0, 0.5]) + 0.3
    # slow reference: edge-midpoint quadrature is exact for the square of a linear function on a triangle
    total = 0.0
    for tri, area in zip(mesh.faces, mesh.face_areas, strict=True):
        mids = [0.5 * (f[tri[k]] + f[tri[(k + 1) % 3]]) for k in range(3)]
        total += area / 3.0 * sum(m * m for m in mids)
    assert_allclose(f @ (Mg @ f), total, rtol=1e-12)
    assert_allclose(np.asarray(Mg.sum(axis=1)).ravel(), mass_matrix(mesh, "lumped").diagonal(), rtol=1e-12)


def test_voronoi_mass_on_acute_mesh_is_circumcentric_cells():
    # equilateral grid patch: every interior Voronoi cell of a regular triangulation
    # with edge h is sqrt(3)/2 h^2
    mesh = shapes.flat_disk(6)
    m = mass_matrix(mesh, "voronoi").diagonal()
    assert_allclose(m.sum(), mesh.total_area, rtol=1e-12)
    assert (m > 0).all()


def test_degenerate_triangles_are_guarded():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0.5, 1, 0], [0.5, -1, 0], [2, 0, 0], [1.5, 1e-14, 0.0]], float)
    faces = np.array([[0, 1, 2], [0, 3, 1], [1, 4, 5], [1, 5, 2]])  # face 2 is (numerically) a cap
    mesh = Mesh(verts, faces)
    L, M = laplacian(mesh)
    Ld = L.toarray()
    assert (M.diagonal() > 0).all()
    assert np.isfinite(Ld).all() and np.abs(Ld).max() <= 1e5 + 10
    assert_allclose(L @ np.ones(6), 0.0, atol=1e-9)
    assert np.linalg.eigvalsh(Ld).min() >= -1e-8 * np.abs(Ld).max()
    exact = Mesh(verts * [1, 1, 0] + [0, 0, 0], np.array([[0, 1, 2], [1, 4, 2], [1, 5, 4]]))
    assert np.isfinite(cotan_laplacian(exact).data).all()


def test_unreferenced_vertices_get_zero_rows_and_tiny_mass():
    base = shapes.icosphere(1)
    verts = np.vstack([base.verts, [[3.0, 0, 0], [4.0, 0, 0]]])
    mesh = Mesh(verts, base.faces)
    for kind in ("cotan", "robust"):
        for mass in MASS_KINDS:
            L, M = laplacian(mesh, kind, mass)
            assert abs(L[-2:]).sum() == 0 and abs(L[:, -2:]).sum() == 0
            d = M.diagonal()
            assert (d[-2:] > 0).all() and (d[-2:] < 1e-8 * d[:-2].mean()).all()
            assert_allclose(M.sum(), base.total_area, rtol=1e-3 if kind == "robust" else 1e-9)


def _random_rigid(seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q, rng.normal(size=3)


@pytest.mark.parametrize("mass", MASS_KINDS)
def test_rigid_motion_and_permutation_invariance(mass):
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=4)
    L, M = laplacian(mesh, "cotan", mass)
    R, t = _random_rigid(0)
    L2, M2 = laplacian(mesh.with_verts(mesh.verts @ R.T + t), "cotan", mass)
    assert_allclose(L2.toarray(), L.toarray(), atol=1e-12 * abs(L).max())
    assert_allclose(M2.toarray(), M.toarray(), atol=1e-14 * abs(M).max())
    perm = np.random.default_rng(1).permutation(mesh.n_verts)
    inv = np.argsort(perm)
    pm = Mesh(mesh.verts[perm], inv[mesh.faces])
    L3, M3 = laplacian(pm, "cotan", mass)
    assert_allclose(L3.toarray(), L.toarray()[np.ix_(perm, perm)], atol=1e-12 * abs(L).max())
    assert_allclose(M3.toarray(), M.toarray()[np.ix_(perm, perm)], atol=1e-14 * abs(M).max())


@pytest.mark.parametrize("scale", [1e-8, 1e8])
@pytest.mark.parametrize("kind", ["cotan", "robust"])
def test_extreme_coordinate_scales(scale, kind):
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=5)
    L, M = laplacian(mesh, kind)
    Ls, Ms = laplacian(mesh.with_verts(mesh.verts * scale), kind)
    assert np.isfinite(Ls.data).all() and np.isfinite(Ms.data).all()
    assert_allclose(Ls.toarray(), L.toarray(), atol=1e-9 * abs(L).max())  # cotangents are scale-free
    assert_allclose(Ms.diagonal(), M.diagonal() * scale**2, rtol=1e-9)


def test_point_cloud_laplacian():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(400, 3))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    L, M = point_cloud_laplacian(p, n_neighbors=20)
    Ld = L.toarray()
    assert_allclose(L @ np.ones(400), 0.0, atol=1e-10 * np.abs(Ld).max())
    assert_allclose(Ld, Ld.T, atol=1e-14 * np.abs(Ld).max())
    assert (Ld - np.diag(np.diag(Ld))).max() <= 0 and (M.diagonal() > 0).all()
    assert_allclose(M.sum(), 4 * np.pi, rtol=0.05)
    Ls, Ms = point_cloud_laplacian(p * 1e-8, n_neighbors=20)
    assert_allclose(Ms.diagonal(), M.diagonal() * 1e-16, rtol=1e-6)
    assert_allclose(Ls.toarray(), Ld, atol=1e-6 * np.abs(Ld).max())


def test_point_cloud_validation():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(100, 3))
    with pytest.raises(MeshError, match="duplicate points; first: point 100 repeats point 3"):
        point_cloud_laplacian(np.vstack([p, p[3:4]]))
    with pytest.raises(MeshError, match="needs at least 31"):
        point_cloud_laplacian(p[:20])
    with pytest.raises(MeshError, match="one line"):
        point_cloud_laplacian(np.c_[np.linspace(0, 1, 50), 2 * np.linspace(0, 1, 50), np.zeros(50)])
    bad = p.copy()
    bad[7, 1] = np.nan
    with pytest.raises(MeshError, match="point 7"):
        point_cloud_laplacian(bad)
    with pytest.raises(MeshError, match="shape"):
        point_cloud_laplacian(p[:, :2])
    with pytest.raises(MeshError, match="n_neighbors"):
        point_cloud_laplacian(p, n_neighbors=2)


def test_bad_arguments():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="Laplacian kind"):
        laplacian(mesh, "fem")
    with pytest.raises(MeshError, match="mass kind"):
        laplacian(mesh, "cotan", "diagonal")
    with pytest.raises(MeshError, match="mass kind"):
        laplacian(mesh, "robust", "diagonal")
    with pytest.raises(MeshError, match="expected a manifoldnet.Mesh"):
        laplacian(np.zeros((3, 3)))
    with pytest.raises(MeshError, match="max_cotan"):
        cotan_laplacian(mesh, max_cotan=0)
    with pytest.raises(MeshError, match="mollify_factor"):
        laplacian(mesh, "robust", mollify_factor=-1)


def _load(path):
    from manifoldnet.io import load_mesh

    return load_mesh(path)


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["gc_assets", "tutorial", "rna"])
def test_robust_offdiagonals_nonpositive_on_real_data(folder):
    root = shared_data(folder)
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in {".obj", ".off", ".ply", ".stl"})
    checked = 0
    for path in paths:
        try:
            mesh = _load(path)
        except MeshError:
            continue  # point-only or polygon files the loader rejects with a clear error
        L, M = laplacian(mesh, "robust")
        coo = L.tocoo()
        off = coo.data[coo.row != coo.col]
        assert off.size == 0 or off.max() <= 0.0, path.name
        assert np.isfinite(L.data).all() and (M.diagonal() > 0).all(), path.name
        assert abs(L @ np.ones(mesh.n_verts)).max() <= 1e-9 * abs(L).max(), path.name
        checked += 1
    assert checked > 0
