"""Gradient and divergence: -div grad == cotan L, exactness on linear functions, vertex gradients in the
gauges (exact on flat meshes, gauge-covariant, per-vertex loop references, accuracy comparison), bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import shared_data
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.frames import vertex_frames
from manifoldnet.geometry.gradient import divergence, face_gradient, vertex_gradient
from manifoldnet.geometry.laplacian import cotan_laplacian
from manifoldnet.geometry.logmap import one_ring_logmap
from manifoldnet.io import load_mesh
from manifoldnet.testing import make_pathology

MESHES = {
    "icosphere": lambda: shapes.icosphere(2),
    "noisy": lambda: shapes.noisy_sphere(2, 0.2, seed=2),
    "torus": lambda: shapes.torus(n_major=20, n_minor=9),
    "disk": lambda: shapes.flat_disk(5),
    "genus2": lambda: shapes.genus2(1),
}


@pytest.mark.parametrize("name", sorted(MESHES))
def test_minus_div_grad_is_cotan_laplacian(name):
    mesh = MESHES[name]()
    G, D = face_gradient(mesh), divergence(mesh)
    assert G.shape == (3 * mesh.n_faces, mesh.n_verts) and D.shape == (mesh.n_verts, 3 * mesh.n_faces)
    L = cotan_laplacian(mesh)
    diff = abs(D @ G + L).max()
    assert diff <= 1e-12 * abs(L).max()
    for s in (1e-8, 1e8):  # weak L is scale-invariant in 2-D: so is div grad
        sm = Mesh(mesh.verts * s, mesh.faces)
        assert abs(divergence(sm) @ face_gradient(sm) + L).max() <= 1e-11 * abs(L).max()


@pytest.mark.parametrize("name", ["needle_faces", "cap_faces", "zero_area_faces", "coincident_vertices"])
@pytest.mark.parametrize("max_cotan", [1e5, 10.0])
def test_minus_div_grad_is_cotan_laplacian_on_slivers(name, max_cotan):
    # L guards slivers (area floored, cotangents of a face scaled together); div and grad share that guard
    p = make_pathology(name)
    mesh = Mesh(p.verts, p.faces)
    L = cotan_laplacian(mesh, max_cotan=max_cotan)
    DG = divergence(mesh, max_cotan=max_cotan) @ face_gradient(mesh)
    assert abs(DG + L).max() <= 1e-10 * abs(L).max()
    G = face_gradient(mesh)
    assert np.isfinite(G.data).all()
    # where the face is not degenerate the gradient stays exact: tangential part of a linear function
    a = np.array([0.3, -1.2, 0.7])
    g = (G @ (mesh.verts @ a)).reshape(-1, 3)
    n, areas = mesh.face_normals, mesh.face_areas
    good = areas > 1e-6 * np.mean(mesh.edge_lengths) ** 2
    assert_allclose(g[good], (a - (n @ a)[:, None] * n)[good], atol=1e-8)


def test_divergence_guard_matches_laplacian_guard_when_it_bites():
    # the guard factor changes L and the divergence alike; a bad max_cotan is refused like in L
    p = make_pathology("needle_faces")
    mesh = Mesh(p.verts, p.faces)
    assert abs(cotan_laplacian(mesh, max_cotan=10.0) - cotan_laplacian(mesh)).max() > 1
    with pytest.raises(MeshError, match="max_cotan"):
        divergence(mesh, max_cotan=0.0)


# wallhole.obj warns that its polygons were fan-triangulated (which made collinear faces)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_minus_div_grad_is_cotan_laplacian_on_real_meshes():
    for rel in ("classic/ogre.obj", "format_edge_cases/wallhole.obj"):
        mesh = load_mesh(shared_data(rel))
        L = cotan_laplacian(mesh)
        assert abs(divergence(mesh) @ face_gradient(mesh) + L).max() <= 1e-10 * abs(L).max(), rel


def test_face_gradient_exact_on_linear_functions_on_any_mesh():
    mesh = shapes.noisy_sphere(2, 0.2, seed=7)
    a = np.array([0.3, -1.2, 2.0])
    u = mesh.verts @ a + 4.0
    g = (face_gradient(mesh) @ u).reshape(-1, 3)
    n = mesh.face_normals
    assert_allclose(g, a - (n @ a)[:, None] * n, atol=1e-12)  # tangential part of a on each face
    assert_allclose(face_gradient(mesh) @ np.ones(mesh.n_verts), 0, atol=1e-12)


@pytest.mark.parametrize("method", ["faces", "lsq"])
@pytest.mark.parametrize("gauge", ["world", "intrinsic", "angles"])
def test_vertex_gradient_exact_on_flat_linear_functions(method, gauge):
    mesh = shapes.flat_disk(5)
    a = np.array([2.0, -3.0, 0.0])
    u = mesh.verts @ a + 1.0
    if gauge == "angles":
        frames = np.random.default_rng(0).uniform(0, 2 * np.pi, mesh.n_verts)
        # the gauge angle is measured from the intrinsic e1: rotate the intrinsic frames
        fr = vertex_frames(mesh, "intrinsic")
        c, s = np.cos(frames)[:, None], np.sin(frames)[:, None]
        fr = np.stack([c * fr[:, 0] + s * fr[:, 1], -s * fr[:, 0] + c * fr[:, 1], fr[:, 2]], 1)
    else:
        frames = gauge
        fr = vertex_frames(mesh, gauge)
    Gv = vertex_gradient(mesh, frames, method=method)
    assert Gv.shape == (mesh.n_verts, mesh.n_verts) and Gv.dtype == np.complex128
    want = fr[:, 0] @ a + 1j * (fr[:, 1] @ a)
    assert_allclose(Gv @ u, want, atol=1e-12)
    assert_allclose(Gv @ np.ones(mesh.n_verts), 0, atol=1e-12)


@pytest.mark.parametrize("method", ["faces", "lsq"])
def test_vertex_gradient_gauge_covariance(method):
    mesh = shapes.noisy_sphere(2, 0.2, seed=3)
    rng = np.random.default_rng(5)
    g = rng.uniform(0, 2 * np.pi, mesh.n_verts)
    u = rng.normal(size=mesh.n_verts)
    base = vertex_gradient(mesh, None, method=method) @ u
    rotated = vertex_gradient(mesh, g, method=method) @ u
    assert_allclose(rotated, np.exp(-1j * g) * base, atol=1e-12)


def loop_lsq_reference(mesh, u):
    """Per-vertex least squares in log-map coordinates, one np.linalg.solve per vertex (slow, obvious)."""
    ei, r, theta = one_ring_logmap(mesh)
    out = np.zeros(mesh.n_verts, dtype=complex)
    for v in range(mesh.n_verts):
        sel = ei[0] == v
        A = np.stack([r[sel] * np.cos(theta[sel]), r[sel] * np.sin(theta[sel])], 1)
        x = np.linalg.solve(A.T @ A, A.T @ (u[ei[1, sel]] - u[v]))
        out[v] = x[0] + 1j * x[1]
    return out


def loop_faces_reference(mesh, u, fr):
    """Per-vertex area-weighted average of face gradients projected on the frame (slow, obvious)."""
    gf = (face_gradient(mesh) @ u).reshape(-1, 3)
    out = np.zeros(mesh.n_verts, dtype=complex)
    for v in range(mesh.n_verts):
        fs = np.flatnonzero((mesh.faces == v).any(axis=1))
        g = (gf[fs] * mesh.face_areas[fs, None]).sum(0) / mesh.face_areas[fs].sum()
        out[v] = fr[v, 0] @ g + 1j * (fr[v, 1] @ g)
    return out


def test_vertex_gradient_matches_per_vertex_loops():
    mesh = shapes.noisy_sphere(1, 0.2, seed=4)
    u = np.random.default_rng(1).normal(size=mesh.n_verts)
    assert_allclose(vertex_gradient(mesh, method="lsq") @ u, loop_lsq_reference(mesh, u), atol=1e-10)
    fr = vertex_frames(mesh, "world")
    assert_allclose(vertex_gradient(mesh, fr) @ u, loop_faces_reference(mesh, u, fr), atol=1e-12)


def test_faces_method_is_the_more_accurate_on_smooth_surfaces():
    # the documented choice of default: error against the exact tangential gradient of smooth functions
    errs = {}
    for mesh in (shapes.icosphere(3), shapes.uv_sphere(24, 48)):
        fr = vertex_frames(mesh, "world")
        n = fr[:, 2]
        for method in ("faces", "lsq"):
            tot = 0.0
            for a in (np.array([0, 0, 1.0]), np.array([1.0, 2.0, -0.5])):
                t = a - (n @ a)[:, None] * n
                want = np.einsum("ij,ij->i", t, fr[:, 0]) + 1j * np.einsum("ij,ij->i", t, fr[:, 1])
                got = vertex_gradient(mesh, fr, method=method) @ (mesh.verts @ a)
                tot += np.abs(got - want).mean() / np.abs(want).mean()
            errs[mesh.n_verts, method] = tot
        assert errs[mesh.n_verts, "faces"] < errs[mesh.n_verts, "lsq"]
        assert errs[mesh.n_verts, "faces"] < 0.05


def test_degenerate_and_unreferenced_are_finite():
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0.0], [5, 5, 5]])
    faces = np.array([[0, 1, 2], [0, 1, 3]])  # face 1 has zero area; vertex 4 is unreferenced
    m = Mesh(verts, faces)
    G = face_gradient(m).toarray()
    assert np.isfinite(G).all() and (G[:, 4] == 0).all()
    # the collinear face's rows: finite, normal to its line (no x component), constants have no gradient;
    # they carry the Laplacian's guarded stiffness, so -div grad is still L
    assert_allclose(G[3], 0, atol=1e-12)
    assert_allclose(G @ np.ones(5), 0, atol=1e-12)
    L = cotan_laplacian(m)
    assert abs(L[1, 3]) > 1e3  # the guard keeps it finite but large
    assert_allclose(
        (divergence(m) @ face_gradient(m)).toarray(), -L.toarray(), rtol=0, atol=1e-10 * abs(L).max()
    )
    for method in ("faces", "lsq"):
        Gv = vertex_gradient(m, "world", method=method).toarray()
        assert np.isfinite(Gv).all()
        assert (Gv[4] == 0).all()


def test_bad_method_raises():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="unknown vertex gradient method"):
        vertex_gradient(mesh, method="fem")
    with pytest.raises(MeshError, match="shape"):
        vertex_gradient(mesh, np.zeros((2, 3, 3)))
    assert sp.issparse(vertex_gradient(mesh))


def test_point_cloud_gradient_and_logmap():
    from scipy.spatial import cKDTree

    from manifoldnet.geometry.gradient import point_cloud_gradient
    from manifoldnet.geometry.logmap import point_cloud_logmap

    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(-1, 1, (300, 2)), np.zeros(300)]
    _, nb = cKDTree(pts).query(pts, k=9)
    ei = np.stack([np.repeat(np.arange(300), 8), nb[:, 1:].reshape(-1)])
    nrm = np.tile([0, 0, 1.0], (300, 1))
    a = np.array([1.5, -0.5, 0.0])
    G = point_cloud_gradient(pts, ei, normals=nrm)
    assert_allclose(G @ (pts @ a), 1.5 - 0.5j, atol=1e-12)  # world gauge e1 = x
    g = rng.uniform(0, 2 * np.pi, 300)
    fr = vertex_frames(shapes.flat_disk(1), "world")[:1].repeat(300, axis=0)
    c, s = np.cos(g)[:, None], np.sin(g)[:, None]
    fr_g = np.stack([c * fr[:, 0] + s * fr[:, 1], -s * fr[:, 0] + c * fr[:, 1], fr[:, 2]], 1)
    assert_allclose(
        point_cloud_gradient(pts, ei, fr_g) @ (pts @ a), np.exp(-1j * g) * (1.5 - 0.5j), atol=1e-12
    )
    # on a flat mesh with its edges the projection log map is the intrinsic one and the gradients agree
    disk = shapes.flat_disk(4)
    fr = vertex_frames(disk, "world")
    edges, r, theta = one_ring_logmap(disk, fr)
    r2, t2 = point_cloud_logmap(disk.verts, edges, fr)
    assert_allclose(r2, r, rtol=1e-14)
    assert_allclose(np.mod(t2 - theta + np.pi, 2 * np.pi) - np.pi, 0, atol=1e-12)
    u = rng.normal(size=disk.n_verts)
    Gp = point_cloud_gradient(disk.verts, edges, fr)
    assert_allclose(Gp @ u, vertex_gradient(disk, fr, method="lsq") @ u, atol=1e-10)
    with pytest.raises(MeshError, match="frames .* or normals"):
        point_cloud_gradient(pts, ei)
    bad = pts.copy()
    bad[4, 1] = np.inf
    with pytest.raises(MeshError, match="point 4"):
        point_cloud_logmap(bad, ei, normals=nrm)
    with pytest.raises(MeshError, match="out of range"):
        point_cloud_gradient(pts, ei + 1, normals=nrm)


def test_edges_csr_is_a_valid_sorted_csr():
    from manifoldnet.geometry.fans import directed_edges, edges_csr

    mesh = shapes.noisy_sphere(1, 0.2, seed=0)
    ei, _ = directed_edges(mesh)
    rng = np.random.default_rng(2)
    vals, diag = rng.normal(size=ei.shape[1]), rng.normal(size=mesh.n_verts)
    A = edges_csr(ei, vals, diag)
    ref = sp.coo_matrix(
        (np.r_[vals, diag], (np.r_[ei[0], np.arange(mesh.n_verts)], np.r_[ei[1], np.arange(mesh.n_verts)]))
    ).toarray()
    assert_allclose(A.toarray(), ref)
    B = A.copy()
    B.has_sorted_indices = False
    B.sort_indices()
    assert (B.indices == A.indices).all() and (B.data == A.data).all()


@pytest.mark.parametrize("method", ["faces", "lsq"])
def test_gradients_transport_consistently_between_neighbours(method):
    # gradient at j transported to i matches the gradient at i up to O(h): the vertex-gradient gauge and
    # the connection's gauge agree (an offset between them would not converge)
    from manifoldnet.geometry.transport import edge_transport

    errs = []
    for sub in (3, 4):
        mesh = shapes.icosphere(sub)
        u = mesh.verts @ np.array([0.3, -0.5, 0.8])
        for gauge in ("world", "intrinsic"):
            ei, rho = edge_transport(mesh, gauge)
            z = vertex_gradient(mesh, gauge, method=method) @ u
            errs.append(np.abs(z[ei[0]] - np.exp(1j * rho) * z[ei[1]]).max() / np.abs(z).max())
    assert max(errs[:2]) < 0.2
    assert 1.7 < errs[0] / errs[2] < 2.3 and 1.7 < errs[1] / errs[3] < 2.3


@pytest.mark.parametrize("method", ["faces", "lsq"])
def test_vertex_gradient_scales_inversely_with_coordinates(method):
    mesh = shapes.noisy_sphere(2, 0.2, seed=11)
    u = np.random.default_rng(3).normal(size=mesh.n_verts)
    ref = vertex_gradient(mesh, method=method) @ u
    for s in (1e-8, 1e8):
        got = vertex_gradient(Mesh(mesh.verts * s, mesh.faces), method=method) @ u
        assert_allclose(got * s, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
