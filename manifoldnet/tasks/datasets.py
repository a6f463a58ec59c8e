"""The data of a run: the three splits named by ``config.data``, and their operator bundles from the cache.

:func:`read_splits` reads the meshes and their ground truth (labels are checked against the mesh as they are
read: a label file of the wrong length is a ``MeshError`` naming it) into :class:`RawSample` lists;
:func:`load_bundles` computes the missing bundles in worker processes (:func:`manifoldnet.data.preprocess`)
and returns every sample's bundle from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.datasets import FolderDataset, faust_5k, rna
from ..data.generated import generated_benchmark
from ..data.preprocess import preprocess
from ..data.transforms import center_and_scale
from ..errors import MeshError
from ..mesh import Mesh
from ..operators import OperatorCache
from .config import ConfigError, DataConfig, OperatorsConfig

__all__ = ["DATASETS", "RawSample", "load_bundles", "read_splits", "unit_radius"]

DATASETS = ("generated", "rna", "faust_5k", "folder")


@dataclass(eq=False)
class RawSample:
    """One mesh and its ground truth, before operators.

    labels : (V,) or (F,) int64 (``label_kind`` ``"vertex"`` or ``"face"``), or None.
    category : the mesh's class name for classification (generated: its family; a folder: the first
        folder of its name, ``"chair/chair_0001"`` -> ``"chair"``), or None.
    path : the mesh file when it was read from one (prediction files point ``manifoldnet view`` at it).
    """

    name: str
    mesh: Mesh
    labels: np.ndarray | None = None
    label_kind: str | None = None
    corres: np.ndarray | None = None
    category: str | None = None
    path: str | None = None


def _from_folder(ds) -> list[RawSample]:
    out = []
    for i in range(len(ds)):
        s = ds[i]
        cat = s.name.split("/", 1)[0] if "/" in s.name else None
        out.append(RawSample(s.name, s.mesh, s.labels, s.label_kind, s.corres, cat, str(ds.paths[i])))
    return out


def _split_names(root: Path, split: str | None, key: str) -> list[str] | None:
    if split is None:
        return None
    path = root / split
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path} (config key {key!r})")
    return path.read_text().split()


def _read_generated(d: DataConfig) -> tuple[list, list]:
    if len(d.n_verts) != 2:
        raise ConfigError(f"config key 'data.n_verts' must be [lo, hi], got {d.n_verts}")
    bench = generated_benchmark(
        n_per_family=d.n_per_family, seed=d.seed, n_verts=tuple(d.n_verts), train_fraction=d.train_fraction
    )

    def raw(i):
        s = bench[i]
        return RawSample(s.name, s.mesh, s.global_labels, "vertex", s.corres, s.family)

    return [raw(i) for i in bench.indices("train")], [raw(i) for i in bench.indices("test")]


def _read_folder(d: DataConfig) -> tuple[list, list]:
    if d.root is None:
        raise ConfigError("data.name 'folder' needs config key 'data.root' (the folder holding the meshes)")
    root = Path(d.root)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder not found: {root} (config key 'data.root')")
    parts = []
    for split, key in ((d.train_split, "data.train_split"), (d.test_split, "data.test_split")):
        names = _split_names(root, split, key)
        if names is not None and not names:
            parts.append([])
            continue
        ds = FolderDataset(
            root / d.meshes,
            names=names,
            labels_dir=None if d.labels is None else root / d.labels,
            label_kind=d.label_kind,
            label_offset=d.label_offset,
            recursive=True,
        )
        parts.append(_from_folder(ds))
    if d.test_split is None:  # one folder, no split files: everything trains, nothing is tested
        parts[1] = []
    return parts[0], parts[1]


def read_splits(d: DataConfig) -> tuple[list, list, list]:
    """``(train, val, test)`` lists of :class:`RawSample` for ``config.data`` (see
    :class:`~manifoldnet.tasks.config.DataConfig`); ``val`` is carved from the training meshes."""
    if d.name == "generated":
        train, test = _read_generated(d)
    elif d.name == "rna":
        train, test = (_from_folder(rna(d.root, s)) for s in ("train", "test"))
    elif d.name == "faust_5k":
        train, test = (_from_folder(faust_5k(d.root, s)) for s in ("train", "test"))
    elif d.name == "folder":
        train, test = _read_folder(d)
    else:
        raise ConfigError(
            f"unknown dataset {d.name!r} (config key 'data.name'); choose from {list(DATASETS)}"
        )
    if not 0.0 <= d.val_fraction < 1.0:
        raise ConfigError(f"config key 'data.val_fraction' must be in [0, 1), got {d.val_fraction}")
    n_val = round(d.val_fraction * len(train))
    held = set(np.random.default_rng(d.split_seed).permutation(len(train))[:n_val].tolist())
    val = [s for i, s in enumerate(train) if i in held]
    train = [s for i, s in enumerate(train) if i not in held]
    if d.limit is not None:
        train, val, test = train[: d.limit], val[: d.limit], test[: d.limit]
    if not train:
        raise ConfigError(f"dataset {d.name!r} has no training meshes (config section 'data')")
    return train, val, test


def unit_radius(mesh: Mesh) -> Mesh:
    """``mesh`` moved to its area-weighted centroid and scaled so that its farthest vertex lies at distance 1
    (DiffusionNet's normalization; apply before the operators are built)."""
    A = mesh.face_areas
    total = float(A.sum())
    if not total > 0:
        raise MeshError("unit_radius: the mesh has zero total area")
    centroid = (A[:, None] * mesh.verts[mesh.faces].mean(axis=1)).sum(0) / total
    v = mesh.verts - centroid
    return mesh.with_verts(v / np.linalg.norm(v, axis=1).max())


class _Files:
    """What :func:`manifoldnet.data.preprocess` reads from a dataset of files: ``names``, ``paths``."""

    def __init__(self, samples):
        self.names = [s.name for s in samples]
        self.paths = [s.path for s in samples]

    def __len__(self) -> int:
        return len(self.names)


def load_bundles(parts, spec, o: OperatorsConfig, progress: bool | None = None) -> list:
    """``[(samples, bundles), ...]`` for each list of :class:`RawSample` in ``parts``: missing bundles are
    computed by ``o.workers`` processes first (a mesh that fails is a ``MeshError`` naming it), then every
    bundle is read from the cache ``o.cache``. Meshes are normalized first as ``o.normalize`` says."""
    cache = OperatorCache(o.cache)
    normalizers = {"radius": unit_radius, "area": center_and_scale, "none": None}
    if o.normalize not in normalizers:
        raise ConfigError(
            f"config key 'operators.normalize' must be one of {list(normalizers)}, got {o.normalize!r}"
        )
    pre = normalizers[o.normalize]
    every = [s for part in parts for s in part]
    files = all(s.path is not None for s in every)
    summary = preprocess(
        _Files(every) if files else every,
        spec,
        cache,
        workers=o.workers,
        pre_transform=pre,
        progress=progress,
    )
    if summary.failed:
        name, reason = summary.failed[0]
        raise MeshError(f"{len(summary.failed)} meshes failed preprocessing; first {name}: {reason}")
    out = []
    for part in parts:
        bundles = [cache.get(s.mesh if pre is None else pre(s.mesh), spec) for s in part]
        out.append((part, bundles))
    return out
