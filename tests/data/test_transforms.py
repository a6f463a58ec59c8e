"""Normalisation before the bundle, rigid augmentation after it (operators unchanged), input features."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError
from manifoldnet.data import generated as g
from manifoldnet.data.batch import collate_operators
from manifoldnet.data.transforms import (
    augment_features,
    center_and_scale,
    feature_fields,
    input_features,
    normalized_xyz,
    random_rotations,
)
from manifoldnet.operators import compute_operators

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def mesh():
    return g.generate_shape("star", 5, 300).mesh


def test_center_and_scale(mesh):
    m = Mesh(mesh.verts * 7.0 + [3.0, -2.0, 1.0], mesh.faces)
    n = center_and_scale(m)
    assert_allclose(n.total_area, 1.0)
    A = n.face_areas
    assert_allclose((A[:, None] * n.verts[n.faces].mean(1)).sum(0), 0, atol=1e-12)
    assert_allclose(center_and_scale(mesh).verts, n.verts, atol=1e-12)  # translation and scale removed
    with pytest.raises(MeshError, match="zero total area"):
        center_and_scale(Mesh(np.zeros((3, 3)), [[0, 1, 2]]))


def test_random_rotations_are_rotations():
    gen = torch.Generator().manual_seed(0)
    R = random_rotations(64, gen, dtype=torch.float64)
    assert_allclose((R @ R.transpose(1, 2)).numpy(), np.broadcast_to(np.eye(3), (64, 3, 3)), atol=1e-12)
    assert_allclose(torch.linalg.det(R).numpy(), 1.0, atol=1e-12)
    Rz = random_rotations(8, gen, axis=(0, 0, 1), dtype=torch.float64)
    assert_allclose(Rz[:, 2, :].numpy(), np.broadcast_to([0.0, 0.0, 1.0], (8, 3)), atol=1e-12)


def test_rotation_after_the_bundle_equals_rotating_the_mesh(mesh):
    """Rotating the features of a bundle = features of the rotated mesh; the intrinsic
    operators do not change."""
    R = random_rotations(1, torch.Generator().manual_seed(3), dtype=torch.float64)[0].numpy()
    fields = ("mass", "laplacian", "normals", "gradient", "logmap", "transport")
    b = compute_operators(mesh, fields=fields, dtype="float64")
    br = compute_operators(Mesh(mesh.verts @ R.T, mesh.faces), fields=fields, dtype="float64")
    assert_allclose(br.laplacian.toarray(), b.laplacian.toarray(), atol=1e-10)
    assert_allclose(br.mass, b.mass, atol=1e-12)
    assert_allclose(br.logmap_r, b.logmap_r, atol=1e-12)
    x = np.random.default_rng(0).normal(size=b.n_verts)
    gb, gr = b.grad_x @ x + 1j * (b.grad_y @ x), br.grad_x @ x + 1j * (br.grad_y @ x)
    assert_allclose(np.abs(gr), np.abs(gb), atol=1e-9)  # gradient magnitudes are intrinsic
    feats = input_features(b.to(), ("xyz", "normals"), rotations=torch.from_numpy(R))
    want = np.concatenate([normalized_xyz(br.to()).numpy(), br.normals], axis=1)
    assert_allclose(feats.numpy(), want, atol=1e-10)


def test_per_mesh_augmentation_in_a_batch(mesh):
    b1 = compute_operators(mesh, fields=("normals",), dtype="float64")
    b2 = compute_operators(g.generate_shape("torus", 1, 200).mesh, fields=("normals",), dtype="float64")
    batch = collate_operators([b1, b2])
    gen = torch.Generator().manual_seed(1)
    R = random_rotations(2, gen, dtype=torch.float64)
    s = torch.tensor([0.5, 2.0], dtype=torch.float64)
    f = input_features(batch, ("xyz", "normals"), rotations=R, scales=s)
    assert f.shape == (batch.n_verts, 6)
    for i, (part, b) in enumerate(zip(batch.split(f), (b1, b2), strict=True)):
        xyz = normalized_xyz(b.to()).numpy()
        assert_allclose(part[:, :3].numpy(), s[i].item() * xyz @ R[i].numpy().T, atol=1e-12)
        assert_allclose(part[:, 3:].numpy(), b.normals @ R[i].numpy().T, atol=1e-12)
    a = augment_features(
        batch, ("xyz",), torch.Generator().manual_seed(2), rotation="z", scale_range=(0.9, 1.1)
    )
    for part, b in zip(batch.split(a), (b1, b2), strict=True):
        # a rotation about z and a scale keep z / |xy| ratios
        xyz = normalized_xyz(b.to()).numpy()
        r_in = np.linalg.norm(xyz[:, :2], axis=1)
        r_out = np.linalg.norm(part[:, :2].numpy(), axis=1)
        assert_allclose(part[:, 2].numpy() * r_in, xyz[:, 2] * r_out, atol=1e-10)
    with pytest.raises(ValueError, match="unknown feature"):
        input_features(batch, ("curvature",))
    with pytest.raises(ValueError, match="needs the bundle field"):
        input_features(batch, ("hks",))
    with pytest.raises(ValueError, match="rotation"):
        augment_features(batch, rotation="xyz")


def test_normalized_xyz_is_centred_unit_area_and_ignores_translation_and_scale(mesh):
    b = compute_operators(mesh, fields=("mass",), dtype="float64")
    moved = compute_operators(
        Mesh(3.0 * mesh.verts + [5.0, -1.0, 2.0], mesh.faces), fields=("mass",), dtype="float64"
    )
    x = normalized_xyz(b.to())
    m = b.to().mass[:, None]
    assert_allclose((m * x).sum(0).numpy(), 0.0, atol=1e-12)  # centred (area-weighted)
    unit = compute_operators(Mesh(x.numpy(), mesh.faces), fields=("mass",), dtype="float64")
    assert_allclose(unit.mass.sum(), 1.0, rtol=1e-12)  # unit area
    assert_allclose(normalized_xyz(moved.to()).numpy(), x.numpy(), atol=1e-12)
    no_mass = compute_operators(mesh, fields=("normals",), dtype="float64")  # areas from the faces instead
    assert_allclose(normalized_xyz(no_mass.to()).numpy(), x.numpy(), atol=1e-12)


def test_feature_fields():
    assert feature_fields(("xyz", "hks")) == ("hks",)
    assert feature_fields("wks") == ("wks",)
    assert feature_fields(("xyz",)) == ()
    with pytest.raises(ValueError, match="unknown feature kinds"):
        feature_fields(("curvature",))
