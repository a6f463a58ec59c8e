"""The heat method's fast setup (issue 19 item 3) against the slower paths it replaces.

Fast paths: Eigen's factorization (libigl) with a move to CHOLMOD at the first wide solve; the intrinsic
Delaunay front sheet built alone for closed oriented manifold meshes; cotangents kept current through the
flips; the x/y gradient blocks and ``M + t L`` assembled directly. Each must give what the slow path gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import shapes
from manifoldnet.errors import MeshError
from manifoldnet.geometry import factor, geodesics
from manifoldnet.geometry.factor import WIDE, SolverWarning, SPDFactor
from manifoldnet.geometry.geodesics import HeatMethodSolver, _shifted, _submatrix
from manifoldnet.geometry.intrinsic_delaunay import (
    IntrinsicTriangulation,
    _edge_angles,
    _halfedge_lengths,
    _unique_below,
    intrinsic_delaunay_cover,
    intrinsic_delaunay_sheet,
    tufted_cover,
)
from manifoldnet.mesh import Mesh

pytest.importorskip("igl")
pytest.importorskip("cholespy")


def _heat_matrix(level=3):
    s = HeatMethodSolver(shapes.noisy_sphere(level, 0.2, 3), boundary="neumann")
    return s._A_ref


def test_eigen_factor_solves_like_dense_and_cholmod():
    A = _heat_matrix()
    rng = np.random.default_rng(0)
    b = rng.standard_normal((A.shape[0], 5))
    ref = np.linalg.solve(A.toarray(), b)
    for backend in ("eigen", "cholmod", "superlu"):
        f = SPDFactor(A, backend)
        assert f.backend == backend
        assert_allclose(f.solve(b), ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
        assert_allclose(f.solve(b[:, 0]), ref[:, 0], rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_setup_preference_moves_to_cholmod_once_wide_columns_are_solved():
    A = _heat_matrix()
    f = SPDFactor(A, prefer="setup")
    assert f.backend == "eigen"
    rng = np.random.default_rng(1)
    narrow = rng.standard_normal((A.shape[0], WIDE - 1))
    before = f.solve(narrow)
    assert f.backend == "eigen"
    wide = rng.standard_normal((A.shape[0], WIDE))
    x = f.solve(wide)
    assert f.backend == "cholmod"
    assert_allclose(A @ x, wide, atol=1e-10 * np.abs(wide).max())
    assert_allclose(f.solve(narrow), before, rtol=1e-9, atol=1e-13 * np.abs(before).max())
    assert SPDFactor(A).backend == "cholmod"  # the default preference is unchanged
    # one column at a time: the move comes with the WIDE-th column solved
    f = SPDFactor(A, prefer="setup")
    b = wide[:, 0]
    for _ in range(WIDE - 1):
        x = f.solve(b)
    assert f.backend == "eigen"
    assert_allclose(f.solve(b), x, rtol=1e-9, atol=1e-13 * np.abs(x).max())
    assert f.backend == "cholmod"


def test_eigen_refuses_an_indefinite_matrix_clearly_and_auto_falls_back():
    A = sp.csr_matrix(np.diag([1.0, -2.0, 3.0]) + np.diag([0.5, 0.5], 1) + np.diag([0.5, 0.5], -1))
    with pytest.raises(MeshError, match="eigen"):
        SPDFactor(A, "eigen")
    with pytest.warns(SolverWarning, match="not positive definite"):
        f = SPDFactor(A, prefer="setup")
    assert f.backend == "superlu"
    b = np.arange(3.0)
    assert_allclose(A @ f.solve(b), b, atol=1e-12)
    with pytest.raises(MeshError, match="prefer"):
        SPDFactor(A, prefer="speed")
    with pytest.raises(MeshError, match="backend"):
        SPDFactor(A, "pardiso")


@pytest.mark.parametrize(
    "mesh",
    [
        shapes.icosphere(3),
        shapes.noisy_sphere(3, 0.25, 1),
        shapes.noisy_sphere(4, 0.29, 2),
        shapes.two_spheres(2),
    ],
    ids=["icosphere", "noisy", "noisier", "two_spheres"],
)
def test_front_sheet_alone_equals_the_cover_front_sheet(mesh):
    cover = intrinsic_delaunay_cover(mesh)
    front = cover.front_sheet()
    sheet = intrinsic_delaunay_sheet(mesh)
    assert sheet is not None and front is not cover
    assert_array_equal(sheet.faces, front.faces)
    assert_array_equal(sheet.twin, front.twin)
    assert_allclose(sheet.lengths, front.lengths, rtol=1e-15)
    assert 2 * sheet.n_flips == cover.n_flips  # the back sheet mirrors the front's flips
    assert float(sheet.lengths.mean()) == pytest.approx(float(cover.lengths.mean()), rel=1e-14)
    # Delaunay, and the twins pair up
    tw = sheet.twin
    assert_array_equal(tw[tw], np.arange(tw.size))
    w = sheet.halfedge_cotans().reshape(-1)
    assert (0.5 * (w + w[tw])).min() >= -1e-6


def test_front_sheet_refuses_meshes_it_does_not_cover():
    disk = shapes.flat_disk(3)  # boundary
    fin = shapes.nonmanifold_fin()  # an edge in three faces
    ico = shapes.icosphere(2)
    flipped = np.asarray(ico.faces).copy()
    flipped[0] = flipped[0, [0, 2, 1]]  # one face against its neighbours: not oriented
    for m in (disk, fin, Mesh(ico.verts, flipped)):
        assert intrinsic_delaunay_sheet(m) is None


def test_solver_on_the_front_sheet_equals_the_solver_on_the_cover(monkeypatch):
    m = shapes.noisy_sphere(3, 0.25, 1)
    fast = HeatMethodSolver(m, boundary="neumann")
    monkeypatch.setattr(geodesics, "intrinsic_delaunay_sheet", lambda mesh: None)
    slow = HeatMethodSolver(m, boundary="neumann")
    assert fast.time == pytest.approx(slow.time, rel=1e-14)
    src = [[0], [5, 300], [17]]
    assert_allclose(fast.distances(src), slow.distances(src), rtol=1e-11, atol=1e-13)


def test_solver_backends_agree_and_a_wide_batch_changes_nothing():
    m = shapes.noisy_sphere(3, 0.25, 4)
    sets = [[int(i)] for i in np.linspace(0, m.n_verts - 1, WIDE).astype(int)]
    ref = HeatMethodSolver(m, backend="superlu").distances(sets[:3])
    for backend in ("eigen", "cholmod"):
        assert_allclose(HeatMethodSolver(m, backend=backend).distances(sets[:3]), ref, rtol=1e-9, atol=1e-12)
    s = HeatMethodSolver(m)
    assert s._heat_neumann.backend == "eigen"
    narrow = s.distances(sets[:3])
    wide = s.distances(sets)  # 64 columns: both factorizations move to CHOLMOD
    assert s._heat_neumann.backend == s._poisson.backend == "cholmod"
    assert_allclose(wide[:3], narrow, rtol=1e-9, atol=1e-12)
    assert_allclose(narrow, ref, rtol=1e-9, atol=1e-12)


def test_gradient_blocks_equal_the_interleaved_gradient():
    for m in (shapes.noisy_sphere(3, 0.25, 1), shapes.nonmanifold_fin()):
        tri = intrinsic_delaunay_cover(m)
        G = tri.scaled_gradient()
        gx, gy = tri.scaled_gradient_xy()
        u = np.random.default_rng(0).standard_normal((m.n_verts, 3))
        for a, b in ((G[0::2], gx), (G[1::2], gy)):
            assert_array_equal(np.diff(b.indptr), 3)  # three corners a row
            assert_array_equal(a.toarray(), b.toarray())
            assert_allclose(b @ u, a @ u, rtol=1e-14, atol=1e-14 * np.abs(a @ u).max())
            assert_allclose(b.T.tocsr() @ (a @ u), a.T @ (a @ u), rtol=1e-13, atol=1e-13)
    # a face that repeats a vertex (a loop edge, possible after flips): its two entries are summed
    tri = IntrinsicTriangulation(np.array([[0, 0, 1], [0, 1, 2]]), np.ones((2, 3)), None, 3)
    G = tri.scaled_gradient().toarray()
    gx, gy = tri.scaled_gradient_xy()
    assert_allclose(gx.toarray(), G[0::2], atol=1e-15)
    assert_allclose(gy.toarray(), G[1::2], atol=1e-15)
    assert gx.nnz == 6  # kept as two entries of one column, which products add


def test_shifted_operator_equals_the_sparse_sum():
    m = Mesh(np.vstack([shapes.icosphere(2).verts, [[5.0, 5.0, 5.0]]]), shapes.icosphere(2).faces)  # + unused
    tri = IntrinsicTriangulation.from_mesh(m)
    L, mass = tri.cotan_laplacian(), tri.vertex_masses()
    A = _shifted(L, 0.37, mass)
    assert_allclose(A.toarray(), (sp.diags(mass) + 0.37 * L).toarray(), rtol=0, atol=0)
    assert_allclose(L.toarray(), tri.cotan_laplacian().toarray(), rtol=0, atol=0)  # L itself unchanged
    # L with unsorted column indices (A shares L's index arrays: L is sorted first, never corrupted)
    U = L.copy()
    for r in range(U.shape[0]):
        a, b = U.indptr[r], U.indptr[r + 1]
        U.indices[a:b], U.data[a:b] = U.indices[a:b][::-1].copy(), U.data[a:b][::-1].copy()
    U.has_sorted_indices = False
    dense = U.toarray()
    A = _shifted(U, 0.37, mass)
    assert_allclose(U.toarray(), dense, rtol=0, atol=0)
    assert_allclose(A.toarray(), (sp.diags(mass) + 0.37 * L).toarray(), rtol=0, atol=0)


def _tufted_twins_loop(mesh: Mesh) -> np.ndarray:
    """The tufted cover's gluing, one edge at a time (tufted_cover's docstring): the slow reference."""
    F = mesh.n_faces
    he, e = np.asarray(mesh.halfedges), np.asarray(mesh.halfedge_edges)
    groups: dict[int, list[int]] = {}
    for h in range(3 * F):
        groups.setdefault(int(e[h]), []).append(h)

    def back(h):
        return 3 * (F + h // 3) + (2, 1, 0)[h % 3]

    twin = np.full(6 * F, -1)
    for edge, hs in groups.items():
        if len(hs) > 2:  # radial order, by decreasing angle about the edge
            hs = sorted(hs, key=lambda h: -float(_edge_angles(mesh, np.array([h]), np.array([edge]))[0]))
        for i, h in enumerate(hs):
            nx = hs[(i + 1) % len(hs)]
            c = h if he[h, 0] < he[h, 1] else back(h)
            n = back(nx) if he[nx, 0] < he[nx, 1] else nx
            twin[c], twin[n] = n, c
    return twin


def test_tufted_cover_gluing_equals_the_edge_by_edge_reference():
    ico = shapes.icosphere(1)
    mixed = np.asarray(ico.faces).copy()
    mixed[::3] = mixed[::3, [0, 2, 1]]  # inconsistent orientation
    for m in (
        shapes.nonmanifold_fin(),
        shapes.flat_disk(3),
        shapes.noisy_sphere(2, 0.2, 1),
        Mesh(ico.verts, mixed),
    ):
        twin = tufted_cover(m).twin
        assert_array_equal(twin, _tufted_twins_loop(m))
        assert_array_equal(twin[twin], np.arange(twin.size))


def test_unique_below_equals_numpy_unique():
    rng = np.random.default_rng(3)
    for size, n in ((5, 1000), (900, 1000), (0, 10)):
        x = rng.integers(0, n, size)
        assert_array_equal(_unique_below(x, n), np.unique(x))


def test_halfedge_lengths_from_edges_equal_the_direct_ones_bit_for_bit():
    from manifoldnet.geometry.elements import halfedge_lengths

    for m in (shapes.noisy_sphere(3, 0.25, 1), shapes.nonmanifold_fin(), shapes.flat_disk(4)):
        assert_array_equal(_halfedge_lengths(m), halfedge_lengths(m))


def test_setup_preference_takes_cholmod_above_the_size_cap(monkeypatch):
    """Simplicial Eigen factors lose to CHOLMOD's supernodal ones on large meshes: above SETUP_MAX_N unknowns
    the setup preference factors with CHOLMOD from the start (the cap lowered here to the test matrix)."""
    A = _heat_matrix()
    assert SPDFactor(A, prefer="setup").backend == "eigen"
    monkeypatch.setattr(factor, "SETUP_MAX_N", A.shape[0] - 1)
    f = SPDFactor(A, prefer="setup")
    assert f.backend == "cholmod"
    b = np.ones(A.shape[0])
    assert_allclose(A @ f.solve(b), b, atol=1e-10)
    assert SPDFactor(A, "eigen").backend == "eigen"  # an explicit backend is not capped


def test_without_libigl_the_setup_preference_factors_with_cholmod(monkeypatch):
    import sys

    A = _heat_matrix(2)
    monkeypatch.setitem(sys.modules, "igl", None)  # import igl raises ImportError
    f = SPDFactor(A, prefer="setup")
    assert f.backend == "cholmod"
    b = np.ones(A.shape[0])
    assert_allclose(A @ f.solve(b), b, atol=1e-12)
    with pytest.raises(MeshError, match="libigl"):
        SPDFactor(A, "eigen")


def test_laplacian_from_edge_weights_equals_the_half_edge_assembly():
    from manifoldnet.geometry.laplacian import _assemble_symmetric

    for m in (shapes.noisy_sphere(3, 0.25, 1), shapes.nonmanifold_fin(), shapes.flat_disk(4)):
        tri = intrinsic_delaunay_cover(m)
        w = 0.5 * tri.halfedge_cotans()
        paired = _assemble_symmetric(tri.faces, w, tri.n_verts, tri.twin).toarray()
        ref = _assemble_symmetric(tri.faces, w, tri.n_verts).toarray()
        assert_allclose(paired, ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())
        assert_allclose(tri.cotan_laplacian().toarray(), ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())


def test_cotangents_kept_through_the_flips_equal_a_fresh_computation():
    from manifoldnet.geometry.elements import halfedge_cotans_from_lengths

    for m in (shapes.noisy_sphere(4, 0.29, 2), shapes.nonmanifold_fin()):
        cover = intrinsic_delaunay_cover(m)
        assert cover.n_flips > 0 or m.n_faces < 100
        for tri in (cover, cover.front_sheet(), intrinsic_delaunay_sheet(m)):
            if tri is not None:
                assert_array_equal(tri.halfedge_cotans(), halfedge_cotans_from_lengths(tri.lengths))
                assert not tri.halfedge_cotans().flags.writeable


def test_gradient_values_use_the_corner_angle_of_elements_also_on_degenerate_faces():
    from manifoldnet.geometry.elements import corner_angles_from_lengths

    L = np.random.default_rng(0).random((200, 3)) + 0.5
    L[:5], L[5:10], L[10:15] = [1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]  # needle, point, flat
    for lens in (L[15:], L):  # without and with a 0 / 0 angle
        g = IntrinsicTriangulation(np.zeros(lens.shape, dtype=np.int64), lens, None, 1)._gradient_values()
        a0 = corner_angles_from_lengths(lens)[:, 0]
        x2, y2 = lens[:, 2] * np.cos(a0), lens[:, 2] * np.sin(a0)
        assert_array_equal(g[:, 0, 0], -y2)
        assert_array_equal(g[:, 0, 1], x2 - lens[:, 0])
        assert_array_equal(g[:, 1], np.stack([y2, -x2], axis=1))
        assert np.isfinite(g).all()


def test_submatrix_equals_fancy_indexing():
    rng = np.random.default_rng(5)
    A = sp.random(40, 40, density=0.2, random_state=6, format="csr")
    A = (A + A.T).tocsr()
    for idx in (np.arange(40), np.sort(rng.choice(40, 25, replace=False)), np.array([3]), np.array([], int)):
        sub = _submatrix(A, idx)
        assert sub.shape == (idx.size, idx.size) and sub.has_sorted_indices
        assert_array_equal(sub.toarray(), A[idx][:, idx].toarray())
