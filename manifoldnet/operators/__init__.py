"""Operator bundles: named, cached, device-movable operators between geometry and learning.

``compute_operators(mesh, fields=..., k=...)`` -> :class:`OperatorBundle` (numpy/scipy, read-only);
``OperatorCache(root).get(mesh, spec)`` the same through a verified disk cache; ``bundle.to(device, dtype)`` ->
:class:`TorchOperators` (torch sparse CSR). Names load lazily; torch is imported only by ``TorchOperators``.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'manifoldnet.operators' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value
