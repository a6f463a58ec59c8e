"""Deliberately broken operators: the sweep must classify each one (imported by the sweep's workers)."""

from __future__ import annotations

import os
import time

import numpy as np

from manifoldnet.errors import MeshError
from manifoldnet.robustness import register
from manifoldnet.testing import assert_shape


@register("faulty.ok", check=lambda mesh, x: assert_shape(x, (mesh.n_verts,), "x"), replace=True)
def _ok(mesh):
    return np.ones(mesh.n_verts)


@register("faulty.segfault", replace=True)
def _segfault(mesh):
    os.kill(os.getpid(), 11)  # what a crashing C extension does to the process


@register("faulty.hang", replace=True)
def _hang(mesh):
    time.sleep(3600)


@register("faulty.nan", replace=True)
def _nan(mesh):
    return np.full(mesh.n_verts, np.nan)


@register("faulty.mismatch", check=lambda mesh, x: assert_shape(x, (mesh.n_verts,), "x"), replace=True)
def _mismatch(mesh):
    return np.ones(mesh.n_verts + 1)


def _sum_is_zero(mesh, x):
    if abs(x.sum()) > 1e-9:
        raise AssertionError(f"sum is {x.sum()}, not 0")


@register("faulty.wrong", check=_sum_is_zero, replace=True)
def _wrong(mesh):
    return np.ones(mesh.n_verts)


@register("faulty.exception", replace=True)
def _exception(mesh):
    return {}["missing"]


@register("faulty.vague", replace=True)
def _vague(mesh):
    raise MeshError("bad")


@register("faulty.refuses_boundaries", replace=True)
def _refuses(mesh):
    if mesh.n_boundary_loops:
        raise MeshError(f"needs a closed mesh: {mesh.n_boundary_loops} boundary loops")
    return np.zeros(mesh.n_verts)
