"""OperatorSpec validation, OperatorBundle contents (against the geometry functions),
save/load, torch side."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import MeshError, shapes
from manifoldnet.operators import CorruptBundleError, OperatorBundle, OperatorSpec, compute_operators

NO_EIG = ("mass", "laplacian", "normals", "frames", "gradient", "logmap", "transport")


@pytest.fixture(scope="module")
def sphere():
    return shapes.noisy_sphere(2, 0.02, 0)


@pytest.fixture(scope="module")
def bundle64(sphere):
    return compute_operators(sphere, fields=NO_EIG, dtype="float64")


@pytest.mark.parametrize(
    "bad",
    [
        {"fields": ("mass", "nope")},
        {"fields": ()},
        {"k": 0},
        {"k": 2.5},
        {"k": True},
        {"laplacian": "graph"},
        {"mass": "galerkin"},
        {"gauge": "random"},
        {"gradient": "fd"},
        {"dtype": "float16"},
        {"n_hks": -1},
        {"eig_tol": float("nan")},
        {"eig_tol": -1.0},
        {"eig_sigma": float("inf")},
        {"patch_radius": 0.0},
        {"patch_k": 0},
        {"fields": ("patches",)},  # neither radius nor k
        {"fields": ("patches",), "patch_k": 8, "patch_radius": 0.1},  # both
        {"patch_rings": 0},
        {"patch_rings": -1},
        {"patch_rings": 2.0},
        {"patch_rings": True},
        {"fields": ("patches",), "patch_k": 8, "patch_rings": 2},  # two of three
        {"fields": ("patches",), "patch_radius": 0.1, "patch_rings": 2},
    ],
)
def test_spec_rejects_bad_parameters(bad):
    with pytest.raises(ValueError):
        OperatorSpec(**bad)


def test_spec_accepts_numpy_and_torch_dtypes():
    """np.float32, np.dtype, torch.float32 and the string name give the same spec (and
    so the same cache key)."""
    torch = pytest.importorskip("torch")
    for name, np_type, torch_type in (
        ("float32", np.float32, torch.float32),
        ("float64", np.float64, torch.float64),
    ):
        ref = OperatorSpec(dtype=name)
        for d in (np_type, np.dtype(name), torch_type):
            spec = OperatorSpec(dtype=d)
            assert spec.dtype == name and spec == ref and spec.to_json() == ref.to_json()
    with pytest.raises(ValueError, match="is not one of"):
        OperatorSpec(dtype=np.int32)
    with pytest.raises(ValueError, match="is not one of"):
        OperatorSpec(dtype=torch.float16)


def test_spec_canonical_and_json_round_trip():
    a = OperatorSpec(fields=("laplacian", "mass", "mass"), k=32)
    b = OperatorSpec(fields=["mass", "laplacian"], k=32)
    assert a == b and a.fields == ("laplacian", "mass")
    assert a.to_json() == b.to_json()
    assert OperatorSpec.from_json(a.to_json()) == a
    assert "k" not in json.loads(a.to_json(exclude=("k",)))
    with pytest.raises(ValueError):
        OperatorSpec.from_json('{"k": 3, "colour": "red"}')


def test_only_requested_fields_are_stored(sphere):
    b = compute_operators(sphere, fields=("gradient",))
    held = {k for k, v in b.arrays().items()}
    assert held == {"verts", "faces", "grad_x", "grad_y"}  # frames were computed for the gradient, not stored
    assert b.mass is None and b.frames is None and b.evecs is None


def test_fields_equal_the_geometry_functions(sphere, bundle64):
    from manifoldnet.geometry.frames import vertex_frames, vertex_normals
    from manifoldnet.geometry.gradient import vertex_gradient
    from manifoldnet.geometry.laplacian import laplacian
    from manifoldnet.geometry.logmap import one_ring_logmap
    from manifoldnet.geometry.transport import edge_transport

    L, M = laplacian(sphere)
    assert_allclose(bundle64.laplacian.toarray(), L.toarray(), atol=1e-14)
    assert_allclose(bundle64.mass, M.diagonal())
    fr = vertex_frames(sphere, "intrinsic")
    assert_allclose(bundle64.frames, fr)
    assert_allclose(bundle64.normals, vertex_normals(sphere))
    G = vertex_gradient(sphere, frames=fr)
    assert_allclose((bundle64.grad_x + 1j * bundle64.grad_y).toarray(), G.toarray(), atol=1e-12)
    ei, r, th = one_ring_logmap(sphere)
    ei2, rho = edge_transport(sphere)
    assert_array_equal(bundle64.edge_index, ei)
    assert_array_equal(ei2, ei)
    assert_allclose(bundle64.logmap_r, r)
    assert_allclose(np.angle(np.exp(1j * (bundle64.logmap_theta - th))), 0, atol=1e-12)  # equal mod 2 pi
    assert_allclose(np.angle(np.exp(1j * (bundle64.transport_rho - rho))), 0, atol=1e-12)
    # identities that must survive the bundling: L 1 = 0, gradient of a constant = 0
    assert_allclose(bundle64.laplacian @ np.ones(sphere.n_verts), 0, atol=1e-12)
    assert_allclose(bundle64.grad_x @ np.ones(sphere.n_verts), 0, atol=1e-12)


def test_storage_dtype_and_read_only(sphere, bundle64):
    b32 = compute_operators(sphere, fields=NO_EIG)  # float32 by default
    assert b32.mass.dtype == np.float32 and b32.laplacian.dtype == np.float32
    assert b32.edge_index.dtype == np.int64 and b32.faces.dtype == np.int64
    assert_allclose(b32.laplacian.toarray(), bundle64.laplacian.toarray(), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError):
        b32.mass[0] = 1.0
    with pytest.raises(ValueError):
        b32.laplacian.data[0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        b32.mass = None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip(sphere, dtype, tmp_path):
    b = compute_operators(sphere, fields=NO_EIG, dtype=dtype, gauge="world")
    path = tmp_path / "b.npz"
    b.save(path)
    c = OperatorBundle.load(path)
    assert c.spec == b.spec and c.version == b.version
    assert set(c.arrays()) == set(b.arrays())
    for name, v in b.arrays().items():
        w = getattr(c, name)
        if sp.issparse(v):
            assert sp.isspmatrix_csr(w) and w.shape == v.shape
            assert_array_equal(w.indptr, v.indptr)
            assert_array_equal(w.indices, v.indices)
            v, w = v.data, w.data
        assert w.dtype == v.dtype, name
        assert_array_equal(w, v)
        assert not w.flags.writeable
    # no pickle anywhere: numpy can read it with allow_pickle=False (load uses it)
    with np.load(path, allow_pickle=False) as z:
        assert "__checksum__" in z.files and "laplacian.indptr" in z.files


def test_corrupt_or_truncated_file_is_detected(bundle64, tmp_path):
    buf = io.BytesIO()
    bundle64.save(buf)
    raw = bytearray(buf.getvalue())
    (tmp_path / "trunc.npz").write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(CorruptBundleError):
        OperatorBundle.load(tmp_path / "trunc.npz")
    # alter one byte of an array (the mass entry): zip CRC or our checksum catches it
    with np.load(io.BytesIO(bytes(raw))) as z:
        mass = z["mass"]
    pos = bytes(raw).find(mass.tobytes())
    assert pos > 0
    raw[pos + 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(raw))
    with pytest.raises(CorruptBundleError):
        OperatorBundle.load(tmp_path / "flip.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(CorruptBundleError):
        OperatorBundle.load(tmp_path / "junk.npz")


def test_checksum_catches_a_consistent_rewrite(bundle64, tmp_path):
    """A file rewritten with a valid zip (correct CRCs) but one altered array still fails our checksum."""
    path = tmp_path / "b.npz"
    bundle64.save(path)
    with np.load(path) as z:
        entries = {k: z[k] for k in z.files}
    entries["mass"] = entries["mass"] * 2.0
    np.savez(path, **entries)
    with pytest.raises(CorruptBundleError, match="checksum"):
        OperatorBundle.load(path)


def test_point_cloud_input(sphere):
    b = compute_operators(sphere.verts, fields=("mass", "laplacian"), n_neighbors=12)
    assert b.faces is None and b.laplacian.shape == (sphere.n_verts, sphere.n_verts)
    assert_allclose(b.laplacian @ np.ones(sphere.n_verts), 0, atol=1e-5)
    with pytest.raises(MeshError, match="need a triangle mesh"):
        compute_operators(sphere.verts, fields=("mass", "gradient"))


def test_bad_mesh_input_raises():
    with pytest.raises(MeshError):
        compute_operators((np.zeros((3, 3)), np.array([[0, 1, 3]])), fields=("mass",))
    with pytest.raises(MeshError):
        compute_operators(np.array([[0.0, np.nan, 0.0]] * 40), fields=("mass",))


def test_torch_side_matches_scipy(bundle64):
    torch = pytest.importorskip("torch")
    t = bundle64.to(dtype=torch.float64)
    assert t.laplacian.layout == torch.sparse_csr and t.n_meshes == 1
    x = np.random.default_rng(0).normal(size=(bundle64.n_verts, 4))
    xt = torch.from_numpy(x)
    assert_allclose((t.laplacian @ xt).numpy(), bundle64.laplacian @ x, atol=1e-12)
    from manifoldnet.nn.functional import gradient

    g = gradient(xt, t).numpy()
    assert_allclose(g, bundle64.grad_x @ x + 1j * (bundle64.grad_y @ x), atol=1e-12)
    assert t.edge_index.dtype == torch.long
    t32 = t.to(dtype=torch.float32)
    assert t32.laplacian.values().dtype == torch.float32 and t32.edge_index.dtype == torch.long
    assert bundle64.to().mass.dtype == torch.float64  # default: the bundle's storage dtype


@pytest.mark.parametrize("algorithm", ["sha256", "xxh3_128"])
def test_checksum_algorithms(bundle64, tmp_path, monkeypatch, algorithm):
    from manifoldnet.operators import storage

    if algorithm == "xxh3_128":
        pytest.importorskip("xxhash")
    monkeypatch.setattr(storage, "_default_algorithm", lambda: algorithm)
    path = tmp_path / "b.npz"
    bundle64.save(path)
    with np.load(path) as z:
        assert bytes(z["__checksum__"]).decode().startswith(algorithm + ":")
        entries = {k: z[k] for k in z.files}
    c = OperatorBundle.load(path)
    assert_array_equal(c.laplacian.data, bundle64.laplacian.data)
    # array data is 64-byte aligned in the file, so loading views it in place
    assert c.frames.ctypes.data % 64 == 0 and c.laplacian.indices.ctypes.data % 64 == 0
    entries["__checksum__"] = np.frombuffer(b"md4:0123", dtype=np.uint8)
    np.savez(path, **entries)
    with pytest.raises(CorruptBundleError, match="unknown checksum algorithm"):
        OperatorBundle.load(path)


def test_spec_patch_errors_name_the_parameter():
    for bad in (0, -1, 2.0, True, "2"):
        with pytest.raises(ValueError, match=r"OperatorSpec\.patch_rings must be None or a positive integer"):
            OperatorSpec(fields=("patches",), patch_rings=bad)
    with pytest.raises(ValueError, match="exactly one of patch_radius=, patch_k= or patch_rings="):
        OperatorSpec(fields=("patches",), patch_k=8, patch_rings=2)
    with pytest.raises(ValueError, match="exactly one of patch_radius=, patch_k= or patch_rings="):
        OperatorSpec(fields=("patches",))


def test_patches_field_with_rings_equals_geodesic_patches(sphere):
    from manifoldnet.geometry.patches import geodesic_patches

    b = compute_operators(sphere, fields=("patches",), patch_rings=2, dtype="float64", gauge="world")
    p = geodesic_patches(sphere, rings=2, frames="world")
    assert_array_equal(b.patch_index, p.edge_index)
    for name, ref in (("patch_r", p.r), ("patch_theta", p.theta), ("patch_rho", p.transport)):
        assert_array_equal(getattr(b, name), ref)


def test_patches_field_equals_geodesic_patches(sphere):
    from manifoldnet.geometry.patches import geodesic_patches

    b = compute_operators(sphere, fields=("patches",), patch_k=6, dtype="float64", gauge="world")
    p = geodesic_patches(sphere, k=6, frames="world")
    assert_array_equal(b.patch_index, p.edge_index)
    assert_allclose(b.patch_r, p.r)
    assert_allclose(np.angle(np.exp(1j * (b.patch_theta - p.theta))), 0, atol=1e-10)
    assert_allclose(np.angle(np.exp(1j * (b.patch_rho - p.transport))), 0, atol=1e-10)
    assert np.bincount(b.patch_index[0], minlength=sphere.n_verts).min() == 6


def test_eigenbasis_and_descriptors(sphere):
    pytest.importorskip("manifoldnet.geometry.descriptors")
    from manifoldnet.geometry.descriptors import heat_kernel_signature, wave_kernel_signature

    b = compute_operators(
        sphere, fields=("mass", "laplacian", "eigenbasis", "hks", "wks"), k=20, n_wks=8, dtype="float64"
    )
    M = np.diag(b.mass)
    assert_allclose(b.evecs.T @ M @ b.evecs, np.eye(20), atol=1e-8)
    assert_allclose(b.laplacian @ b.evecs, M @ b.evecs * b.evals, atol=1e-8)
    assert np.all(np.diff(b.evals) >= -1e-12) and abs(b.evals[0]) < 1e-8
    assert b.hks.shape == (sphere.n_verts, 16) and b.wks.shape == (sphere.n_verts, 8)
    assert_allclose(b.hks, heat_kernel_signature(b.evals, b.evecs, n_times=16))
    assert_allclose(b.wks, wave_kernel_signature(b.evals, b.evecs, n_energies=8))
    # truncation = a fresh build with fewer pairs (HKS recomputed, not sliced)
    t = b.truncate(12)
    f = compute_operators(
        sphere, fields=("mass", "laplacian", "eigenbasis", "hks", "wks"), k=12, n_wks=8, dtype="float64"
    )
    assert t.spec == f.spec and t.k == 12
    assert_allclose(t.evals, f.evals, atol=1e-8)
    assert_allclose(t.hks, f.hks, rtol=1e-6, atol=1e-9)
    assert_allclose(t.wks, f.wks, rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="only 20"):
        b.truncate(30)
    # the torch side: spectral heat with t = 0 is the M-projection onto the basis (a projector: idempotent)
    torch = pytest.importorskip("torch")
    ops = b.to()
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(sphere.n_verts, 2)))
    from manifoldnet.nn.functional import diffuse_spectral

    p = diffuse_spectral(x, ops, torch.zeros(2, dtype=torch.float64))
    assert_allclose(
        diffuse_spectral(p, ops, torch.zeros(2, dtype=torch.float64)).numpy(), p.numpy(), atol=1e-10
    )
