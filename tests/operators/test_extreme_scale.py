"""Bundles of meshes at extreme scales (issue 18 item 10): finite numbers or a MeshError naming the field.

float32 holds 1.2e-38 .. 3.4e38 (normal numbers): a mesh scaled by 1e-20 has HKS ~ 1e40, one scaled by 1e30
has vertex areas ~ 1e60, one scaled by 1e-45 has eigenvectors ~ 1e45 (and its coordinates are denormals).
Before the fix these became inf / 0 silently and were stored in the cache.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from manifoldnet.errors import MeshError
from manifoldnet.mesh import Mesh
from manifoldnet.operators.cache import OperatorCache
from manifoldnet.operators.compute import _cast, compute_operators
from manifoldnet.shapes import icosphere

FIELDS = ["mass", "laplacian", "eigenbasis", "hks", "wks", "gradient", "logmap", "transport"]


def _scaled(s):
    m = icosphere(2)
    return Mesh(m.verts * s, m.faces)


def _arrays(bundle):
    for name in ("verts", "mass", "evecs", "hks", "wks", "grad_x", "grad_y", "logmap_r", "transport_rho"):
        a = getattr(bundle, name, None)
        if a is not None:
            yield name, (a.data if sp.issparse(a) else np.asarray(a))


@pytest.mark.parametrize(
    "scale, fields, field",
    [
        (1e-20, FIELDS, "mass"),  # areas ~ 1e-40: denormal
        (1e-20, ["hks"], "hks"),  # hks ~ 1e40
        (1e-20, ["wks"], "wks"),
        (1e30, FIELDS, "mass"),  # areas ~ 1e60
        (1e20, ["hks"], "hks"),  # hks ~ 1e-40
        (1e-45, ["eigenbasis"], "verts"),  # coordinates below float32's smallest normal
        (1e40, ["eigenbasis"], "verts"),  # coordinates above float32's largest
    ],
)
def test_float32_bundle_at_extreme_scale_is_refused_naming_the_field(scale, fields, field):
    with pytest.raises(MeshError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compute_operators(_scaled(scale), fields=fields, k=8, dtype="float32")
    msg = str(e.value)
    assert "float32" in msg and "scale" in msg and "float64" in msg, msg
    assert field in msg.split()[0] or msg.startswith(field), msg


@pytest.mark.parametrize("scale", [1e-45, 1e-20, 1e30])
def test_float64_bundle_at_extreme_scale_is_finite(scale):
    b = compute_operators(_scaled(scale), fields=FIELDS, k=8, dtype="float64")
    for name, a in _arrays(b):
        assert np.isfinite(a).all(), name
        assert np.abs(a).max() > 0, name


@pytest.mark.parametrize("scale", [1e-8, 1e-4, 1e4, 1e8])
def test_float32_bundle_at_moderate_scale_is_finite_and_not_refused(scale):
    b = compute_operators(_scaled(scale), fields=FIELDS, k=8, dtype="float32")
    for name, a in _arrays(b):
        assert np.isfinite(a).all(), name
        assert np.abs(a).max() >= np.finfo(np.float32).tiny, name


def test_refused_bundle_is_not_cached(tmp_path):
    cache = OperatorCache(tmp_path / "c")
    with pytest.raises(MeshError):
        cache.get(_scaled(1e-20), fields=["hks"], k=8, dtype="float32")
    assert not list((tmp_path / "c").glob("*.npz")) if (tmp_path / "c").exists() else True


def test_cast_refuses_overflow_and_total_underflow_but_keeps_partial_small_values():
    with pytest.raises(MeshError, match="overflows float32"):
        _cast(np.array([1.0, 1e39]), np.float32, name="mass")
    with pytest.raises(MeshError, match="underflows float32"):
        _cast(np.array([1e-40, -1e-41, 0.0]), np.float32, name="mass")
    with pytest.raises(MeshError, match="overflows float32"):
        _cast(sp.csr_matrix(np.array([[0.0, 1e40], [1e40, 0.0]])), np.float32, name="laplacian")
    # an eigenvector with some entries far below the rest is fine; all zero stays all zero; inf stays inf
    out = _cast(np.array([1.0, 1e-42, 0.0]), np.float32, name="evecs")
    assert out.dtype == np.float32 and out[0] == 1.0
    assert not _cast(np.zeros(3), np.float32, name="hks").any()
    assert np.isinf(_cast(np.array([np.inf, 1.0]), np.float32, name="x")[0])
