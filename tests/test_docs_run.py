"""Every ```python block of README.md and docs/*.md runs as written (issue 19 item 1).

Per file, the blocks run in order as one script (later blocks may use names of earlier ones, as a reader
would), in a fresh interpreter whose working directory is a temporary copy of the repository (so files the
examples write land there), with an off-screen viewer and a private operator cache.

Every block runs, none is skipped: a viewer example renders offscreen (``mv.screenshot``,
``Scene(..., off_screen=True).screenshot``), never through a window (``show``) a test machine cannot open.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
# Files whose blocks take over ~30 s (marked slow: `make test-slow`). None today: README ~7 s of CPU (its
# viewer block renders nine pictures offscreen, ~4 s), docs 2 s at one BLAS thread (the conftest's default,
# passed on below; unlimited threads on a shared machine made them 10x slower).
SLOW: set[str] = set()


def blocks(path: Path) -> list[tuple[int, str]]:
    """``(first line number, code)`` of every ```python block of ``path``."""
    text = path.read_text()
    return [(text[: m.start()].count("\n") + 2, m.group(1)) for m in BLOCK.finditer(text)]


def _script(path: Path) -> str:
    return "\n".join(f"# --- {path.name}:{line}\n{code}" for line, code in blocks(path))


def _copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", "out", "build"
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _params():
    out = []
    for p in DOCS:
        rel = p.relative_to(ROOT).as_posix()
        marks = [pytest.mark.slow] if rel in SLOW else []
        out.append(pytest.param(p, id=rel, marks=marks))
    return out


def test_blocks_are_found():
    assert len(blocks(ROOT / "README.md")) >= 5  # the extraction itself works
    assert all(blocks(p) for p in DOCS)


@pytest.mark.parametrize("path", _params())
def test_doc_blocks_run(path, tmp_path):
    script = _script(path)
    repo = _copy_repo(tmp_path / "repo")
    (repo / "_doc_blocks.py").write_text(script)
    env = dict(
        os.environ, PYVISTA_OFF_SCREEN="true", MPLBACKEND="Agg", MANIFOLDNET_CACHE=str(tmp_path / "cache")
    )
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "viewer"), env.get("PYTHONPATH", "")])
    r = subprocess.run(
        [sys.executable, "_doc_blocks.py"],
        check=False,
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, f"{path.name} blocks failed:\n{r.stderr[-4000:]}"
    if path.name == "README.md":  # the viewer block rendered its pictures (offscreen, not skipped)
        shots = list((repo / "out" / "viewer").glob("*.png"))
        assert len(shots) >= 8 and min(p.stat().st_size for p in shots) > 5000
