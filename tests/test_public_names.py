"""Every lazily exported public name is the object it names, even after its submodule was imported."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = [
    "manifoldnet.geometry",
    "manifoldnet.operators",
    "manifoldnet.data",
    "manifoldnet.analysis",
    "manifoldnet.nn",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_lazy_names_survive_submodule_imports(name):
    pkg = importlib.import_module(name)
    for sub in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{name}.{sub.name}")  # binds pkg.<sub> = module unless guarded
    if not hasattr(pkg, "_LAZY"):  # imports its names plainly (manifoldnet.nn: torch is its point)
        for public in pkg.__all__:
            value = getattr(pkg, public)
            assert public == "functional" or not isinstance(value, type(pkg)), f"{name}.{public} is a module"
        return
    for public, mod in pkg._LAZY.items():
        value = getattr(pkg, public)
        assert not isinstance(value, type(pkg)), f"{name}.{public} is a module, not the function it names"
        assert value is getattr(importlib.import_module(f"{name}.{mod}"), public)
