"""Mesh datasets: a generic folder dataset and readers for FAUST (remeshed, 5k) and RNA segmentation.

A dataset is a sequence of :class:`MeshSample` (``len``, indexing, iteration; meshes are read on access).
Real data is never copied into the project: readers take ``root`` or use :func:`manifoldnet.paths.data_root`
(``$MANIFOLDNET_DATA``, default ``../shared/data``) and raise ``FileNotFoundError`` saying where they looked.
:class:`OperatorDataset` pairs every sample with its cached :class:`~manifoldnet.operators.OperatorBundle`.

Conventions
-----------
``labels`` : (V,) or (F,) int64 (``label_kind`` says which), after adding the reader's ``label_offset``.
``corres`` : (N,) int64 **0-based** vertex ids; entry k of every sample of a dataset is the same point
(FAUST: the ``.vts`` files, 1-based on disk), so the ground-truth map A -> B is ``corres_A[k] -> corres_B[k]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh
from ..paths import data_root

__all__ = ["FolderDataset", "MeshSample", "OperatorDataset", "faust_5k", "read_int_file", "rna"]

MESH_SUFFIXES = (".off", ".obj", ".ply", ".stl")
FAUST_TRAIN = tuple(f"tr_reg_{i:03d}" for i in range(80))
FAUST_TEST = tuple(f"tr_reg_{i:03d}" for i in range(80, 100))
RNA_CLASSES = 260


@dataclass(frozen=True, eq=False)
class MeshSample:
    """One mesh with its optional ground truth."""

    name: str
    mesh: Mesh
    labels: np.ndarray | None = None
    label_kind: str | None = None  # "vertex" | "face"
    corres: np.ndarray | None = None


def read_int_file(path: Path) -> np.ndarray:
    """(N,) int64 from a file with one integer per line (blank lines ignored)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    tokens = text.split()
    try:
        return np.array(tokens, dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("+-").isdigit())
        raise MeshError(f"{path}: expected one integer per line, found {bad!r}") from None


class FolderDataset(Sequence):
    """Meshes in a folder, with optional labels and correspondences in sibling folders.

    Parameters
    ----------
    mesh_dir : folder of meshes (``.off``, ``.obj``, ``.ply``, ``.stl``; suffixes in any case).
    names : the mesh names to use, in order; default all meshes in ``mesh_dir``, sorted.
    labels_dir : folder of ``<name>.txt`` label files (one integer per line), or None.
    recursive : also read the meshes in subfolders; their names are paths relative to ``mesh_dir``
        (``"sub/cat"``), and their labels and correspondences sit at the same relative paths.

    Names
    -----
    A mesh's name is its file name without the suffix (its stem; with ``recursive``, the relative path
    without the suffix), unless several meshes share that stem (``box.obj`` and ``box.STL``): then each keeps
    its full file name (``"box.STL"``, ``"box.obj"``) and no file is dropped. Labels and correspondences are
    matched by name, so by stem only when the stem is unambiguous; asking for an ambiguous stem in
    ``names`` raises ``FileNotFoundError`` naming the files that share it.
    label_kind : ``"vertex"`` or ``"face"``: what the labels index (their count is checked).
    label_offset : added to every label (RNA: +1 maps [-1, 258] to [0, 259]).
    corres_dir, corres_suffix, corres_base : correspondence files ``<name><suffix>`` holding vertex ids
        starting at ``corres_base`` (FAUST: ``.vts``, 1-based); returned 0-based.
    """

    def __init__(
        self,
        mesh_dir,
        names=None,
        labels_dir=None,
        label_kind: str = "vertex",
        label_offset: int = 0,
        corres_dir=None,
        corres_suffix: str = ".vts",
        corres_base: int = 1,
        recursive: bool = False,
    ):
        self.mesh_dir = Path(mesh_dir)
        if not self.mesh_dir.is_dir():
            raise FileNotFoundError(f"mesh folder not found: {self.mesh_dir}")
        if label_kind not in ("vertex", "face"):
            raise ValueError(f"label_kind must be 'vertex' or 'face', got {label_kind!r}")
        files, shared = _mesh_files(self.mesh_dir, recursive)
        if names is None:
            names = sorted(files)
        ambiguous = [n for n in names if n in shared and n not in files]
        if ambiguous:
            n = ambiguous[0]
            raise FileNotFoundError(
                f"mesh name {n!r} is ambiguous in {self.mesh_dir}: "
                f"{' and '.join(p.name for p in shared[n])} share it; use the full file name"
            )
        missing = [n for n in names if n not in files]
        if missing:
            raise FileNotFoundError(
                f"{len(missing)} meshes missing from {self.mesh_dir}, first: {missing[0]}"
            )
        if not names:
            raise FileNotFoundError(f"no meshes ({', '.join(MESH_SUFFIXES)}) in {self.mesh_dir}")
        self.names = list(names)
        self.paths = [files[n] for n in self.names]
        self.labels_dir = None if labels_dir is None else Path(labels_dir)
        self.label_kind = label_kind if labels_dir is not None else None
        self.label_offset = int(label_offset)
        self.corres_dir = None if corres_dir is None else Path(corres_dir)
        self.corres_suffix, self.corres_base = corres_suffix, int(corres_base)
        for d in (self.labels_dir, self.corres_dir):
            if d is not None and not d.is_dir():
                raise FileNotFoundError(f"folder not found: {d}")

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.mesh_dir)!r}, {len(self)} meshes)"

    def load_mesh(self, i: int) -> Mesh:
        from ..io import load_mesh

        return load_mesh(self.paths[i])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} meshes")
        i %= len(self)
        name = self.names[i]
        mesh = self.load_mesh(i)
        labels = corres = None
        if self.labels_dir is not None:
            labels = read_int_file(self.labels_dir / f"{name}.txt") + self.label_offset
            n = mesh.n_verts if self.label_kind == "vertex" else mesh.n_faces
            if labels.shape[0] != n:
                raise MeshError(
                    f"{self.labels_dir / (name + '.txt')}: {labels.shape[0]} labels for {n} {self.label_kind}s"
                )
        if self.corres_dir is not None:
            path = self.corres_dir / f"{name}{self.corres_suffix}"
            corres = read_int_file(path) - self.corres_base
            bad = (corres < 0) | (corres >= mesh.n_verts)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise MeshError(
                    f"{path}: line {k + 1} holds vertex {corres[k] + self.corres_base} "
                    f"({self.corres_base}-based), out of range for {mesh.n_verts} vertices"
                )
        for a in (labels, corres):
            if a is not None:
                a.flags.writeable = False
        return MeshSample(name, mesh, labels, self.label_kind, corres)


def _mesh_files(folder: Path, recursive: bool) -> tuple[dict[str, Path], dict[str, list[Path]]]:
    """``({name: path}, {shared stem: paths})`` for the meshes under ``folder`` (class docstring, Names).

    Names use ``/`` between folders whatever the platform; files sharing a stem are named with the suffix."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    paths = sorted(p for p in found if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)
    by_stem: dict[str, list[Path]] = {}
    for p in paths:
        by_stem.setdefault(p.relative_to(folder).with_suffix("").as_posix(), []).append(p)
    files: dict[str, Path] = {}
    for stem, ps in by_stem.items():
        if len(ps) == 1:
            files[stem] = ps[0]
        else:
            files.update((p.relative_to(folder).as_posix(), p) for p in ps)
    shared = {stem: ps for stem, ps in by_stem.items() if len(ps) > 1}
    return files, shared


def _dataset_root(root, sub: str, what: str) -> Path:
    base = data_root(root) / sub
    if not base.is_dir():
        raise FileNotFoundError(
            f"{what} data not found at {base}: pass root= (the folder holding {sub}/) or set MANIFOLDNET_DATA"
        )
    return base


def faust_5k(root=None, split: str | None = "train") -> FolderDataset:
    """FAUST remeshed to ~5k vertices (``<root>/faust_5k``): ``off/``, 1-based ``corres/*.vts``.

    ``split``: ``"train"`` (tr_reg_000..079), ``"test"`` (080..099) or None (all 100). Subject = id // 10.
    """
    base = _dataset_root(root, "faust_5k", "FAUST (faust_5k)")
    names = {"train": FAUST_TRAIN, "test": FAUST_TEST, None: FAUST_TRAIN + FAUST_TEST}.get(split)
    if names is None:
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    return FolderDataset(
        base / "off", names=names, corres_dir=base / "corres", corres_suffix=".vts", corres_base=1
    )


def rna(root=None, split: str | None = "train") -> FolderDataset:
    """RNA surface segmentation (``<root>/rna``): per-vertex labels in [-1, 258] shifted +1 to 260 classes.

    ``split``: ``"train"`` (names in train.txt), ``"test"`` (test.txt) or None (both).
    """
    base = _dataset_root(root, "rna", "RNA segmentation (rna)")
    if split not in ("train", "test", None):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    names = []
    for s in ("train", "test") if split is None else (split,):
        names += (base / f"{s}.txt").read_text().split()
    return FolderDataset(
        base / "off", names=names, labels_dir=base / "labels", label_kind="vertex", label_offset=1
    )


class OperatorDataset(Sequence):
    """Samples of ``dataset`` with their operator bundles from ``cache`` (computed on first use).

    Item ``i`` is a dict: ``name``, ``mesh``, ``ops`` (:class:`OperatorBundle`), ``labels``, ``corres``
    (None where the dataset has none). A normalisation (e.g. :func:`~manifoldnet.data.transforms.center_and_scale`)
    given as ``pre_transform`` is applied to the mesh *before* the operators are built.
    """

    def __init__(self, dataset, spec=None, cache=None, pre_transform=None, **params):
        from ..operators import OperatorCache, OperatorSpec

        self.dataset = dataset
        self.spec = OperatorSpec.make(spec, **params)
        self.cache = cache if isinstance(cache, OperatorCache) else OperatorCache(cache)
        self.pre_transform = pre_transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i) -> dict:
        s = self.dataset[i]
        mesh = s.mesh if self.pre_transform is None else self.pre_transform(s.mesh)
        ops = self.cache.get(mesh, self.spec)
        return {
            "name": s.name,
            "mesh": mesh,
            "ops": ops,
            "labels": getattr(s, "labels", None),
            "corres": getattr(s, "corres", None),
        }
