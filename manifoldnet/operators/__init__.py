"""Operator bundles: named, cached, device-movable operators between geometry and learning.

``compute_operators(mesh, fields=..., k=...)`` -> :class:`OperatorBundle` (numpy/scipy, read-only);
``OperatorCache(root).get(mesh, spec)`` the same through a verified disk cache; ``bundle.to(device, dtype)``
-> :class:`TorchOperators` (torch sparse CSR). torch is imported only when a torch object is made.
"""

from __future__ import annotations

from .bundle import CorruptBundleError, OperatorBundle
from .cache import OperatorCache, cache_key
from .compute import compute_operators
from .spec import DIFFUSIONNET_FIELDS, FIELDS, GEM_FIELDS, OPERATOR_VERSION, OperatorSpec
from .torch_ops import TorchOperators

__all__ = [
    "OperatorSpec",
    "FIELDS",
    "DIFFUSIONNET_FIELDS",
    "GEM_FIELDS",
    "OPERATOR_VERSION",
    "OperatorBundle",
    "CorruptBundleError",
    "compute_operators",
    "OperatorCache",
    "cache_key",
    "TorchOperators",
]
