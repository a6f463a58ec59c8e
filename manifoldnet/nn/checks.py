"""Input checks shared by the functional layers: a missing bundle field and a wrong ``x`` are ValueErrors that
name what is wrong (and the spec that would provide a missing field)."""

from __future__ import annotations

import torch

from ..operators.fields import FIELD_TABLE

__all__ = ["check_x", "require_fields"]


def require_fields(ops, fields, who: str) -> None:
    """Raise ValueError naming the first bundle field of ``fields`` (spec field names of the field table, or
    ``"faces"``) that ``ops`` lacks, and the spec that would provide it."""
    for f in fields:
        arrays = ("faces",) if f == "faces" else FIELD_TABLE[f].arrays
        missing = [a for a in arrays if getattr(ops, a, None) is None]
        if missing:
            if f == "faces":
                raise ValueError(f"{who} needs faces: these operators come from a point cloud")
            have = tuple(getattr(ops.spec, "fields", ()))
            size = ", <one of patch_k=, patch_radius=, patch_rings=>" if f == "patches" else ""
            raise ValueError(
                f"{who} needs the bundle field {f!r} ({', '.join(missing)} missing); these operators hold "
                f"{list(have)}: build them with OperatorSpec(fields={tuple(sorted({*have, f}))}{size})"
            )


def check_x(x, ops, who: str) -> None:
    """Raise ValueError unless ``x`` is a (V, C) tensor on the operators' device with one row per vertex."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise ValueError(f"{who}: x must be a (V, C) tensor, got {getattr(x, 'shape', type(x).__name__)}")
    if x.shape[0] != ops.n_verts:
        raise ValueError(f"{who}: x has {x.shape[0]} rows but the operators have V={ops.n_verts} vertices")
    if x.device != ops.device:
        raise ValueError(
            f"{who}: x is on {x.device} but the operators are on {ops.device}: use ops.to(x.device)"
        )
