"""Operator bundles: named, cached, device-movable operators between geometry and learning.

``compute_operators(mesh, fields=..., k=...)`` -> :class:`OperatorBundle` (numpy/scipy, read-only);
``OperatorCache(root).get(mesh, spec)`` the same through a verified disk cache; ``bundle.to(device, dtype)``
-> :class:`TorchOperators` (torch sparse CSR). Names load lazily; torch is imported
only by ``TorchOperators``.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_LAZY = {
    "OperatorSpec": "spec",
    "FIELDS": "spec",
    "DIFFUSIONNET_FIELDS": "spec",
    "GEM_FIELDS": "spec",
    "OPERATOR_VERSION": "spec",
    "OperatorBundle": "bundle",
    "CorruptBundleError": "bundle",
    "compute_operators": "compute",
    "OperatorCache": "cache",
    "cache_key": "cache",
    "TorchOperators": "torch_ops",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
