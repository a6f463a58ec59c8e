"""What the viewer reads: per-vertex arrays, labels, vertex maps, predictions, saved operator bundles,
and the feature specs of the CLI (``hks``, ``hks:4``, ``eig:10``, ``eig:1-8``, ``gauss``, a file).

Files: ``.npy``; ``.npz`` (its only array, or ``file.npz:key``); text (``.txt``, ``.csv``, ``.vts``,
``.seg``, ``.lab``, ...: one row per element, whitespace or comma separated). Every mismatch with the
mesh raises :class:`MeshError` naming the file and both sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manifoldnet import Mesh, MeshError
from manifoldnet.geometry import curvature
from manifoldnet.operators import OperatorBundle

from . import features
from ._checks import as_integers

__all__ = [
    "Field",
    "load_array",
    "load_bundle",
    "load_labels",
    "load_predictions",
    "load_vertex_map",
    "needed_eigenpairs",
    "resolve_field",
]


def _split_key(path) -> tuple[Path, str | None]:
    p = Path(path)
    if not p.exists() and ":" in str(path):
        head, key = str(path).rsplit(":", 1)
        if Path(head).exists():
            return Path(head), key
    if not p.exists():
        raise FileNotFoundError(f"no such file: {path}")
    return p, None


def load_array(path) -> np.ndarray:
    """The array stored in ``path`` (see the module docstring for formats)."""
    p, key = _split_key(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                names = list(z.files)
                if key is None:
                    if len(names) != 1:
                        raise MeshError(f"{p} holds arrays {names}: pick one as {p}:NAME")
                    key = names[0]
                if key not in names:
                    raise MeshError(f"{p} has no array {key!r} (it has {names})")
                arr = z[key]
        else:
            text = p.read_text()
            delim = "," if "," in text.split("\n", 1)[0] else None
            arr = np.loadtxt(p, delimiter=delim, ndmin=1)
    except (ValueError, OSError) as exc:
        if isinstance(exc, MeshError):
            raise
        raise MeshError(f"cannot read an array from {p}: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise MeshError(f"{p} does not hold a numeric array (dtype {arr.dtype})")
    if arr.ndim == 0 or arr.size == 0:
        raise MeshError(f"{p} holds an empty or scalar array (shape {arr.shape})")
    return arr


def load_labels(path, mesh: Mesh, offset: int = 0) -> np.ndarray:
    """Integer labels (V,) or (F,) from ``path``, plus ``offset`` (e.g. +1 for RNA's -1..258 ->
    0..259). Negative labels mean "unlabelled"."""
    arr = load_array(path)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise MeshError(f"{path}: labels must be one integer per row, got shape {arr.shape}")
    if arr.shape[0] not in (mesh.n_verts, mesh.n_faces):
        raise MeshError(
            f"{path} has {arr.shape[0]} labels, but the mesh has {mesh.n_verts} vertices "
            f"and {mesh.n_faces} faces"
        )
    return as_integers(arr, f"labels in {path}") + int(offset)


def load_vertex_map(path, n_src: int | None = None, one_based: bool | None = None) -> np.ndarray:
    """Target vertex ids (N,) from ``path``. ``.vts`` files (FAUST/BCICP correspondences) are 1-based;
    other files 0-based unless ``one_based``. With ``n_src`` the length must match."""
    arr = load_array(path)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise MeshError(f"{path}: a vertex map is one integer per row, got shape {arr.shape}")
    m = as_integers(arr, f"vertex map {path}")
    if one_based is None:
        one_based = Path(str(path)).suffix.lower() == ".vts"
    if one_based:
        if (m == 0).any():
            raise MeshError(
                f"{path} is read as 1-based but holds a 0 at row {int(np.flatnonzero(m == 0)[0])}"
            )
        m = np.where(m > 0, m - 1, -1)
    if n_src is not None and m.shape[0] != n_src:
        raise MeshError(f"{path} has {m.shape[0]} entries, expected {n_src} (one per source vertex)")
    return m


@dataclass(frozen=True)
class Predictions:
    """A predictions file read for viewing: ``labels`` (N,) and, when stored, ``scores`` (N, C)."""

    labels: np.ndarray
    scores: np.ndarray | None = None


def load_predictions(path, mesh: Mesh) -> Predictions:
    """Per-vertex (or per-face) predictions: integer labels (N,), or scores/logits (N, C) whose argmax
    is the label, or an ``.npz`` with ``pred``/``labels``/``prediction`` and optionally
    ``scores``/``logits``/``probs``."""
    p, key = _split_key(path)
    if p.suffix.lower() == ".npz" and key is None:
        with np.load(p, allow_pickle=False) as z:
            names = set(z.files)
            lab_key = next(
                (k for k in ("pred", "preds", "prediction", "predictions", "labels") if k in names), None
            )
            sc_key = next((k for k in ("scores", "logits", "probs") if k in names), None)
            if lab_key is None and sc_key is None:
                raise MeshError(f"{p} has none of pred/labels/scores/logits (it has {sorted(names)})")
            scores = np.asarray(z[sc_key], dtype=np.float64) if sc_key else None
            labels = z[lab_key] if lab_key else scores.argmax(axis=1)
    else:
        arr = load_array(path)
        if arr.ndim == 2 and arr.shape[1] > 1:
            scores, labels = arr.astype(np.float64), arr.argmax(axis=1)
        else:
            scores, labels = None, arr.reshape(-1)
    labels = as_integers(np.asarray(labels).reshape(-1), f"predictions in {path}")
    if labels.shape[0] not in (mesh.n_verts, mesh.n_faces):
        raise MeshError(
            f"{path} has {labels.shape[0]} predictions, but the mesh has {mesh.n_verts} vertices "
            f"and {mesh.n_faces} faces"
        )
    if scores is not None and scores.shape[0] != labels.shape[0]:
        raise MeshError(f"{path}: {scores.shape[0]} score rows for {labels.shape[0]} labels")
    return Predictions(labels, scores)


def load_bundle(path):
    """A saved ``OperatorBundle`` (:meth:`manifoldnet.operators.OperatorBundle.load`)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such bundle file: {path}")
    return OperatorBundle.load(p)


@dataclass(frozen=True)
class Field:
    """A resolved feature: ``values`` (N,) for one scalar or (N, C) channels, with titles; ``ids`` are
    the channels' numbers (``eig:1-8``: 1..8), which the slider shows."""

    values: np.ndarray
    title: str
    names: tuple[str, ...] | None = None
    ids: tuple[int, ...] | None = None

    @property
    def is_channels(self) -> bool:
        return self.values.ndim == 2 and self.values.shape[1] > 1


_SPEC = re.compile(r"^(hks|eig|gauss|mean)(?::(\d+)(?:-(\d+))?)?$")


def resolve_field(
    spec, mesh: Mesh, bundle=None, *, n_hks: int = 16, k_hks: int = 128, n_eig: int = 16
) -> Field:
    """A feature from a spec string or an array.

    - ``hks`` (all ``n_hks`` scales, browsable) or ``hks:I`` (scale I), from ``k_hks`` eigenpairs;
    - ``eig`` (eigenfunctions 0..n_eig-1), ``eig:I``, ``eig:I-J`` (I..J inclusive);
    - ``gauss`` / ``mean``: Gaussian (angle defect) / mean curvature per vertex;
    - a file path (``.npy``, ``.npz[:key]``, text): (N,) or (N, C) per vertex or per face;
    - an array (N,) or (N, C).
    Eigenpairs come from ``bundle`` when it holds enough of them.
    """
    if not isinstance(spec, (str, Path)):
        arr = np.asarray(spec)
        return _field_from_array(arr, mesh, "value")
    text = str(spec)
    m = _SPEC.match(text)
    if m is None:
        return _field_from_array(load_array(text), mesh, Path(text).name)
    kind, i, j = m.group(1), m.group(2), m.group(3)
    if kind in ("gauss", "mean"):
        if i is not None:
            raise MeshError(f"feature {text!r}: {kind} takes no index")
        fn = curvature.gaussian_curvature if kind == "gauss" else curvature.mean_curvature
        return Field(np.asarray(fn(mesh), dtype=np.float64), f"{kind} curvature")
    if kind == "hks":
        if j is not None:
            raise MeshError(f"feature {text!r}: use hks or hks:I (one scale)")
        if i is not None and int(i) >= n_hks:
            raise MeshError(
                f"feature {text!r}: HKS has {n_hks} scales, 0 to {n_hks - 1}; scale {i} does not exist"
            )
        n = n_hks
        h = features.heat_kernel_signature(mesh, n_times=n, k=k_hks, bundle=bundle)
        if i is None:
            scales = tuple(range(h.shape[1]))
            return Field(h, "HKS scale", tuple(f"HKS scale {t}" for t in scales), scales)
        return Field(h[:, int(i)], f"HKS scale {i}")
    lo = 0 if i is None else int(i)
    hi = (n_eig - 1) if i is None else (int(j) if j is not None else lo)
    if hi < lo:
        raise MeshError(f"feature {text!r}: empty eigenfunction range {lo}-{hi}")
    idx = np.arange(lo, hi + 1)
    ev = features.eigenfunctions(mesh, idx, bundle=bundle)
    if idx.size == 1:
        return Field(ev[:, 0], f"eigenfunction {lo}")
    ids = tuple(int(t) for t in idx)
    return Field(ev, "eigenfunction", tuple(f"eigenfunction {t}" for t in ids), ids)


def needed_eigenpairs(spec, n_verts: int, *, k_hks: int = 128, n_eig: int = 16) -> int:
    """How many eigenpairs :func:`resolve_field` needs for ``spec`` (0 for files, arrays, curvature)."""
    if not isinstance(spec, (str, Path)):
        return 0
    m = _SPEC.match(str(spec))
    if m is None or m.group(1) in ("gauss", "mean"):
        return 0
    if m.group(1) == "hks":
        return int(min(k_hks, n_verts - 1))
    i, j = m.group(2), m.group(3)
    return (n_eig if i is None else int(j if j is not None else i)) + (0 if i is None else 1)


def _field_from_array(arr: np.ndarray, mesh: Mesh, title: str) -> Field:
    if np.iscomplexobj(arr):
        raise MeshError(f"{title}: complex values cannot be shown as colour (take abs or angle first)")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or arr.shape[0] not in (mesh.n_verts, mesh.n_faces):
        raise MeshError(
            f"{title} has shape {arr.shape}, but the mesh has {mesh.n_verts} vertices and "
            f"{mesh.n_faces} faces (expected (N,) or (N, C) with N one of them)"
        )
    arr = arr.astype(np.float64)
    if arr.ndim == 1:
        return Field(arr, title)
    ids = tuple(range(arr.shape[1]))
    return Field(arr, title, tuple(f"{title} {c}" for c in ids), ids)
