"""Input validation shared by the viewer's modules."""

from __future__ import annotations

import numpy as np

from manifoldnet import MeshError


def as_integers(arr, what: str) -> np.ndarray:
    """``arr`` as int64; floats must hold whole finite numbers. :class:`MeshError`
    names the first bad entry."""
    a = np.asarray(arr)
    if a.dtype.kind == "f":
        flat = a.ravel()
        bad = ~np.isfinite(flat) | (flat != np.round(flat))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MeshError(f"{what} must hold integers; entry {i} is {flat[i].item()!r}")
    elif a.dtype.kind not in "biu":
        raise MeshError(f"{what} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64)
