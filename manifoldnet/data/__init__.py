"""Datasets, the generated benchmark, preprocessing, batching and transforms (names load lazily)."""

from __future__ import annotations

from ..lazy import lazy_exports

# Bound eagerly: importing the submodule ``manifoldnet.data.preprocess`` would otherwise rebind this name.
from .preprocess import preprocess  # noqa: F401

_LAZY = {
    "FolderDataset": "datasets",
    "MeshSample": "datasets",
    "OperatorDataset": "datasets",
    "faust_5k": "datasets",
    "rna": "datasets",
    "GeneratedBenchmark": "generated",
    "GeneratedShape": "generated",
    "generate_shape": "generated",
    "generated_benchmark": "generated",
    "family_template": "generated",
    "preprocess": "preprocess",
    "PreprocessSummary": "preprocess",
    "collate": "batch",
    "collate_operators": "batch",
    "to_pyg": "pyg",
    "center_and_scale": "transforms",
    "input_features": "transforms",
    "feature_fields": "transforms",
    "normalized_xyz": "transforms",
    "augment_features": "transforms",
    "random_rotations": "transforms",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
