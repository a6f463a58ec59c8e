"""Shared fixtures: the real-data folder (skipped with a reason when absent) and thread limits."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest

from manifoldnet.paths import data_root

pytest_plugins = ["tests.nn.layer_fixtures"]  # device, noisy_bundle, three_bundles


def shared_data(sub: str = ""):
    """Path of ``<data root>/<sub>``; skips the test with a clear reason when it is absent."""
    root = data_root() / sub
    if not root.exists():
        pytest.skip(f"real data not found at {root} (set MANIFOLDNET_DATA to a copy of shared/data)")
    return root


@pytest.fixture
def data_dir():
    """The real-data root (``$MANIFOLDNET_DATA`` or ``../shared/data``), or skip."""
    return shared_data()
