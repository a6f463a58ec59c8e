"""Fixtures for the layer tests (a plugin of the root conftest: a second conftest.py would shadow its
name): devices (``cuda`` skipped when absent) and small float64 operator bundles
with a dense (full or partial) eigenbasis, so fast kernels can be checked against dense references."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.linalg
import torch

from manifoldnet import shapes
from manifoldnet.data import generated as g
from manifoldnet.operators import compute_operators

FIELDS = ("mass", "laplacian", "gradient", "hks")
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


def with_dense_eigenbasis(bundle, k=None):
    """``bundle`` plus ``k`` eigenpairs (all when None) of the dense generalized ``L phi = lambda M phi``."""
    L = bundle.laplacian.toarray()
    V = L.shape[0]
    k = V if k is None else k
    evals, evecs = scipy.linalg.eigh(
        L, np.diag(np.asarray(bundle.mass, dtype=np.float64)), subset_by_index=(0, k - 1)
    )
    evals = np.clip(evals, 0.0, None)
    spec = bundle.spec.replace(fields=(*bundle.spec.fields, "eigenbasis"), k=k)
    return replace(bundle, spec=spec, evals=evals, evecs=evecs.astype(bundle.mass.dtype))


def small_bundle(mesh, k=None, dtype="float64", fields=FIELDS):
    return with_dense_eigenbasis(compute_operators(mesh, fields=fields, dtype=dtype, k=8, n_hks=8), k)


@pytest.fixture(scope="session")
def noisy_bundle():
    """An irregular 162-vertex sphere with its full eigenbasis (float64)."""
    return small_bundle(shapes.noisy_sphere(2, noise=0.05, seed=1))


def three_meshes():
    """Three meshes of different sizes: a sphere, a torus, a star."""
    return [
        shapes.icosphere(2),
        g.generate_shape("torus", 0, 260).mesh,
        g.generate_shape("star", 0, 330).mesh,
    ]


@pytest.fixture(scope="session")
def three_bundles():
    """The three meshes of :func:`three_meshes`, 24 eigenpairs each (float64)."""
    return [small_bundle(m, k=24) for m in three_meshes()]


def fit_losses(model, x, ops, labels, steps: int, lr: float = 1e-2) -> list[float]:
    """The NLL loss before each of ``steps`` Adam steps of ``model(x, ops)`` (log-probabilities) on
    ``labels``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(model(x, ops), labels)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses
