"""The operator registry: every public operator or layer joins the robustness sweep by registering here once.

An :class:`Operator` is a name, a ``run(mesh) -> result`` callable and a ``check(mesh, result)`` that raises
``AssertionError`` (or :class:`~manifoldnet.testing.ShapeMismatch`) when an identity that applies fails.
The built-in table lives in :mod:`manifoldnet.robustness.operators`; users register their own with
:func:`register` (as a decorator) in a module that they pass to the sweep (``modules=[...]``), so the
subprocess workers import it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..mesh import Mesh

__all__ = ["REGISTRY", "Operator", "get_operator", "operator_names", "register"]


@dataclass(frozen=True)
class Operator:
    """One sweep entry.

    name : unique, e.g. ``"laplacian.cotan"`` (``family.variant``: the family groups the table).
    run : ``run(mesh) -> result``; a :class:`MeshError` it raises is an accepted refusal when its message
        names the problem.
    check : ``check(mesh, result)``: raise ``AssertionError`` for a violated identity, ``ShapeMismatch`` for a
        wrong shape. ``None``: only the generic finiteness check.
    allow_inf : result may hold ``inf`` (distances to unreachable vertices); NaN always fails.
    max_verts : skip the operator on larger meshes (dense or quadratic checks).
    """

    name: str
    run: Callable[[Mesh], Any]
    check: Callable[[Mesh, Any], None] | None = None
    allow_inf: bool = False
    max_verts: int | None = None
    doc: str = ""

    @property
    def family(self) -> str:
        return self.name.split(".")[0]


REGISTRY: dict[str, Operator] = {}


def register(
    name: str, *, check=None, allow_inf: bool = False, max_verts: int | None = None, replace: bool = False
):
    """Decorator: ``@register("mylayer", check=my_check)`` over ``def run(mesh): ...`` adds it to the sweep.

    Raises ``ValueError`` when ``name`` is taken (``replace=True`` overrides).
    """

    def deco(fn):
        if name in REGISTRY and not replace:
            raise ValueError(f"operator {name!r} is already registered")
        REGISTRY[name] = Operator(name, fn, check, allow_inf, max_verts, (fn.__doc__ or "").strip())
        return fn

    return deco


def _load_builtin() -> None:
    from . import operators  # noqa: F401  (registers the built-in table on import)


def operator_names(patterns=None) -> list[str]:
    """Registered names, optionally filtered by ``patterns`` (exact names, family names or fnmatch globs)."""
    import fnmatch

    _load_builtin()
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
    _load_builtin()
    return REGISTRY[name]
