"""The README's example runs as written (so the README stays true)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch):
    text = README.read_text()
    section = text[text.index("## Example") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    monkeypatch.setenv("MANIFOLDNET_CACHE", str(tmp_path))  # OperatorCache() writes here, not in ~/.cache
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)  # noqa: S102 - running the README is the point
    mesh, L, evals, dist, ops = (scope[k] for k in ("mesh", "L", "evals", "dist", "ops"))
    np.testing.assert_allclose(L @ np.ones(mesh.n_verts), 0.0, atol=1e-10)
    assert evals[0] < 1e-8 < evals[1] and np.isfinite(dist).all() and dist[0] == 0.0
    from manifoldnet import geometry as g

    cotan_evals, _ = g.eigenbasis(*g.laplacian(mesh, kind="cotan"), k=64)  # the bundle's default Laplacian
    np.testing.assert_allclose(ops.evals, cotan_evals, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ops.evals[1:], evals[1:], rtol=1e-3)  # robust ~ cotan on a good mesh
    assert len(list(tmp_path.glob("*.npz"))) == 1
