"""The operator disk cache: keys, hits, corrupt entries, concurrent writers, serving fewer eigenpairs."""

from __future__ import annotations

import logging
import multiprocessing

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from manifoldnet import Mesh, shapes
from manifoldnet.operators import OperatorBundle, OperatorCache, OperatorSpec, cache_key
from manifoldnet.operators import cache as cache_mod

FIELDS = ("mass", "laplacian", "gradient")

# one alternative value for every spec parameter
ALTERNATIVES = {
    "fields": ("mass", "laplacian"),
    "k": 64,
    "laplacian": "robust",
    "mass": "voronoi",
    "gauge": "world",
    "gradient": "lsq",
    "n_hks": 8,
    "n_wks": 8,
    "eig_sigma": -0.01,
    "eig_tol": 1e-6,
    "patch_radius": 0.2,
    "patch_k": 7,
    "patch_rings": 2,
    "n_neighbors": 20,
    "dtype": "float64",
}


@pytest.fixture(scope="module")
def mesh():
    return shapes.noisy_sphere(2, 0.02, 1)


def test_alternatives_cover_every_spec_parameter():
    import dataclasses

    assert set(ALTERNATIVES) == {f.name for f in dataclasses.fields(OperatorSpec)}


@pytest.mark.parametrize("param", sorted(ALTERNATIVES))
def test_every_spec_parameter_changes_the_entry(mesh, param, tmp_path):
    base = OperatorSpec(fields=FIELDS)
    other = base.replace(**{param: ALTERNATIVES[param]})
    assert other != base
    c = OperatorCache(tmp_path)
    if param == "k":  # k is in the file name, not the key: bigger entries serve smaller requests
        eig = base.replace(fields=("eigenbasis",))
        assert cache_key(mesh, eig) == cache_key(mesh, eig.replace(k=64))
        assert c.path(cache_key(mesh, eig), 128) != c.path(cache_key(mesh, eig), 64)
    else:
        assert cache_key(mesh, base) != cache_key(mesh, other)


def test_key_depends_on_geometry_connectivity_and_version(mesh, monkeypatch):
    spec = OperatorSpec(fields=FIELDS)
    k0 = cache_key(mesh, spec)
    assert cache_key(Mesh(mesh.verts.copy(), mesh.faces.copy()), spec) == k0  # same content, same key
    v = mesh.verts.copy()
    v[5, 1] = np.nextafter(v[5, 1], 2.0)  # one ulp
    assert cache_key(Mesh(v, mesh.faces), spec) != k0
    f = mesh.faces.copy()
    f[0] = f[0, [1, 2, 0]]  # same triangle, rotated corner order: different bytes
    assert cache_key(Mesh(mesh.verts, f), spec) != k0
    assert cache_key(mesh.verts, spec.replace(fields=("mass",))) != cache_key(
        mesh, spec.replace(fields=("mass",))
    )
    monkeypatch.setattr(cache_mod, "OPERATOR_VERSION", "test-version")
    assert cache_key(mesh, spec) != k0


def test_miss_then_hit(mesh, tmp_path):
    c = OperatorCache(tmp_path)
    assert c.lookup(mesh, fields=FIELDS) is None and not c.contains(mesh, fields=FIELDS)
    b = c.get(mesh, fields=FIELDS)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.endswith("-k0.npz")  # no eigenbasis: K = 0
    assert c.contains(mesh, fields=FIELDS)
    h = c.get(mesh, fields=FIELDS)
    assert h is not b and h.spec == b.spec
    for name, v in b.arrays().items():
        w = getattr(h, name)
        v, w = (x.data if sp.issparse(x) else x for x in (v, w))
        assert_array_equal(w, v)
        assert not w.flags.writeable
    # a different spec is a different entry
    c.get(mesh, fields=FIELDS, gauge="world")
    assert len(list(tmp_path.glob("*.npz"))) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_entry_is_logged_and_recomputed(mesh, tmp_path, caplog, damage):
    c = OperatorCache(tmp_path)
    good = c.get(mesh, fields=FIELDS)
    (path,) = tmp_path.glob("*.npz")
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) * 2 // 3]
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0x55
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="manifoldnet.operators.cache"):
        again = c.get(mesh, fields=FIELDS)
    assert any("corrupt cache entry" in r.getMessage() for r in caplog.records)
    assert_array_equal(again.laplacian.data, good.laplacian.data)
    OperatorBundle.load(path)  # the entry was rewritten and is valid again


def _writer(root, barrier, verts, faces):
    from manifoldnet import Mesh
    from manifoldnet.operators import OperatorCache, OperatorSpec, cache_key, compute_operators

    mesh = Mesh(verts, faces)
    c = OperatorCache(root)
    spec = OperatorSpec(fields=("mass", "laplacian", "gradient"))
    bundle = compute_operators(mesh, spec=spec)
    key = cache_key(mesh, spec)
    barrier.wait()
    for _ in range(5):  # several overlapping writes of the same entry
        c.store(bundle, key)


def test_two_concurrent_writers_leave_one_valid_entry(mesh, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_writer, args=(str(tmp_path), barrier, mesh.verts, mesh.faces)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    files = list(tmp_path.iterdir())
    assert len(files) == 1, [f.name for f in files]  # one entry, no temporary file left behind
    b = OperatorBundle.load(files[0])
    c = OperatorCache(tmp_path).lookup(mesh, fields=FIELDS)
    assert c is not None
    assert_array_equal(b.laplacian.data, c.laplacian.data)


def test_store_failure_leaves_no_temporary_file(mesh, tmp_path, monkeypatch):
    c = OperatorCache(tmp_path)
    b = c.get(mesh, fields=("mass",))
    for p in tmp_path.iterdir():
        p.unlink()

    def boom(self, fh):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(OperatorBundle, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        c.store(b, "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_get_survives_a_failed_store(mesh, tmp_path, monkeypatch, caplog):
    def boom(self, fh):
        raise OSError("read-only file system")

    monkeypatch.setattr(OperatorBundle, "save", boom)
    with caplog.at_level(logging.WARNING, logger="manifoldnet.operators.cache"):
        b = OperatorCache(tmp_path).get(mesh, fields=("mass",))
    assert b.mass is not None and "could not store" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_default_root_is_cache_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MANIFOLDNET_CACHE", str(tmp_path / "here"))
    assert OperatorCache().root == tmp_path / "here"


def test_bigger_entry_serves_fewer_eigenpairs(tmp_path):
    pytest.importorskip("manifoldnet.geometry.spectral")
    pytest.importorskip("manifoldnet.geometry.descriptors")
    from manifoldnet.operators import compute_operators

    mesh = shapes.noisy_sphere(2, 0.02, 2)
    c = OperatorCache(tmp_path)
    fields = ("mass", "eigenbasis", "hks")
    big = c.get(mesh, fields=fields, k=24, dtype="float64")
    small = c.get(mesh, fields=fields, k=10, dtype="float64")
    assert len(list(tmp_path.glob("*.npz"))) == 1  # served from the k=24 entry
    assert small.k == 10 and small.spec.k == 10
    assert_array_equal(small.evals, big.evals[:10])
    assert_array_equal(small.evecs, big.evecs[:, :10])
    fresh = compute_operators(mesh, fields=fields, k=10, dtype="float64")
    np.testing.assert_allclose(small.evals, fresh.evals, rtol=1e-6, atol=1e-9)
    # HKS is recomputed from the first 10 pairs, as a fresh k=10 build does (not sliced from k=24's)
    np.testing.assert_allclose(small.hks, fresh.hks, rtol=1e-5, atol=1e-8)
    c.get(mesh, fields=fields, k=30, dtype="float64")  # more than stored: a new entry
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_descriptors_without_a_stored_eigenbasis_hit_their_own_k_only(tmp_path):
    """hks asked without the eigenbasis: the entry holds no eigenpairs to truncate (it raised on every hit),
    and one of another k holds other descriptors."""
    mesh = shapes.noisy_sphere(1, 0.02, 2)
    c = OperatorCache(tmp_path)
    first = c.get(mesh, fields=("mass", "hks"), k=12, dtype="float64")
    again = c.get(mesh, fields=("mass", "hks"), k=12, dtype="float64")
    assert again.evecs is None and again.spec == first.spec
    assert_array_equal(again.hks, first.hks)
    other = c.get(mesh, fields=("mass", "hks"), k=8, dtype="float64")
    assert other.spec.k == 8 and not np.allclose(other.hks, first.hks)
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_patch_rings_spec_round_trips_through_the_cache(mesh, tmp_path):
    spec = OperatorSpec(fields=("patches", "mass"), patch_rings=2, dtype="float64")
    assert OperatorSpec.from_json(spec.to_json()) == spec == OperatorSpec(**spec.to_dict())
    assert spec.replace(patch_rings=3).patch_rings == 3 and '"patch_rings":2' in spec.to_json()
    c = OperatorCache(tmp_path)
    assert c.lookup(mesh, spec) is None
    b = c.get(mesh, spec)
    h = c.lookup(mesh, spec)
    assert h is not None and h is not b and h.spec == spec and h.spec.patch_rings == 2
    for name in ("patch_index", "patch_r", "patch_theta", "patch_rho"):
        assert_array_equal(getattr(h, name), getattr(b, name))
    # other ring counts and the same patches asked as k-nearest are other entries
    assert c.lookup(mesh, spec.replace(patch_rings=3)) is None
    assert c.lookup(mesh, spec.replace(patch_rings=None, patch_k=12)) is None
    assert len({cache_key(mesh, spec), cache_key(mesh, spec.replace(patch_rings=1))}) == 2


def test_specs_without_patch_rings_keep_their_canonical_json():
    """patch_rings came after cache entries existed: at its default it is left out of the canonical JSON, so
    the key (and stored spec) of every other spec is the one from before (this string is that JSON)."""
    spec = OperatorSpec(fields=("mass", "laplacian"))
    assert spec.to_json() == (
        '{"dtype":"float32","eig_sigma":null,"eig_tol":1e-08,"fields":["laplacian","mass"],"gauge":"intrinsic",'
        '"gradient":"faces","k":128,"laplacian":"cotan","mass":"lumped","n_hks":16,"n_neighbors":30,"n_wks":16,'
        '"patch_k":null,"patch_radius":null}'
    )
    assert spec.to_dict()["patch_rings"] is None  # still a parameter of the spec
    assert OperatorSpec.from_json(spec.to_json()) == spec
