"""PyTorch side: layers and solvers that run on the device of their inputs (never reads files).

``TorchHeatMethod`` (batched heat-method geodesics on CPU or CUDA). Names load lazily so that
``import manifoldnet`` never imports torch.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_LAZY = {"TorchHeatMethod": "heat_method"}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
