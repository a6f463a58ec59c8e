"""``OperatorModule``: the base of every layer and model that reads a :class:`TorchOperators`.

A layer says which bundle fields it reads in ``fields`` (a class attribute, or set in ``__init__`` when it
depends on an option); ``required_fields`` is the union over the module and all its sub-modules, so a data
pipeline asks the cache for exactly those: ``OperatorSpec(fields=model.required_fields)``.
"""

from __future__ import annotations

from torch import nn

__all__ = ["OperatorModule"]


class OperatorModule(nn.Module):
    """A ``torch.nn.Module`` whose ``forward(x, ops)`` reads operator fields (see the module docstring)."""

    fields: tuple[str, ...] = ()

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Sorted bundle fields this module and its sub-modules read (spec field names: ``"eigenbasis"``)."""
        out: set[str] = set()
        for m in self.modules():
            out.update(getattr(m, "fields", ()) if isinstance(m, OperatorModule) else ())
        out.discard("faces")  # every mesh bundle holds its faces; not a spec field
        return tuple(sorted(out))
