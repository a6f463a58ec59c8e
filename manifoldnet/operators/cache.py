"""A disk cache of operator bundles that can be trusted.

Key: SHA-256 of the vertex bytes (float64), the face bytes (int64, or a point-cloud marker), the spec's
canonical JSON *without* ``k``, and :data:`~manifoldnet.operators.spec.OPERATOR_VERSION`. Every other spec
parameter is in the key. The number of eigenpairs is in the file name instead: an entry is
``<root>/<key>-k<K>.npz`` (``K = 0`` when the spec needs no eigenbasis), so a request for ``k`` eigenpairs is
served by the smallest stored ``K >= k``, truncated (HKS/WKS recomputed from the first ``k`` pairs, exactly as
a fresh build of ``k`` would do).

Writes are atomic: the bundle goes to a temporary file ``.<entry stem>.<random>.tmp`` in the cache folder,
is flushed and fsynced, then renamed over the entry with :func:`os.replace`; two processes writing the same
entry each rename a complete file, so one valid entry remains. Entries get the umask's mode (``0644`` under
``022``, :mod:`manifoldnet.atomic`), so a cache can be shared. A writer killed mid-write leaves its
temporary behind: every write removes the cache's temporaries older than :data:`STALE_SECONDS` (no live
writer takes an hour), and :meth:`OperatorCache.clean` (``manifoldnet cache clean``) does it on demand.

A stored checksum detects a truncated or corrupt entry: it is logged
(``logging.getLogger("manifoldnet.operators.cache")``), removed and recomputed. So is an entry that is not a
regular file (a FIFO, a link to a device; a directory is skipped, not removed): it is never opened for
reading, and a regular entry is read only up to the size it had when opened.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..mesh import Mesh
from ..paths import cache_root
from .bundle import CorruptBundleError, OperatorBundle
from .compute import as_mesh_or_points, compute_operators
from .spec import OPERATOR_VERSION, OperatorSpec

__all__ = ["STALE_SECONDS", "CacheInfo", "OperatorCache", "cache_key"]

log = logging.getLogger("manifoldnet.operators.cache")
_ENTRY = re.compile(r"^(?P<key>[0-9a-f]{64})-k(?P<k>\d+)\.npz$")
_TEMPORARY = re.compile(r"^\.[0-9a-f]{64}-k\d+\..+\.tmp$")  # what store() writes before renaming
STALE_SECONDS = 3600.0  # a temporary this old belongs to a writer that was killed


@dataclass(frozen=True)
class CacheInfo:
    """What a cache folder holds: entries and their bytes, temporaries of killed writers and their bytes
    (older than :data:`STALE_SECONDS`), temporaries of writers at work now."""

    root: Path
    entries: int = 0
    entry_bytes: int = 0
    stale_temporaries: int = 0
    stale_bytes: int = 0
    live_temporaries: int = 0


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
        if root is not None and not str(root).strip():
            raise ValueError(
                "OperatorCache: the cache root is an empty path; give a folder, or None for the default"
            )
        self.root = Path(cache_root(root))
        if self.root.exists() and not self.root.is_dir():  # refuse before any work, not when storing
            raise NotADirectoryError(errno.ENOTDIR, "the operator cache root is not a folder", str(self.root))

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
                if p.is_dir():
                    log.warning(
                        "corrupt cache entry %s (%s); skipping it (a directory is not removed)", p, exc
                    )
                    continue
                log.warning("corrupt cache entry %s (%s); removing it, it will be recomputed", p, exc)
                # removed meanwhile, or not ours to remove: skipped either way
                with contextlib.suppress(OSError):
                    p.unlink()
                continue
            if bundle.spec.replace(k=spec.k) != spec:
                log.warning("cache entry %s holds spec %s, expected %s; ignoring it", p, bundle.spec, spec)
                continue
            if spec.needs("eigenbasis"):
                return bundle.truncate(spec.k)
            if spec.needs_eigenbasis and bundle.spec.k != spec.k:
                continue  # descriptors of another K, without the eigenbasis to recompute them from
            return replace(bundle, spec=spec)
        return None

    def store(self, bundle: OperatorBundle, key: str) -> Path:
        """Write ``bundle`` under ``key`` (from :func:`cache_key` of the float64 input it was built from)
        atomically: temporary file in the same folder, fsync, :func:`os.replace`."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries(STALE_SECONDS)
        final = self.path(key, _stored_k(bundle.spec))
        return atomic_write(final, bundle.save, prefix=f".{final.stem}.", suffix=".tmp")

    def _scan(self):
        """(entries, temporaries) as lists of (path, lstat) of the regular files in the root."""
        entries, temps = [], []
        try:
            names = os.listdir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return entries, temps
        for name in names:
            kind = entries if _ENTRY.match(name) else temps if _TEMPORARY.match(name) else None
            if kind is None:
                continue
            try:
                st = os.lstat(self.root / name)
            except FileNotFoundError:
                continue
            kind.append((self.root / name, st))
        return entries, temps

    def _remove_temporaries(self, older_than: float) -> int:
        now, removed = time.time(), 0
        for p, st in self._scan()[1]:
            if now - st.st_mtime >= older_than:
                try:
                    p.unlink()
                    removed += 1
                except OSError:  # removed by another process, or not ours to remove
                    pass
        return removed

    def info(self) -> CacheInfo:
        """Counts and bytes of the entries and of the temporaries (stale: older than
        :data:`STALE_SECONDS`)."""
        entries, temps = self._scan()
        now = time.time()
        stale = [st for _, st in temps if now - st.st_mtime >= STALE_SECONDS]
        return CacheInfo(
            root=self.root,
            entries=len(entries),
            entry_bytes=sum(st.st_size for _, st in entries),
            stale_temporaries=len(stale),
            stale_bytes=sum(st.st_size for st in stale),
            live_temporaries=len(temps) - len(stale),
        )

    def clean(self, everything: bool = False, older_than: float = STALE_SECONDS) -> int:
        """Remove the temporaries older than ``older_than`` seconds (killed writers); with ``everything``,
        every entry too (the cache is then empty; other files in the folder are left alone). Returns how many
        files were removed."""
        removed = self._remove_temporaries(older_than)
        if everything:
            for p, _ in self._scan()[0]:
                try:
                    p.unlink()
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

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
