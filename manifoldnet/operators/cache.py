"""A disk cache of operator bundles that can be trusted.

Key: SHA-256 of the vertex bytes (float64), the face bytes (int64, or a point-cloud marker), the spec's
canonical JSON *without* ``k``, and :data:`~manifoldnet.operators.spec.OPERATOR_VERSION`. Every other spec
parameter is in the key. The number of eigenpairs is in the file name instead: an entry is
``<root>/<key>-k<K>.npz`` (``K = 0`` when the spec needs no eigenbasis), so a request for ``k`` eigenpairs is
served by the smallest stored ``K >= k``, truncated (HKS/WKS recomputed from the first ``k`` pairs, exactly as
a fresh build of ``k`` would do).

Writes are atomic: the bundle goes to a temporary file in the cache folder, is flushed and fsynced, then
renamed over the entry with :func:`os.replace`; two processes writing the same entry each rename a complete
file, so one valid entry remains. A stored checksum detects a truncated or corrupt entry: it is logged
(``logging.getLogger("manifoldnet.operators.cache")``), removed and recomputed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..mesh import Mesh
from ..paths import cache_root
from .bundle import CorruptBundleError, OperatorBundle
from .compute import as_mesh_or_points, compute_operators
from .spec import OPERATOR_VERSION, OperatorSpec

__all__ = ["OperatorCache", "cache_key"]

log = logging.getLogger("manifoldnet.operators.cache")
_ENTRY = re.compile(r"^(?P<key>[0-9a-f]{64})-k(?P<k>\d+)\.npz$")


def cache_key(mesh_or_points, spec: OperatorSpec) -> str:
    """Hex SHA-256 of vertices, faces, the spec without ``k`` and the operator code version."""
    geom = as_mesh_or_points(mesh_or_points)
    h = hashlib.sha256(b"manifoldnet-operators\0" + OPERATOR_VERSION.encode() + b"\0")
    if isinstance(geom, Mesh):
        v, f = geom.verts, geom.faces
    else:
        v, f = geom, None
    v = np.ascontiguousarray(v, dtype=np.float64)
    h.update(f"verts{v.shape}".encode())
    h.update(v.reshape(-1).view(np.uint8))
    if f is None:
        h.update(b"points")
    else:
        f = np.ascontiguousarray(f, dtype=np.int64)
        h.update(f"faces{f.shape}".encode())
        h.update(f.reshape(-1).view(np.uint8))
    h.update(spec.to_json(exclude=("k",)).encode())
    return h.hexdigest()


def _stored_k(spec: OperatorSpec) -> int:
    return spec.k if spec.needs_eigenbasis else 0


class OperatorCache:
    """Operator bundles on disk under ``root`` (default :func:`manifoldnet.paths.cache_root`).

    >>> cache = OperatorCache()
    >>> ops = cache.get(mesh, k=128, fields=("mass", "laplacian", "eigenbasis", "gradient"))
    """

    def __init__(self, root=None):
        self.root = Path(cache_root(root))

    def __repr__(self) -> str:
        return f"OperatorCache({str(self.root)!r})"

    def path(self, key: str, k: int) -> Path:
        return self.root / f"{key}-k{int(k)}.npz"

    def candidates(self, key: str, k: int) -> list[Path]:
        """Stored entries of ``key`` holding at least ``k`` eigenpairs, smallest first."""
        if not self.root.is_dir():
            return []
        found = []
        for p in self.root.glob(f"{key}-k*.npz"):
            m = _ENTRY.match(p.name)
            if m and int(m["k"]) >= k:
                found.append((int(m["k"]), p))
        return [p for _, p in sorted(found)]

    def lookup(self, mesh_or_points, spec: OperatorSpec | None = None, **params) -> OperatorBundle | None:
        """The cached bundle for this input and spec, or None. Corrupt entries are logged and removed."""
        spec = OperatorSpec.make(spec, **params)
        return self._lookup(cache_key(mesh_or_points, spec), spec)

    def _lookup(self, key: str, spec: OperatorSpec) -> OperatorBundle | None:
        k = _stored_k(spec)
        for p in self.candidates(key, k):
            try:
                bundle = OperatorBundle.load(p)
            except FileNotFoundError:  # removed by another process meanwhile
                continue
            except CorruptBundleError as exc:
                log.warning("corrupt cache entry %s (%s); removing it, it will be recomputed", p, exc)
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
                continue
            if bundle.spec.replace(k=spec.k) != spec:
                log.warning("cache entry %s holds spec %s, expected %s; ignoring it", p, bundle.spec, spec)
                continue
            if spec.needs_eigenbasis:
                return bundle.truncate(spec.k)
            return replace(bundle, spec=spec)
        return None

    def store(self, bundle: OperatorBundle, key: str) -> Path:
        """Write ``bundle`` under ``key`` (from :func:`cache_key` of the float64 input it was built from)
        atomically: temporary file in the same folder, fsync, :func:`os.replace`."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.path(key, _stored_k(bundle.spec))
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{final.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                bundle.save(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return final

    def get(self, mesh_or_points, spec: OperatorSpec | None = None, **params) -> OperatorBundle:
        """The cached bundle, or compute it, store it and return it (a failed store is logged, not raised)."""
        spec = OperatorSpec.make(spec, **params)
        geom = as_mesh_or_points(mesh_or_points)
        key = cache_key(geom, spec)
        hit = self._lookup(key, spec)
        if hit is not None:
            return hit
        bundle = compute_operators(geom, spec=spec)
        try:
            self.store(bundle, key)
        except OSError as exc:  # a full or read-only disk must not lose the computed bundle
            log.warning(
                "could not store cache entry %s in %s (%s); returning the bundle uncached",
                key,
                self.root,
                exc,
            )
        return bundle

    def contains(self, mesh_or_points, spec: OperatorSpec | None = None, **params) -> bool:
        """Whether an entry that can serve this request exists (without reading or verifying it)."""
        spec = OperatorSpec.make(spec, **params)
        return bool(self.candidates(cache_key(mesh_or_points, spec), _stored_k(spec)))
