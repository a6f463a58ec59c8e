"""Every public name is the object it names, bound by a plain import that static tools and readers follow."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

PACKAGES = [
    "manifoldnet",
    "manifoldnet.geometry",
    "manifoldnet.operators",
    "manifoldnet.data",
    "manifoldnet.analysis",
    "manifoldnet.nn",
]
SUBPACKAGES = {"manifoldnet": {"geometry", "operators", "data", "shapes"}, "manifoldnet.nn": {"functional"}}


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_survive_submodule_imports(name):
    pkg = importlib.import_module(name)
    if name != "manifoldnet":
        for sub in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{name}.{sub.name}")  # would bind pkg.<sub> = module if not yet imported
    for public in pkg.__all__:
        value = getattr(pkg, public)
        if public in SUBPACKAGES.get(name, ()):
            assert isinstance(value, type(pkg)), f"{name}.{public} should be a module"
        else:
            assert not isinstance(value, type(pkg)), f"{name}.{public} is a module, not the object it names"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_is_imported_plainly(name):
    """No module-level ``__getattr__`` in a package ``__init__``: each name in ``__all__`` is bound by an
    import (or an assignment) that a linter and a reader can see."""
    path = Path(importlib.import_module(name).__file__)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert node.name not in ("__getattr__", "__dir__"), f"{path}: a lazy {node.name}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    all_names = importlib.import_module(name).__all__
    assert set(all_names) <= bound, sorted(set(all_names) - bound)
    assert len(all_names) == len(set(all_names))
