"""The sweep over every mesh of the real-data folder (all sub-folders) x every registered operator (slow).

Same command by hand: ``python -m manifoldnet.robustness --pathologies none --data`` (``--data classic rna``
for some folders). Every file either loads and every operator gives a correct, finite result, or the loader or
operator raises a MeshError naming the problem.
"""

from __future__ import annotations

import os

import pytest
from conftest import shared_data

from manifoldnet.robustness import FAILURES, file_cases, format_failures, format_table, mesh_files, run_sweep

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # the whole sweep runs in the fixture: ~15 min

TIMEOUT = float(os.environ.get("MANIFOLDNET_SWEEP_TIMEOUT", "600"))


@pytest.fixture(scope="module")
def realdata_sweep():
    root = shared_data()
    files = mesh_files(root)
    assert files, f"no mesh files under {root}"
    results = run_sweep(file_cases(files, root=root), timeout=TIMEOUT, workers=2)
    print("\n" + format_table(results))
    return results


def test_every_real_mesh_survives_every_operator(realdata_sweep):
    bad = [r for r in realdata_sweep if r.status in FAILURES]
    assert not bad, f"{len(bad)} failures:\n" + format_failures(bad)


def test_every_real_mesh_folder_is_swept(realdata_sweep):
    folders = {r.case.split(os.sep)[0] for r in realdata_sweep}
    root = shared_data()
    assert folders == {p.name for p in root.iterdir() if p.is_dir() and mesh_files(root, [p.name])}
