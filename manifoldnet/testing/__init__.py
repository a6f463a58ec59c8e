"""Test helpers for manifoldnet and for users' own tests: a pathology generator and identity checks.

Pathologies
-----------
:func:`make_pathology` turns a clean base mesh (by default a small icosphere) into a named messy mesh,
returned as raw ``(verts, faces)`` arrays because some pathologies are invalid for :class:`Mesh` (NaN
coordinates, out-of-range indices). Each :class:`Pathology` says what it claims: whether ``Mesh`` must
accept it, and which :class:`MeshReport` facts it produces (``expect``), so a test can check the claim.
Everything is deterministic from ``seed``.

Checks
------
``assert_*`` functions raise ``AssertionError`` naming the identity that failed (and
:class:`ShapeMismatch`, an ``AssertionError``, when an array has the wrong shape): ``assert_finite``,
``assert_shape``, ``assert_laplacian_identities``, ``assert_mass_identities``, ``assert_eigenbasis``,
``assert_orthonormal_frames``, ``assert_gauss_bonnet``, ``assert_distances``.

Equivariance
------------
:func:`assert_gauge_equivariant` checks that a layer or model commutes with a random change of the vertex
gauges (operators, input and output transformed together; :func:`gauge_change` transforms the operators).
"""

from __future__ import annotations

from .checks import (
    ShapeMismatch,
    assert_distances,
    assert_eigenbasis,
    assert_finite,
    assert_gauss_bonnet,
    assert_laplacian_identities,
    assert_mass_identities,
    assert_orthonormal_frames,
    assert_shape,
    is_closed_manifold,
)
from .equivariance import assert_gauge_equivariant, gauge_change
from .pathologies import (
    PATHOLOGIES,
    Pathology,
    base_mesh,
    check_pathology,
    fan_disk,
    folded_edges,
    iter_pathologies,
    make_pathology,
    pathology_names,
    sliver_fan_plate,
)

__all__ = [
    "PATHOLOGIES",
    "Pathology",
    "ShapeMismatch",
    "assert_distances",
    "assert_eigenbasis",
    "assert_finite",
    "assert_gauge_equivariant",
    "assert_gauss_bonnet",
    "assert_laplacian_identities",
    "assert_mass_identities",
    "assert_orthonormal_frames",
    "assert_shape",
    "base_mesh",
    "check_pathology",
    "fan_disk",
    "folded_edges",
    "gauge_change",
    "is_closed_manifold",
    "iter_pathologies",
    "make_pathology",
    "pathology_names",
    "sliver_fan_plate",
]
