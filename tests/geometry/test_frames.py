"""Gauge frames: orthonormal right-handed, normals, each gauge's defining property and fallbacks,
rigid-motion covariance, extreme scales, awkward meshes and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.fans import vertex_fans
from manifoldnet.geometry.frames import face_frames, tangent_frames, vertex_frames, vertex_normals

MESHES = {
    "icosphere": lambda: shapes.icosphere(2),
    "torus": lambda: shapes.torus(n_major=16, n_minor=8),
    "disk": lambda: shapes.flat_disk(4),
    "noisy": lambda: shapes.noisy_sphere(2, 0.2, seed=0),
    "bowtie": shapes.bowtie,
    "fin": shapes.nonmanifold_fin,
}


def assert_right_handed_orthonormal(fr):
    eye = np.broadcast_to(np.eye(3), fr.shape)
    assert_allclose(fr @ fr.transpose(0, 2, 1), eye, atol=1e-12)
    assert_allclose(np.linalg.det(fr), 1.0, atol=1e-12)
    assert_allclose(np.cross(fr[:, 0], fr[:, 1]), fr[:, 2], atol=1e-12)


@pytest.mark.parametrize("name", sorted(MESHES))
@pytest.mark.parametrize("gauge", ["intrinsic", "world"])
def test_frames_orthonormal_right_handed(name, gauge):
    mesh = MESHES[name]()
    fr = vertex_frames(mesh, gauge)
    assert fr.shape == (mesh.n_verts, 3, 3)
    assert_right_handed_orthonormal(fr)
    assert_allclose(fr[:, 2], vertex_normals(mesh), atol=1e-15)
    ff = face_frames(mesh)
    assert_right_handed_orthonormal(ff)
    assert_allclose(ff[:, 2], mesh.face_normals, atol=1e-15)


def test_normals_are_angle_weighted():
    disk = shapes.flat_disk(3)
    assert_allclose(vertex_normals(disk), np.tile([0.0, 0, 1], (disk.n_verts, 1)), atol=1e-15)
    sphere = shapes.icosphere(3)
    n = vertex_normals(sphere)
    assert (np.einsum("ij,ij->i", n, sphere.verts) > 0.9999).all()
    # a cube corner: the angle-weighted normal is the diagonal; the z = 0 square is split by the diagonal
    # not through vertex 0, so area weighting would tilt it
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1.0]])
    faces = np.array([[0, 2, 1], [1, 2, 4], [0, 1, 6], [0, 6, 3], [0, 3, 5], [0, 5, 2]])
    corner = Mesh(verts, faces)
    assert_allclose(vertex_normals(corner)[0], -np.ones(3) / np.sqrt(3), atol=1e-15)


def test_intrinsic_gauge_follows_the_reference_edge():
    mesh = shapes.noisy_sphere(2, 0.2, seed=3)
    fr = vertex_frames(mesh)
    he = mesh.halfedges[vertex_fans(mesh).reference]
    d = mesh.verts[he[:, 1]] - mesh.verts[he[:, 0]]
    d -= np.einsum("ij,ij->i", d, fr[:, 2])[:, None] * fr[:, 2]
    assert_allclose(fr[:, 0], d / np.linalg.norm(d, axis=1, keepdims=True), atol=1e-12)


def test_world_gauge_and_its_fallback_axis():
    sphere = shapes.uv_sphere(8, 12)
    R = np.array([[0, 0, 1.0], [0, 1, 0], [-1, 0, 0]])  # poles on the x axis: the x projection vanishes
    rotated = Mesh(sphere.verts @ R.T, sphere.faces)
    fr = vertex_frames(rotated, "world")
    assert_right_handed_orthonormal(fr)
    n = fr[:, 2]
    proj = np.array([1.0, 0, 0]) - n[:, 0:1] * n
    norm = np.linalg.norm(proj, axis=1)
    ok = norm > 1e-6
    assert (~ok).sum() == 2  # the two poles
    assert_allclose(fr[ok, 0], proj[ok] / norm[ok, None], atol=1e-12)
    assert_allclose(np.abs(fr[~ok, 0] @ np.array([0, 1.0, 0])), 1.0, atol=1e-12)  # fell back to +y
    fz = vertex_frames(sphere, "world", axis=(0, 0, 1))
    assert_right_handed_orthonormal(fz)


def test_rigid_motion_covariance_and_scales():
    mesh = shapes.noisy_sphere(2, 0.2, seed=1)
    fr = vertex_frames(mesh)
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q *= np.sign(np.linalg.det(Q))
    moved = Mesh(mesh.verts @ Q.T + 2.0, mesh.faces)
    assert_allclose(vertex_frames(moved), fr @ Q.T, atol=1e-12)
    assert_allclose(face_frames(moved), face_frames(mesh) @ Q.T, atol=1e-12)
    for s in (1e-8, 1e8):
        scaled = Mesh(mesh.verts * s, mesh.faces)
        for gauge in ("intrinsic", "world"):
            assert_allclose(vertex_frames(scaled, gauge), vertex_frames(mesh, gauge), atol=1e-12)


def test_principal_gauge_is_tangent_and_follows_curvature():
    pytest.importorskip("manifoldnet.geometry.curvature")
    mesh = shapes.ellipsoid(1.0, 0.7, 0.5, 3)
    fr = vertex_frames(mesh, "principal")
    assert_right_handed_orthonormal(fr)
    from manifoldnet.geometry.curvature import principal_curvatures

    d1 = principal_curvatures(mesh)[2]
    d1 = d1 - np.einsum("ij,ij->i", d1, fr[:, 2])[:, None] * fr[:, 2]
    ok = np.linalg.norm(d1, axis=1) > 1e-6
    cos = np.abs(np.einsum("ij,ij->i", fr[ok, 0], d1[ok])) / np.linalg.norm(d1[ok], axis=1)
    assert_allclose(cos, 1.0, atol=1e-12)


def test_unreferenced_and_degenerate_get_documented_frames():
    ico = shapes.icosphere(1)
    extra = Mesh(np.vstack([ico.verts, [[3.0, 0, 0]]]), ico.faces)
    for gauge in ("intrinsic", "world"):
        fr = vertex_frames(extra, gauge)
        assert_array_equal(fr[-1], np.eye(3))
        assert_right_handed_orthonormal(fr)
    # a zero-area face: identity face frame, and vertex normals stay unit from the other faces
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0.0]])
    faces = np.array([[0, 1, 2], [0, 1, 3]])
    m = Mesh(verts, faces)
    ff = face_frames(m)
    assert_array_equal(ff[1], np.eye(3))
    assert_allclose(np.linalg.norm(vertex_normals(m), axis=1), 1.0)
    assert_right_handed_orthonormal(vertex_frames(m, "world"))


def test_bad_input_raises():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="unknown gauge"):
        vertex_frames(mesh, "north")
    with pytest.raises(MeshError, match="zero rows; first at row 1"):
        tangent_frames(np.array([[0, 0, 1.0], [0, 0, 0]]))
    with pytest.raises(MeshError, match="row 0"):
        tangent_frames(np.array([[np.nan, 0, 1.0]]))
    with pytest.raises(MeshError, match="shape"):
        tangent_frames(np.ones((4, 2)))
    with pytest.raises(MeshError, match="axis"):
        vertex_frames(mesh, "world", axis=(0, 0, 0))
    with pytest.raises(MeshError, match="directions must have shape"):
        tangent_frames(np.ones((4, 3)), np.ones((3, 3)))
