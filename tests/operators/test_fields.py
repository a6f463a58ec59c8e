"""The field table is the one source of what a bundle holds: everything derived from it agrees with it, and
what ``compute_operators`` stores matches each entry (arrays, shape rule, kind)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from manifoldnet import MeshError, shapes
from manifoldnet.operators import OperatorBundle, OperatorSpec, compute_operators
from manifoldnet.operators.bundle import ARRAY_FIELDS, SPARSE_FIELDS
from manifoldnet.operators.fields import (
    ARRAY_TABLE,
    BATCH_RULES,
    FIELD_TABLE,
    Array,
    providing_field,
    providing_fields,
    required_fields,
)
from manifoldnet.operators.spec import FIELDS

PARAMS = {"k": 6, "n_hks": 4, "n_wks": 5, "patch_k": 5, "dtype": "float32"}


@pytest.fixture(scope="module")
def sphere():
    return shapes.noisy_sphere(2, 0.02, 0)


def test_bundle_classes_hold_exactly_the_table_arrays():
    """Adding an array to a bundle class without a table entry (or the reverse) fails here."""
    from manifoldnet.operators.torch_ops import LAYOUT_TENSORS, TorchOperators

    names = tuple(ARRAY_TABLE)
    bundle = tuple(f.name for f in dataclasses.fields(OperatorBundle) if f.name not in ("spec", "version"))
    layout = ("spec", *LAYOUT_TENSORS)
    torch_ops = tuple(f.name for f in dataclasses.fields(TorchOperators) if f.name not in layout)
    assert bundle == names
    assert torch_ops == names
    assert sorted(ARRAY_FIELDS + SPARSE_FIELDS) == sorted(names)
    assert all(ARRAY_TABLE[n].kind == "csr" for n in SPARSE_FIELDS)


def test_spec_derives_from_the_table():
    assert FIELDS == tuple(FIELD_TABLE)
    with pytest.raises(ValueError, match="choose from.*'mass'.*'patches'"):
        OperatorSpec(fields=("mass", "nope"))
    # the dependency column gives the same answers as the hand-written rules it replaced (the cache key uses
    # needs_eigenbasis, so these must never drift)
    for name in FIELDS:
        spec = OperatorSpec(fields=(name,), patch_k=5)
        assert spec.needs_eigenbasis == (name in ("eigenbasis", "hks", "wks")), name
        assert spec.needs_frames == (name in ("frames", "gradient", "logmap", "transport", "patches")), name
    assert required_fields(["hks"]) == {"hks", "eigenbasis", "mass", "laplacian"}
    assert OperatorSpec(fields=("gradient",)).computes("frames")
    assert not OperatorSpec(fields=("gradient",)).needs("frames")


def test_collate_has_a_rule_for_every_batch_rule():
    from manifoldnet.data.batch import _JOIN

    assert set(_JOIN) == set(BATCH_RULES)
    with pytest.raises(ValueError, match="batch rule"):
        Array("x", "(V,)", "float", "padded", "no such rule")
    with pytest.raises(ValueError, match="kind"):
        Array("x", "(V,)", "float16", "vertex", "no such kind")


def test_providing_field():
    assert providing_field("evecs") == "eigenbasis"
    assert providing_field("grad_x") == "gradient"
    assert providing_field("patch_rho") == "patches"
    assert providing_fields("edge_index") == ("logmap", "transport")
    assert providing_field("verts") is None and providing_field("faces") is None
    with pytest.raises(KeyError, match="choose from"):
        providing_field("eigenvectors")
    for name in ARRAY_TABLE:
        for field in providing_fields(name):
            assert name in FIELD_TABLE[field].arrays


def _size(token: str, env: dict) -> int:
    if token.isdigit():
        return int(token)
    coef, sym = re.fullmatch(r"(\d*)(\w+)", token).groups()
    return int(coef or 1) * env[sym]


def _expected_shape(rule: str, env: dict) -> tuple[int, ...]:
    return tuple(_size(t.strip(), env) for t in rule.strip("()").split(",") if t.strip())


def _check_against_table(b: OperatorBundle, asked: tuple[str, ...], mesh: bool):
    """The bundle holds exactly the arrays of the asked fields (plus verts/faces), each of the table's kind
    and shape rule, and the torch side converts each by its kind."""
    expected = {"verts"} | ({"faces"} if mesh else set())
    expected |= {a for f in asked for a in FIELD_TABLE[f].arrays}
    assert set(b.arrays()) == expected, asked
    env = {"V": b.n_verts, "K": b.spec.k, "n_hks": b.spec.n_hks, "n_wks": b.spec.n_wks}
    if mesh:
        env["F"] = b.faces.shape[0]
        edges = np.sort(b.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        env["E"] = len(np.unique(edges, axis=0))
    if b.patch_index is not None:
        env["P"] = b.patch_index.shape[1]
    for name, v in b.arrays().items():
        a = ARRAY_TABLE[name]
        assert v.shape == _expected_shape(a.shape, env), (name, a.shape, v.shape)
        want = {"float": b.spec.dtype, "float64": "float64", "int64": "int64", "csr": b.spec.dtype}[a.kind]
        assert sp.issparse(v) == (a.kind == "csr"), name
        assert (v.data if sp.issparse(v) else v).dtype == np.dtype(want), name
    torch = pytest.importorskip("torch")
    t = b.to()
    for name in b.arrays():
        a, v = ARRAY_TABLE[name], getattr(t, name)
        assert (v.layout == torch.sparse_csr) == (a.kind == "csr"), name
        assert (v.dtype == torch.long) == (a.kind == "int64"), name
        want_shape = (1, *getattr(b, name).shape) if a.batch == "stack" else getattr(b, name).shape
        assert v.shape == want_shape, name


@pytest.mark.parametrize("field", list(FIELD_TABLE))
def test_each_field_stores_its_table_arrays(sphere, field):
    _check_against_table(compute_operators(sphere, fields=(field,), **PARAMS), (field,), mesh=True)


def test_point_clouds_take_the_fields_that_are_not_mesh_only(sphere):
    point_fields = tuple(n for n, f in FIELD_TABLE.items() if not f.mesh_only)
    b = compute_operators(sphere.verts, fields=point_fields, **PARAMS)
    _check_against_table(b, point_fields, mesh=False)
    for name, f in FIELD_TABLE.items():
        if f.mesh_only:
            with pytest.raises(MeshError, match=f"a point cloud supports {', '.join(point_fields)}"):
                compute_operators(sphere.verts, fields=(name,), **PARAMS)


def test_to_torch_csr_any_scipy_format():
    torch = pytest.importorskip("torch")
    from manifoldnet.operators.torch_ops import to_torch_csr

    # unsorted columns and a duplicate (summed), given as COO
    A = sp.coo_matrix(([1.0, 2.0, 3.0, 4.0], ([0, 0, 1, 0], [2, 0, 1, 2])), shape=(2, 3))
    t = to_torch_csr(A)
    assert t.layout == torch.sparse_csr and t.dtype == torch.float64 and t.shape == (2, 3)
    assert t.crow_indices().dtype == torch.long and t.device.type == "cpu"
    assert_allclose(t.to_dense().numpy(), A.toarray())
    t32 = to_torch_csr(sp.csr_matrix(A), device="cpu", dtype=torch.float32)
    assert t32.dtype == torch.float32
    assert_allclose(t32.to_dense().numpy(), A.toarray())
    # read-only arrays (as in a cached bundle) are copied, not shared
    B = sp.csr_matrix(A)
    B.data.flags.writeable = False
    tb = to_torch_csr(B)
    tb.values()[0] = 99.0
    assert B.data[0] != 99.0
