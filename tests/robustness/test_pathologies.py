"""Each pathology produces what it claims, deterministically; the assert_* helpers fire on wrong input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.testing import (
    PATHOLOGIES,
    ShapeMismatch,
    assert_distances,
    assert_eigenbasis,
    assert_finite,
    assert_gauss_bonnet,
    assert_laplacian_identities,
    assert_orthonormal_frames,
    assert_shape,
    check_pathology,
    make_pathology,
    pathology_names,
)

BASES = {
    "icosphere": lambda: shapes.icosphere(2),
    "torus": lambda: shapes.torus(n_major=16, n_minor=8),
    "noisy_sphere": lambda: shapes.noisy_sphere(2, 0.1, 3),
}


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("name", list(PATHOLOGIES))
def test_pathology_produces_what_it_claims(name, base):
    p = make_pathology(name, BASES[base](), seed=1)
    mesh = check_pathology(p)  # raises AssertionError when a claim fails
    assert (mesh is None) == (not p.valid)


@pytest.mark.parametrize("name", list(PATHOLOGIES))
def test_pathology_is_deterministic(name):
    a, b = make_pathology(name, seed=7), make_pathology(name, seed=7)
    assert_array_equal(a.faces, b.faces)
    assert_array_equal(a.verts, b.verts)  # NaN == NaN for array_equal of the same positions


def test_seeds_change_the_random_pathologies():
    a, b = make_pathology("holes", seed=0), make_pathology("holes", seed=1)
    assert not np.array_equal(a.faces, b.faces)


def test_invalid_pathologies_raise_mesh_error_naming_the_problem():
    invalid = pathology_names(valid=False)
    assert set(invalid) == {"nan_coordinate", "inf_coordinate", "out_of_range_index", "negative_index",
                            "repeated_index", "no_faces"}
    msgs = {}
    for n in invalid:
        with pytest.raises(MeshError) as e:
            make_pathology(n).mesh()
        msgs[n] = str(e.value)
    assert "out of range" in msgs["out_of_range_index"] and "face" in msgs["out_of_range_index"]
    assert "non-finite" in msgs["nan_coordinate"]


def test_unreferenced_positions_and_counts():
    base = shapes.icosphere(1)
    for where, idx in (("first", 0), ("middle", base.n_verts // 2), ("last", base.n_verts)):
        m = make_pathology(f"unreferenced_{where}", base).mesh()
        assert_array_equal(m.unreferenced_verts, [idx])
        # the surface is untouched: same area, same topology
        assert_allclose(m.total_area, base.total_area, rtol=1e-12)
        assert m.euler_characteristic == 2


def test_zero_area_slivers_keep_a_closed_manifold():
    p = make_pathology("zero_area_faces")
    m = p.mesh()
    assert m.is_edge_manifold and m.is_vertex_manifold and m.n_boundary_loops == 0 and m.is_oriented
    assert m.euler_characteristic == 2
    assert_allclose(m.face_areas[m.zero_area_faces], 0.0, atol=1e-15)


def test_unknown_pathology_lists_the_known_ones():
    with pytest.raises(KeyError, match="duplicate_faces"):
        make_pathology("no_such_thing")


def test_check_pathology_fires_on_a_false_claim():
    p = make_pathology("holes")
    lie = type(p)(**{**p.__dict__, "expect": {"n_boundary_loops": 99}})
    with pytest.raises(AssertionError, match="n_boundary_loops"):
        check_pathology(lie)
    clean = make_pathology("clean")
    with pytest.raises(AssertionError, match="accepted an invalid"):
        check_pathology(type(clean)(**{**clean.__dict__, "valid": False}))


# ------------------------------------------------------------------------------ the assert_* helpers fire
def _path_laplacian(n=5):
    """The graph Laplacian of a path and unit masses, on a strip mesh with n vertices (a valid PSD L)."""
    v = np.c_[np.arange(n), np.arange(n) % 2, np.zeros(n)].astype(float)
    f = np.c_[np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)]
    f[1::2] = f[1::2, ::-1]
    m = Mesh(v, f)
    from manifoldnet.geometry.laplacian import laplacian

    return m, *laplacian(m)


def test_assert_laplacian_identities_fire():
    m, L, M = _path_laplacian()
    assert_laplacian_identities(L, M, m)
    bad = L.tolil()
    bad[0, 1] += 0.1
    with pytest.raises(AssertionError, match="symmetric"):
        assert_laplacian_identities(bad.tocsr(), M, m)
    with pytest.raises(AssertionError, match="L @ 1"):
        assert_laplacian_identities(L + sp.eye(m.n_verts) * 0.5, M, m, psd=False)
    with pytest.raises(AssertionError, match="positive semi-definite|negative diagonal"):
        assert_laplacian_identities(-L, M, m)
    with pytest.raises(AssertionError, match="total area"):
        assert_laplacian_identities(L, 2 * M, m)
    with pytest.raises(ShapeMismatch):
        assert_laplacian_identities(L[:-1], M, m)
    with pytest.raises(AssertionError, match="non-finite"):
        assert_laplacian_identities(L * np.nan, M, m)


def test_assert_eigenbasis_fires():
    _, L, M = _path_laplacian(8)
    from scipy.linalg import eigh

    w, U = eigh(L.toarray(), M.toarray())
    assert_eigenbasis(w[:4], U[:, :4], L, M)
    with pytest.raises(AssertionError, match="orthonormal"):
        assert_eigenbasis(w[:4], 2 * U[:, :4], L, M)
    with pytest.raises(AssertionError, match="residual"):
        assert_eigenbasis(w[:4] + 0.3, U[:, :4], L, M)
    with pytest.raises(AssertionError, match="ascending"):
        assert_eigenbasis(w[[3, 2, 1, 0]], U[:, [3, 2, 1, 0]], L, M)
    with pytest.raises(ShapeMismatch):
        assert_eigenbasis(w[:4], U[:, :3], L, M, k=4)


def test_assert_gauss_bonnet_and_frames_fire():
    m = shapes.icosphere(1)
    from manifoldnet.geometry.elements import vertex_angle_sums

    K = 2 * np.pi - vertex_angle_sums(m)
    assert_gauss_bonnet(K, m)
    with pytest.raises(AssertionError, match="Gauss-Bonnet"):
        assert_gauss_bonnet(K + 1e-3, m)
    fr = np.tile(np.eye(3), (4, 1, 1))
    assert_orthonormal_frames(fr, 4)
    fr[2, 2] *= -1
    with pytest.raises(AssertionError, match="left-handed"):
        assert_orthonormal_frames(fr, 4)
    fr[2, 2, 2] = 2.0
    with pytest.raises(AssertionError, match="orthonormal"):
        assert_orthonormal_frames(fr, 4)


def test_assert_distances_fires():
    m = make_pathology("several_components", shapes.icosphere(1)).mesh()
    V = m.n_verts
    comp = m.vertex_components
    eucl = np.linalg.norm(m.verts - m.verts[0], axis=1)
    d = np.where(comp == comp[0], eucl * 1.05, np.inf)  # plausible: a bit above the chord
    assert_distances(d, m, [0])
    with pytest.raises(AssertionError, match="unreachable"):
        assert_distances(np.where(comp == comp[0], d, 1.0), m, [0])
    with pytest.raises(AssertionError, match="not finite"):
        assert_distances(np.full(V, np.inf), m, [0])
    with pytest.raises(AssertionError, match="straight-line"):
        assert_distances(np.where(comp == comp[0], 0.1 * eucl, np.inf), m, [0], exact=True)
    with pytest.raises(AssertionError, match="non-finite"):
        assert_distances(np.full(V, np.nan), m, [0])


def test_assert_finite_and_shape():
    assert_finite(np.ones(3))
    assert_finite(np.array([1.0, np.inf]), allow_inf=True)
    with pytest.raises(AssertionError, match=r"first at \(1,\)"):
        assert_finite(np.array([1.0, np.nan]))
    with pytest.raises(AssertionError):
        assert_finite(sp.csr_matrix(np.array([[0.0, np.inf]])))
    assert_shape(np.zeros((3, 4)), (3, None))
    with pytest.raises(ShapeMismatch, match=r"\(3, 4\)"):
        assert_shape(np.zeros((3, 4)), (4, None))
