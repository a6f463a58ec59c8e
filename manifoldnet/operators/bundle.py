"""``OperatorBundle``: the one object between geometry and learning (frozen, named, read-only fields).

Storage: arrays are computed in float64 and stored in ``spec.dtype`` (float32 by default; ``evals`` stay
float64; indices are int64). Fields that were not asked for are ``None``. Every array is read-only, so a
bundle served from the cache can never be corrupted by a caller.

On disk (:meth:`OperatorBundle.save` / :meth:`OperatorBundle.load`): one uncompressed ``.npz`` read with
``allow_pickle=False``. Dense fields are stored under their names, a sparse CSR matrix ``X`` as ``X.data``,
``X.indices``, ``X.indptr``, ``X.shape``; ``__spec__`` holds the spec's canonical JSON and ``__version__`` the
operator code version (both as uint8 bytes), ``__checksum__`` a hash of every other entry (name, dtype,
shape, bytes), so a truncated or altered file is detected on load (:class:`CorruptBundleError`); see
:mod:`manifoldnet.operators.storage` (aligned members, read in place with one system call).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from .casting import descriptors_from_eigenbasis
from .fields import ARRAY_TABLE
from .spec import OPERATOR_VERSION, OperatorSpec
from .storage import StorageError, read_arrays, write_arrays
from .torch_ops import TorchOperators

__all__ = ["ARRAY_FIELDS", "SPARSE_FIELDS", "CorruptBundleError", "OperatorBundle"]

# Derived from the field table; a bundle writes dense arrays, then CSR ones, each in table order.
ARRAY_FIELDS = tuple(name for name, a in ARRAY_TABLE.items() if a.kind != "csr")
SPARSE_FIELDS = tuple(name for name, a in ARRAY_TABLE.items() if a.kind == "csr")


class CorruptBundleError(MeshError):
    """A stored bundle that cannot be trusted: truncated, altered, unreadable or from another code version."""


def _freeze(a):
    if a is None:
        return None
    if sp.issparse(a):
        a = sp.csr_matrix(a)
        for arr in (a.data, a.indices, a.indptr):
            arr.flags.writeable = False
        return a
    a = np.asarray(a)
    if a.flags.writeable:
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class OperatorBundle:
    """Operators of one mesh (or point cloud): one attribute per array of the field table.

    Attributes
    ----------
    spec : the :class:`OperatorSpec` that built it; version : the operator code version.
    verts, faces, mass, laplacian, evals, evecs, ... : the arrays of
        :data:`~manifoldnet.operators.fields.ARRAY_TABLE` (shape rule, kind and meaning there), None when not
        held: ``verts`` (V, 3) always, ``faces`` (F, 3) int64 for a mesh, the others as ``spec.fields`` asks.
        Sparse operators are scipy CSR, e.g. ``laplacian`` (V, V); ``evals`` (K,) is always float64.
    """

    spec: OperatorSpec
    verts: np.ndarray
    faces: np.ndarray | None = None
    mass: np.ndarray | None = None
    laplacian: sp.csr_matrix | None = None
    evals: np.ndarray | None = None
    evecs: np.ndarray | None = None
    hks: np.ndarray | None = None
    wks: np.ndarray | None = None
    normals: np.ndarray | None = None
    frames: np.ndarray | None = None
    grad_x: sp.csr_matrix | None = None
    grad_y: sp.csr_matrix | None = None
    edge_index: np.ndarray | None = None
    logmap_r: np.ndarray | None = None
    logmap_theta: np.ndarray | None = None
    transport_rho: np.ndarray | None = None
    patch_index: np.ndarray | None = None
    patch_r: np.ndarray | None = None
    patch_theta: np.ndarray | None = None
    patch_rho: np.ndarray | None = None
    version: str = OPERATOR_VERSION

    def __post_init__(self):
        for name in ARRAY_TABLE:
            object.__setattr__(self, name, _freeze(getattr(self, name)))

    # ------------------------------------------------------------------ info
    @property
    def n_verts(self) -> int:
        return int(self.verts.shape[0])

    @property
    def k(self) -> int | None:
        """Number of eigenpairs held (None without an eigenbasis)."""
        return None if self.evals is None else int(self.evals.shape[0])

    def __repr__(self) -> str:
        held = [name for name in ARRAY_TABLE if getattr(self, name) is not None]
        return f"OperatorBundle(V={self.n_verts}, fields={held})"

    def arrays(self) -> dict:
        """Name -> value of every array held (sparse matrices as scipy CSR): dense arrays, then CSR ones."""
        out = {}
        for name in ARRAY_FIELDS + SPARSE_FIELDS:
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out

    # ------------------------------------------------------------- transform
    def truncate(self, k: int) -> OperatorBundle:
        """The same bundle with the first ``k`` eigenpairs (HKS/WKS recomputed from them, as
        a fresh build would)."""
        if self.evals is None:
            raise ValueError("truncate(k): this bundle holds no eigenbasis")
        if k > self.k:
            raise ValueError(f"truncate(k={k}): the bundle holds only {self.k} eigenpairs")
        if k == self.k:
            return self
        evals = np.array(self.evals[:k])
        evecs = np.ascontiguousarray(self.evecs[:, :k])
        spec = self.spec.replace(k=k)
        hks, wks = descriptors_from_eigenbasis(spec, evals, evecs)
        return replace(self, spec=spec, evals=evals, evecs=evecs, hks=hks, wks=wks)

    def to(self, device=None, dtype=None):
        """A torch-side :class:`~manifoldnet.operators.TorchOperators` (sparse CSR tensors) on ``device``."""
        return TorchOperators.from_bundle(self, device=device, dtype=dtype)

    # ------------------------------------------------------------------- I/O
    def _entries(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, v in self.arrays().items():
            if sp.issparse(v):
                out[f"{name}.data"] = v.data
                out[f"{name}.indices"] = v.indices
                out[f"{name}.indptr"] = v.indptr
                out[f"{name}.shape"] = np.asarray(v.shape, dtype=np.int64)
            else:
                out[name] = v
        out["__spec__"] = np.frombuffer(self.spec.to_json().encode(), dtype=np.uint8)
        out["__version__"] = np.frombuffer(self.version.encode(), dtype=np.uint8)
        return out

    def save(self, path_or_file) -> None:
        """Write to ``path_or_file`` (a path or a binary, seekable file object) as a verified ``.npz``.

        Not atomic by itself: :class:`~manifoldnet.operators.OperatorCache` writes to a
        temporary file and renames.
        """
        if isinstance(path_or_file, (str, os.PathLike)):
            with open(path_or_file, "wb") as fh:
                write_arrays(fh, self._entries())
        else:
            write_arrays(path_or_file, self._entries())

    @classmethod
    def load(cls, path, expect_version: str | None = OPERATOR_VERSION) -> OperatorBundle:
        """Read a bundle written by :meth:`save`; arrays are read-only.

        Raises :class:`CorruptBundleError` if the file is truncated, altered, not a bundle, or (unless
        ``expect_version=None``) was written by another operator code version; FileNotFoundError if absent.
        """
        try:
            entries = read_arrays(path)
        except StorageError as exc:
            raise CorruptBundleError(f"{path}: unreadable operator bundle ({exc})") from exc
        if "__spec__" not in entries or "__version__" not in entries or "verts" not in entries:
            raise CorruptBundleError(f"{path}: not an operator bundle (no spec, version or verts entry)")
        version = bytes(entries.pop("__version__")).decode()
        if expect_version is not None and version != expect_version:
            raise CorruptBundleError(
                f"{path}: written by operator version {version}, expected {expect_version}"
            )
        try:
            spec = OperatorSpec.from_json(bytes(entries.pop("__spec__")).decode())
        except ValueError as exc:
            raise CorruptBundleError(f"{path}: invalid spec ({exc})") from exc
        kw: dict = {}
        for name in SPARSE_FIELDS:
            if f"{name}.data" in entries:
                shape = tuple(int(s) for s in entries[f"{name}.shape"])
                m = sp.csr_matrix(shape, dtype=entries[f"{name}.data"].dtype)
                m.data, m.indices, m.indptr = (entries[f"{name}.{p}"] for p in ("data", "indices", "indptr"))
                kw[name] = m
        for name in ARRAY_FIELDS:
            if name in entries:
                kw[name] = entries[name]
        return cls(spec=spec, version=version, **kw)
