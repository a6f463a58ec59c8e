"""Curvatures: Gauss-Bonnet, spheres, cylinders, ellipsoids vs analytic, invariances,
scales, awkward meshes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.curvature import gaussian_curvature, mean_curvature, principal_curvatures
from manifoldnet.geometry.frames import vertex_normals


@pytest.mark.parametrize(
    "mesh",
    [
        shapes.icosphere(3),
        shapes.noisy_sphere(3, noise=0.05, seed=0),
        shapes.torus(n_major=24, n_minor=12),
        shapes.genus2(1),
        shapes.two_spheres(2),
        shapes.flat_disk(6),
        shapes.open_cylinder(n_around=24, n_height=8),
    ],
    ids=["icosphere", "noisy", "torus", "genus2", "two_spheres", "disk", "cylinder"],
)
def test_gauss_bonnet(mesh):
    K = gaussian_curvature(mesh)
    assert_allclose(K.sum(), 2 * np.pi * mesh.euler_characteristic, atol=1e-10)


def test_boundary_convention_on_a_flat_disk():
    mesh = shapes.flat_disk(5)
    K = gaussian_curvature(mesh)
    loop = mesh.boundary_loops[0]
    interior = np.setdiff1d(np.arange(mesh.n_verts), loop)
    assert_allclose(K[interior], 0.0, atol=1e-12)  # flat
    assert_allclose(K[loop].sum(), 2 * np.pi, atol=1e-10)  # total turning of the boundary polygon


@pytest.mark.parametrize("r", [0.5, 3.0])
def test_sphere(r):
    mesh = shapes.icosphere(4, radius=r)
    assert_allclose(gaussian_curvature(mesh).sum() / mesh.total_area, 1 / r**2, rtol=0.01)
    assert_allclose(gaussian_curvature(mesh, integrated=False), 1 / r**2, rtol=0.005)
    assert_allclose(mean_curvature(mesh), 1 / r, rtol=1e-3)
    k1, k2, d1, d2 = principal_curvatures(mesh)
    assert_allclose(k1, 1 / r, rtol=0.04)
    assert_allclose(k2, 1 / r, rtol=0.04)
    assert ((k1 - k2) <= 0.04 / r).all() and (k1 >= k2).all()
    n = vertex_normals(mesh)
    assert_allclose(np.einsum("ij,ij->i", d1, n), 0.0, atol=1e-12)
    assert_allclose(np.einsum("ij,ij->i", d2, n), 0.0, atol=1e-12)
    assert_allclose(np.einsum("ij,ij->i", d1, d2), 0.0, atol=1e-12)
    assert_allclose(np.linalg.norm(d1, axis=1), 1.0, atol=1e-12)


def test_flipped_orientation_flips_signs():
    mesh = shapes.icosphere(3)
    flipped = Mesh(mesh.verts, mesh.faces[:, ::-1])
    assert_allclose(mean_curvature(flipped), -mean_curvature(mesh), rtol=1e-12)
    assert_allclose(principal_curvatures(flipped)[0], -principal_curvatures(mesh)[1], rtol=1e-10)
    assert_allclose(gaussian_curvature(flipped), gaussian_curvature(mesh), atol=1e-13)


def test_cylinder_curvatures_and_directions():
    r = 0.5
    mesh = shapes.open_cylinder(radius=r, height=2.0, n_around=48, n_height=24)
    k1, k2, d1, d2 = principal_curvatures(mesh)
    on_boundary = np.zeros(mesh.n_verts, dtype=bool)
    on_boundary[np.concatenate(mesh.boundary_loops)] = True
    # away from the boundary ring and its neighbours (whose vertex normals are not exactly radial)
    inner = ~on_boundary & ~(mesh.adjacency @ on_boundary.astype(float) > 0)
    assert inner.sum() > mesh.n_verts / 2
    assert_allclose(k1[inner], 1 / r, rtol=1e-5)
    assert_allclose(k2[inner], 0.0, atol=1e-6)
    axis = np.array([0.0, 0.0, 1.0])
    radial = mesh.verts * [1, 1, 0]
    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
    assert_allclose(np.abs(d2[inner] @ axis), 1.0, atol=1e-6)  # flat direction along the axis
    assert_allclose(d1[inner] @ axis, 0.0, atol=1e-6)  # curved direction around it
    assert_allclose(np.einsum("ij,ij->i", d1, radial)[inner], 0.0, atol=1e-6)
    assert_allclose(mean_curvature(mesh)[inner], 1 / (2 * r), rtol=1e-3)
    assert_allclose(gaussian_curvature(mesh)[inner], 0.0, atol=1e-12)


def test_ellipsoid_against_analytic_curvature():
    a, b, c = 1.0, 0.7, 0.5
    mesh = shapes.ellipsoid(a, b, c, subdivisions=5)
    x, y, z = mesh.verts.T
    h = x**2 / a**4 + y**2 / b**4 + z**2 / c**4
    K = 1 / (a * b * c) ** 2 / h**2
    H = (a * a + b * b + c * c - (x * x + y * y + z * z)) / (2 * (a * b * c) ** 2 * h**1.5)
    disc = np.sqrt(np.maximum(H * H - K, 0.0))
    k1, k2, _, _ = principal_curvatures(mesh)
    for est, ref, med, worst in (
        (gaussian_curvature(mesh, integrated=False), K, 0.002, 0.2),
        (mean_curvature(mesh), H, 0.002, 0.05),
        (k1, H + disc, 0.005, 0.05),
        (k2, H - disc, 0.005, 0.05),
    ):
        rel = np.abs(est - ref) / np.abs(ref)
        assert np.median(rel) < med and rel.max() < worst


def test_rigid_motion_and_permutation_invariance():
    mesh = shapes.noisy_sphere(3, noise=0.05, seed=2)
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    perm = rng.permutation(mesh.n_verts)
    inv = np.argsort(perm)
    moved = Mesh((mesh.verts @ q.T + [1.0, -2.0, 0.5])[perm], inv[mesh.faces])
    assert_allclose(gaussian_curvature(moved)[inv], gaussian_curvature(mesh), atol=1e-12)
    assert_allclose(mean_curvature(moved)[inv], mean_curvature(mesh), rtol=1e-9, atol=1e-12)
    p0, p1 = principal_curvatures(mesh), principal_curvatures(moved)
    assert_allclose(p1[0][inv], p0[0], rtol=1e-7, atol=1e-9)
    assert_allclose(p1[1][inv], p0[1], rtol=1e-7, atol=1e-9)
    # directions rotate with the shape (up to sign) where k1 and k2 are distinct
    distinct = (p0[0] - p0[1]) > 1e-3
    dots = np.abs(np.einsum("ij,ij->i", p1[2][inv], p0[2] @ q.T))
    assert_allclose(dots[distinct], 1.0, atol=1e-5)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_extreme_scales(scale):
    mesh = shapes.noisy_sphere(2, noise=0.05, seed=3)
    big = mesh.with_verts(mesh.verts * scale)
    assert_allclose(gaussian_curvature(big), gaussian_curvature(mesh), atol=1e-10)
    assert_allclose(mean_curvature(big) * scale, mean_curvature(mesh), rtol=1e-7)
    k1, k2, d1, _ = principal_curvatures(big)
    r1, r2, _, _ = principal_curvatures(mesh)
    assert np.isfinite(d1).all()
    assert_allclose(k1 * scale, r1, rtol=1e-6)
    assert_allclose(k2 * scale, r2, rtol=1e-6, atol=1e-8)


def test_awkward_meshes_are_finite():
    base = shapes.icosphere(1)
    verts = np.vstack([base.verts, [[5.0, 0, 0]]])
    unref = Mesh(verts, base.faces)
    for mesh in (shapes.nonmanifold_fin(), shapes.bowtie(), unref):
        K, H = gaussian_curvature(mesh), mean_curvature(mesh)
        k1, k2, d1, d2 = principal_curvatures(mesh)
        for a in (K, H, k1, k2, d1, d2):
            assert np.isfinite(a).all()
    assert gaussian_curvature(unref)[-1] == 0 and mean_curvature(unref)[-1] == 0
    assert principal_curvatures(unref)[0][-1] == 0


def test_bad_input():
    with pytest.raises(MeshError, match="Mesh"):
        gaussian_curvature(np.zeros((3, 3)))
    with pytest.raises(MeshError, match="Mesh"):
        principal_curvatures("mesh.obj")
    with pytest.raises(MeshError, match="mass kind"):
        mean_curvature(shapes.icosphere(1), mass="circle")


def test_awkward_real_meshes_work_or_raise_clearly():
    """gc_assets (non-orientable, non-manifold, polygon, STL, tiny): every B operator gives finite output."""
    from conftest import shared_data

    from manifoldnet.geometry.laplacian import laplacian
    from manifoldnet.geometry.spectral import eigenbasis
    from manifoldnet.io import load_mesh

    root = shared_data("gc_assets")
    checked = 0
    for path in sorted(p for p in root.iterdir() if p.suffix.lower() in {".obj", ".ply", ".off", ".stl"}):
        try:
            mesh = load_mesh(path)
        except MeshError:
            continue
        for kind in ("cotan", "robust"):
            L, M = laplacian(mesh, kind)
            k = min(8, int(mesh.referenced.sum()) - 1)
            evals, evecs = eigenbasis(L, M, k)
            assert np.isfinite(evals).all() and np.isfinite(evecs).all(), path.name
            assert_allclose(evecs.T @ (M @ evecs), np.eye(k), atol=1e-8, err_msg=path.name)
        for a in (gaussian_curvature(mesh), mean_curvature(mesh), *principal_curvatures(mesh)):
            assert np.isfinite(a).all(), path.name
        checked += 1
    assert checked >= 5
