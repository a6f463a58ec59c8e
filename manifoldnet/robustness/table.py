"""The registry itself: :class:`Operator`, the ``REGISTRY`` dict and :func:`register`.

Below both :mod:`~manifoldnet.robustness.operators` (the built-in table, which registers into it) and
:mod:`~manifoldnet.robustness.registry` (the queries, which import the built-in table); both re-export it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..mesh import Mesh

__all__ = ["REGISTRY", "Operator", "register"]


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
