"""Functional maps, point-map conversion and ZoomOut (manifoldnet.analysis.functional_maps)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial import cKDTree

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.analysis import (
    SpectralShape,
    fmap_from_descriptors,
    fmap_to_p2p,
    geodesic_errors,
    nearest_rows,
    orientation_operators,
    orientation_score,
    p2p_to_fmap,
    spectral_shape,
    zoomout,
)
from manifoldnet.geometry.geodesics import HeatMethodSolver


def bumpy(mesh, bumps):
    """Radial bumps on a unit sphere mesh, as a function of the direction (same surface for any meshing)."""
    d = mesh.verts / np.linalg.norm(mesh.verts, axis=1, keepdims=True)
    r = 1.0 + sum(a * np.exp(-((d - np.asarray(c) / np.linalg.norm(c)) ** 2).sum(1) / 0.25) for c, a in bumps)
    return mesh.with_verts(d * r[:, None])


ASYM = [((0, 0, 1), 0.35), ((1, 0.2, 0), 0.25), ((-0.3, -1, 0.2), 0.15), ((0.5, 0.5, -1), 0.3)]
MIRROR = [((0.6, 0, 1), 0.3), ((-0.6, 0, 1), 0.3), ((0, 1, -0.3), 0.25)]  # symmetric under x -> -x


def hks(s: SpectralShape, n=24):
    """Heat kernel signature by its definition (reference descriptor for these tests)."""
    t = np.geomspace(4 * np.log(10) / s.evals[-1], 4 * np.log(10) / s.evals[1], n)
    return (s.evecs**2) @ np.exp(-np.outer(s.evals, t))


@pytest.fixture(scope="module")
def asym_pair():
    a = spectral_shape(bumpy(shapes.icosphere(3), ASYM), k=40)
    b = spectral_shape(bumpy(shapes.uv_sphere(30, 60), ASYM), k=40)
    da = a.mesh.verts / np.linalg.norm(a.mesh.verts, axis=1, keepdims=True)
    db = b.mesh.verts / np.linalg.norm(b.mesh.verts, axis=1, keepdims=True)
    gt_ba = cKDTree(da).query(db)[1]  # each b vertex -> the a vertex in the same direction
    return a, b, gt_ba


def test_identity_round_trip(asym_pair):
    a, _, _ = asym_pair
    C = p2p_to_fmap(np.arange(a.n_verts), a, a, 30, 30)
    assert_allclose(C, np.eye(30), atol=1e-10)
    assert_array_equal(fmap_to_p2p(np.eye(30), a, a), np.arange(a.n_verts))
    assert_array_equal(fmap_to_p2p(np.eye(30), a, a, adjoint=True), np.arange(a.n_verts))


def test_self_map_from_descriptors_is_identity(asym_pair):
    a, _, _ = asym_pair
    d = hks(a)
    C = fmap_from_descriptors(a, a, d, d, k=20, w_orient=0.3)
    assert_allclose(
        C, np.eye(20), atol=1e-6
    )  # zero energy at the identity, and the energy is strictly convex


def test_remeshed_copy_and_zoomout_improves(asym_pair):
    a, b, gt = asym_pair
    C = fmap_from_descriptors(a, b, hks(a), hks(b), k=15, w_orient=0.3)
    p0 = fmap_to_p2p(C, a, b)
    C1, p1 = zoomout(C, a, b, 40)
    assert C1.shape == (40, 40)
    solver = HeatMethodSolver(a.mesh)
    e0 = geodesic_errors(solver, p0, gt, a.area).mean()
    e1 = geodesic_errors(solver, p1, gt, a.area).mean()
    floor = geodesic_errors(solver, gt, gt, a.area).mean()
    assert floor == 0.0
    assert e1 < 0.7 * e0, (e0, e1)
    assert e1 < 0.05, e1
    # the refined map is nearly orthogonal (area-preserving isometry), up to the area factor
    s = np.sqrt(b.area / a.area)
    assert np.linalg.norm(C1.T @ C1 / s**2 - np.eye(40)) / np.sqrt(40) < 0.3


def test_orientation_operator_changes_sign_under_reflection():
    mesh = bumpy(shapes.icosphere(2), ASYM)
    s = spectral_shape(mesh, k=12)
    mirror = Mesh(
        mesh.verts * [-1.0, 1.0, 1.0], mesh.faces[:, ::-1]
    )  # same intrinsic geometry, outward normals
    sm = SpectralShape(s.evals, s.evecs, s.mass, mirror)
    d = hks(s, 4)
    O = orientation_operators(s, d, 12)
    assert_allclose(orientation_operators(sm, d, 12), -O, atol=1e-10 * np.abs(O).max())
    assert np.abs(O).max() > 1e-3


@pytest.mark.parametrize("orientation", ["direct", "symmetric"])
def test_orientation_term_tells_left_from_right(orientation):
    """On a mirror-symmetric shape intrinsic descriptors cannot tell the identity from the mirror map;
    the orientation term does: 'direct' recovers the identity, 'symmetric' the reflection."""
    mesh = bumpy(shapes.icosphere(3), MIRROR)
    s = spectral_shape(mesh, k=40)
    d = hks(s)
    C = fmap_from_descriptors(s, s, d, d, k=20, w_orient=1.0, orientation=orientation)
    _, p2p = zoomout(C, s, s, 40)
    mirror = cKDTree(mesh.verts).query(mesh.verts * [-1.0, 1.0, 1.0])[1]
    want = np.arange(mesh.n_verts) if orientation == "direct" else mirror
    solver = HeatMethodSolver(mesh)
    err = geodesic_errors(solver, p2p, want, s.area).mean()
    other = geodesic_errors(
        solver, p2p, mirror if orientation == "direct" else np.arange(mesh.n_verts), s.area
    )
    assert err < 0.02 < other.mean(), (err, other.mean())


def test_orientation_score_identity_and_mirror():
    mesh = bumpy(shapes.icosphere(3), MIRROR)
    assert_allclose(orientation_score(np.arange(mesh.n_verts), mesh, mesh), 1.0)
    mirror = cKDTree(mesh.verts).query(mesh.verts * [-1.0, 1.0, 1.0])[1]
    assert orientation_score(mirror, mesh, mesh) < -0.95
    # half mirrored, half identity: in between
    half = np.where(mesh.verts[:, 1] > 0, mirror, np.arange(mesh.n_verts))
    assert -0.5 < orientation_score(half, mesh, mesh) < 0.5
    with pytest.raises(MeshError, match="p2p"):
        orientation_score(np.zeros(3, dtype=int), mesh, mesh)
    with pytest.raises(MeshError, match="proper triangle"):
        orientation_score(np.zeros(mesh.n_verts, dtype=int), mesh, mesh)


def test_nearest_rows_matches_brute_force():
    rng = np.random.default_rng(0)
    for d in (3, 20):
        P, Q = rng.normal(size=(300, d)), rng.normal(size=(200, d))
        ref = np.argmin(((Q[:, None, :] - P[None]) ** 2).sum(-1), axis=1)
        assert_array_equal(nearest_rows(P, Q, chunk=64), ref)


def test_functional_map_validators(asym_pair):
    a, b, _ = asym_pair
    d = hks(a)
    with pytest.raises(MeshError, match="k_src"):
        fmap_from_descriptors(a, b, d, hks(b), k=(41, 10))
    with pytest.raises(MeshError, match="columns"):
        fmap_from_descriptors(a, b, d, hks(b)[:, :3])
    with pytest.raises(MeshError, match="desc_dst must be"):
        fmap_from_descriptors(a, b, d, d)
    with pytest.raises(MeshError, match="orientation"):
        fmap_from_descriptors(a, b, d, hks(b), orientation="mirror")
    with pytest.raises(MeshError, match="w_lap"):
        fmap_from_descriptors(a, b, d, hks(b), w_lap=-1.0)
    with pytest.raises(MeshError, match="non-finite"):
        bad = d.copy()
        bad[3, 0] = np.nan
        fmap_from_descriptors(a, a, bad, d)
    with pytest.raises(MeshError, match=r"p2p\[2\]"):
        p = np.zeros(b.n_verts, dtype=int)
        p[2] = a.n_verts
        p2p_to_fmap(p, a, b, 5, 5)
    with pytest.raises(MeshError, match="smaller than"):
        zoomout(np.eye(10), a, b, 5)
    with pytest.raises(MeshError, match="mesh"):
        orientation_operators(SpectralShape(a.evals, a.evecs, a.mass), d, 5)
    with pytest.raises(MeshError, match="positive"):
        SpectralShape(a.evals, a.evecs, np.r_[0.0, a.mass[1:]])
    big = SpectralShape(np.arange(80.0), np.eye(100)[:, :80], np.ones(100))
    with pytest.raises(MeshError, match="exceeds"):
        fmap_from_descriptors(big, big, np.ones((100, 2)), np.ones((100, 2)), k=80)
