"""PyTorch side: layers and solvers that run on the device of their inputs (never reads files).

``TorchHeatMethod`` (batched heat-method geodesics on CPU or CUDA). Names load lazily so that
``import manifoldnet`` never imports torch.
"""

from __future__ import annotations

import importlib

_LAZY = {"TorchHeatMethod": "heat_method"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'manifoldnet.nn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
