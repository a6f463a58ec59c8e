"""Datasets, the generated benchmark, preprocessing, batching and transforms.

torch (batching, transforms) and torch_geometric (:func:`to_pyg`) are imported by the functions that use them.
"""

from __future__ import annotations

from .batch import collate, collate_operators
from .datasets import FolderDataset, MeshSample, OperatorDataset, faust_5k, rna
from .generated import (
    GeneratedBenchmark,
    GeneratedShape,
    family_template,
    generate_shape,
    generated_benchmark,
)
from .preprocess import PreprocessSummary, preprocess
from .pyg import to_pyg
from .transforms import (
    augment_features,
    center_and_scale,
    feature_fields,
    input_features,
    normalized_xyz,
    random_rotations,
)

__all__ = [
    "FolderDataset",
    "MeshSample",
    "OperatorDataset",
    "faust_5k",
    "rna",
    "GeneratedBenchmark",
    "GeneratedShape",
    "generate_shape",
    "generated_benchmark",
    "family_template",
    "preprocess",
    "PreprocessSummary",
    "collate",
    "collate_operators",
    "to_pyg",
    "center_and_scale",
    "input_features",
    "feature_fields",
    "normalized_xyz",
    "augment_features",
    "random_rotations",
]
