"""Mesh datasets: a generic folder dataset and readers for FAUST (remeshed, 5k) and RNA segmentation.

A dataset is a sequence of :class:`MeshSample` (``len``, indexing, iteration; meshes are read on access).
Real data is never copied into the project: readers take ``root`` or use :func:`manifoldnet.paths.data_root`
(``$MANIFOLDNET_DATA``, default ``../shared/data``) and raise ``FileNotFoundError`` saying where they looked.
:class:`OperatorDataset` pairs every sample with its cached :class:`~manifoldnet.operators.OperatorBundle`.

Conventions
-----------
``labels`` : (V,) or (F,) int64 (``label_kind`` says which), after adding the reader's ``label_offset``. Label
files (:data:`LABEL_SUFFIXES`): ``.seg`` / ``.eseg`` / ``.txt`` hold one integer per line
(whitespace-separated integers; integral floats such as ``3.0`` are accepted), ``.npy`` a 1D integer array.
Per vertex or per face is decided by the count (V or F) unless the dataset is told; per-edge files (MeshCNN's
``.eseg`` of E labels in MeshCNN's own edge order) are refused with a message, since that edge order is not
ours. ``corres`` : (N,) int64 **0-based** vertex ids; entry k of every sample of a dataset is the same point
(FAUST: the ``.vts`` files, 1-based on disk), so the ground-truth map A -> B is
``corres_A[k] -> corres_B[k]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MeshError
from ..io import load_mesh
from ..mesh import Mesh
from ..operators import OperatorCache, OperatorSpec
from ..paths import data_root

__all__ = [
    "LABEL_SUFFIXES",
    "FolderDataset",
    "MeshSample",
    "OperatorDataset",
    "faust_5k",
    "read_int_file",
    "read_label_file",
    "rna",
]

MESH_SUFFIXES = (".off", ".obj", ".ply", ".stl")
LABEL_SUFFIXES = (".seg", ".eseg", ".txt", ".npy")
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


def read_label_file(path) -> np.ndarray:
    """(N,) int64 labels from a ``.npy`` file (1D integer array, or integral floats) or a text file of
    integers (``.seg``, ``.eseg``, ``.txt``: whitespace-separated; ``3.0`` reads as 3).

    Raises
    ------
    MeshError
        not 1D, not numeric, or a value that is not an integer (the first one named with its position).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            a = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: file not found") from None
        except ValueError as exc:
            raise MeshError(f"{path}: not a plain numeric .npy array ({exc})") from None
    else:
        try:
            tokens = path.read_text().split()
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: file not found") from None
        try:
            return np.array(tokens, dtype=np.int64)
        except ValueError:
            pass
        try:
            a = np.array(tokens, dtype=np.float64)
        except ValueError:
            bad = next(t for t in tokens if not _is_number(t))
            raise MeshError(f"{path}: expected one integer label per line, found {bad!r}") from None
    if a.ndim == 2 and 1 in a.shape:
        a = a.reshape(-1)
    if a.ndim != 1:
        raise MeshError(f"{path}: labels must be a 1D array, got shape {a.shape}")
    if a.dtype.kind in "iub":
        return a.astype(np.int64)
    if a.dtype.kind != "f":
        raise MeshError(f"{path}: labels must be integers, got dtype {a.dtype}")
    frac = ~np.isfinite(a) | (a != np.round(a))
    if frac.any():
        i = int(np.flatnonzero(frac)[0])
        raise MeshError(f"{path}: label {i} is {a[i]}, not an integer")
    return a.astype(np.int64)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class FolderDataset(Sequence):
    """Meshes in a folder, with optional labels and correspondences in sibling folders.

    Parameters
    ----------
    mesh_dir : folder of meshes (``.off``, ``.obj``, ``.ply``, ``.stl``; suffixes in any case).
    names : the mesh names to use, in order; default all meshes in ``mesh_dir``, sorted.
    labels_dir : folder of label files ``<name>.seg``, ``.eseg``, ``.txt`` or ``.npy`` (module docstring,
        :func:`read_label_file`), or None.
    recursive : also read the meshes in subfolders; their names are paths relative to ``mesh_dir``
        (``"sub/cat"``), and their labels and correspondences sit at the same relative paths.

    Names
    -----
    A mesh's name is its file name without the suffix (its stem; with ``recursive``, the relative path
    without the suffix), unless several meshes share that stem (``box.obj`` and ``box.STL``): then each keeps
    its full file name (``"box.STL"``, ``"box.obj"``) and no file is dropped. Labels and correspondences are
    matched by name, so by stem only when the stem is unambiguous; asking for an ambiguous stem in
    ``names`` raises ``FileNotFoundError`` naming the files that share it.
    label_kind : ``"auto"`` (default): per vertex when the file holds V labels, per face when it holds F
        (V == F is refused as ambiguous: say which); ``"vertex"`` or ``"face"``: what the labels index (their
        count is checked). Each sample's ``label_kind`` says which it is.
    label_suffix : read only ``<name><label_suffix>``; default None takes whichever of :data:`LABEL_SUFFIXES`
        exists (two present for one mesh is an error naming both).
    label_offset : added to every label (RNA: +1 maps [-1, 258] to [0, 259]).
    corres_dir, corres_suffix, corres_base : correspondence files ``<name><suffix>`` holding vertex ids
        starting at ``corres_base`` (FAUST: ``.vts``, 1-based); returned 0-based.
    """

    def __init__(
        self,
        mesh_dir,
        names=None,
        labels_dir=None,
        label_kind: str = "auto",
        label_offset: int = 0,
        corres_dir=None,
        corres_suffix: str = ".vts",
        corres_base: int = 1,
        recursive: bool = False,
        label_suffix: str | None = None,
    ):
        self.mesh_dir = Path(mesh_dir)
        if not self.mesh_dir.is_dir():
            raise FileNotFoundError(f"mesh folder not found: {self.mesh_dir}")
        if label_kind not in ("auto", "vertex", "face"):
            raise ValueError(f"label_kind must be 'auto', 'vertex' or 'face', got {label_kind!r}")
        if label_suffix is not None and label_suffix.lower() not in LABEL_SUFFIXES:
            raise ValueError(f"label_suffix must be None or one of {LABEL_SUFFIXES}, got {label_suffix!r}")
        self.label_suffix = label_suffix
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
        label_kind = None
        if self.labels_dir is not None:
            path = self.label_path(name)
            labels = read_label_file(path) + self.label_offset
            label_kind = _label_kind(path, labels.shape[0], mesh, self.label_kind)
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
        return MeshSample(name, mesh, labels, label_kind, corres)

    def label_path(self, name: str) -> Path:
        """The label file of mesh ``name`` (``FileNotFoundError`` naming the
        candidates when there is none)."""
        suffixes = LABEL_SUFFIXES if self.label_suffix is None else (self.label_suffix,)
        found = [
            self.labels_dir / f"{name}{s}" for s in suffixes if (self.labels_dir / f"{name}{s}").is_file()
        ]
        if not found:
            raise FileNotFoundError(
                f"no label file for {name!r} in {self.labels_dir} (looked for {name}{'|'.join(suffixes)})"
            )
        if len(found) > 1:
            raise MeshError(
                f"several label files for {name!r}: {', '.join(p.name for p in found)}; "
                "keep one or pass label_suffix="
            )
        return found[0]


def _label_kind(path: Path, n: int, mesh: Mesh, kind: str) -> str:
    """``"vertex"`` or ``"face"`` for ``n`` labels of ``mesh`` (FolderDataset's ``label_kind`` rule)."""
    V, F = mesh.n_verts, mesh.n_faces
    if kind == "auto":
        if n == V and n == F:
            raise MeshError(
                f"{path}: {n} labels match both the {V} vertices and the {F} faces: pass label_kind="
            )
        if n in (V, F):
            return "vertex" if n == V else "face"
        edges = (
            "; they match its edges, but per-edge labels (MeshCNN .eseg) are not supported"
            if n == mesh.n_edges
            else ""
        )
        raise MeshError(f"{path}: {n} labels match neither the mesh's {V} vertices nor its {F} faces{edges}")
    want = V if kind == "vertex" else F
    if n != want:
        raise MeshError(f"{path}: {n} labels for {want} {'vertices' if kind == 'vertex' else 'faces'}")
    return kind


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

    Item ``i`` is a dict: ``name``, ``mesh``, ``ops`` (:class:`OperatorBundle`), ``labels``, ``label_kind``
    (``"vertex"`` or ``"face"``), ``corres`` (None where the dataset has none). A normalisation (e.g.
    :func:`~manifoldnet.data.transforms.center_and_scale`) given as ``pre_transform`` is applied to the mesh
    *before* the operators are built.
    """

    def __init__(self, dataset, spec=None, cache=None, pre_transform=None, **params):
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
            "label_kind": getattr(s, "label_kind", None),
            "corres": getattr(s, "corres", None),
        }
