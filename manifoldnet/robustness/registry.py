"""The operator registry: every public operator or layer joins the robustness sweep by registering here once.

An :class:`Operator` is a name, a ``run(mesh) -> result`` callable and a ``check(mesh, result)`` that raises
``AssertionError`` (or :class:`~manifoldnet.testing.ShapeMismatch`) when an identity that applies fails.
The built-in table lives in :mod:`manifoldnet.robustness.operators` (imported here, so it is always
registered; the registry itself is in :mod:`~manifoldnet.robustness.table`, below both); users register
their own with :func:`register` (as a decorator) in a module that they pass to the sweep
(``modules=[...]``), so the subprocess workers import it too.
"""

from __future__ import annotations

import fnmatch

from . import operators  # noqa: F401  (registers the built-in table on import)
from .table import REGISTRY, Operator, register

__all__ = ["REGISTRY", "Operator", "get_operator", "operator_names", "register"]


def operator_names(patterns=None) -> list[str]:
    """Registered names, optionally filtered by ``patterns`` (exact names, family names or fnmatch globs)."""
    names = list(REGISTRY)
    if not patterns:
        return names
    out = []
    for p in patterns:
        hit = [n for n in names if n == p or n.split(".")[0] == p or fnmatch.fnmatch(n, p)]
        if not hit:
            raise KeyError(f"no registered operator matches {p!r}; known: {', '.join(names)}")
        out += [n for n in hit if n not in out]
    return out


def get_operator(name: str) -> Operator:
    return REGISTRY[name]
