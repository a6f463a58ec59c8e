"""The jobs of :func:`~manifoldnet.data.preprocess.preprocess`, shared by its backends (the process pool and
:mod:`~manifoldnet.data.ray_backend`): the job list of a dataset, the job a worker runs on one mesh, and how
its result is recorded in the summary and the progress bar.

A job is ``(name, source)``: a mesh file path (read in the worker) or ``(verts, faces)`` arrays. A worker's
result is ``(name, status, seconds, reason)`` with status ``"computed"``, ``"cached"`` or ``"failed"``.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..io import load_mesh
from ..mesh import Mesh
from ..operators.cache import OperatorCache, cache_key
from ..operators.compute import compute_operators

__all__ = ["WORKER_DIED", "job_list", "record", "run_job"]

WORKER_DIED = "the worker process died (crash in native code)"


def job_list(dataset) -> list[tuple]:
    """(name, source) per mesh: a file path when the dataset reads files (read in the worker), else arrays."""
    paths = getattr(dataset, "paths", None)
    names = getattr(dataset, "names", None)
    if paths is not None and names is not None and len(paths) == len(dataset):
        return [(n, str(p)) for n, p in zip(names, paths, strict=True)]
    if all(isinstance(x, (str, Path)) for x in dataset):
        return [(Path(x).stem, str(x)) for x in dataset]
    out = []
    for s in dataset:
        out.append((s.name, (s.mesh.verts, s.mesh.faces)))
    return out


def run_job(job, spec, cache_dir, threads, pre_transform):
    """Worker: -> (name, status, seconds, reason). Never raises for a bad mesh."""
    from threadpoolctl import threadpool_limits

    name, source = job
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=threads):
            mesh = load_mesh(source) if isinstance(source, str) else Mesh(*source)
            if pre_transform is not None:
                mesh = pre_transform(mesh)
            cache = OperatorCache(cache_dir)
            key = cache_key(mesh, spec)
            if cache._lookup(key, spec) is not None:
                return name, "cached", time.perf_counter() - t0, ""
            bundle = compute_operators(mesh, spec=spec)
            cache.store(bundle, key)
    except Exception as exc:  # noqa: BLE001 - any failure of one mesh is reported and skipped; the others go on
        return name, "failed", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"
    return name, "computed", time.perf_counter() - t0, ""


def record(summary, result, bar) -> None:
    """Add a worker's ``result`` to ``summary`` (a :class:`~manifoldnet.data.preprocess.PreprocessSummary`)
    and advance ``bar``."""
    name, status, seconds, reason = result
    if status == "computed":
        summary.computed.append(name)
        summary.compute_seconds[name] = seconds
    elif status == "cached":
        summary.cached.append(name)
    else:
        summary.failed.append((name, reason))
    bar.update(1)
    bar.set_postfix(failed=len(summary.failed), refresh=False)
