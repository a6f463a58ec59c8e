"""The README's viewer screenshots come from one script, ``examples/screenshots.py`` (issue 19 item 8): the
README shows exactly the pictures the script makes, the committed files are small, and the script still
makes them (two re-rendered here and compared with the committed ones)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")
pytest.importorskip("manifoldnet_viewer")
Image = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


@pytest.fixture(scope="module")
def script():
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(ROOT / "examples"))  # the script imports its folder's _common, as when run
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "examples" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    mp.undo()


def test_readme_shows_what_the_script_makes(script):
    shown = set(re.findall(r"\(docs/images/(\w+)\.png\)", (ROOT / "README.md").read_text()))
    assert shown == set(script.PICTURES)
    committed = {p.stem: p.stat().st_size for p in IMAGES.glob("*.png")}
    assert set(committed) == set(script.PICTURES)
    assert max(committed.values()) < 100_000


def test_script_makes_the_committed_pictures(script, tmp_path, capsys):
    names = ["geodesic", "transport"]
    assert script.main([str(tmp_path), "--only", *names]) == 0
    for name in names:
        new = np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"))
        old = np.asarray(Image.open(IMAGES / f"{name}.png").convert("RGB"))
        assert new.shape == old.shape
        err = pv.compare_images(new, old)
        assert err < 250, f"{name}: docs/images differs from what the script makes (rerun it): {err:.0f}"
    assert "geodesic" in capsys.readouterr().out
