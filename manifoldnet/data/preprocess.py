"""Precompute the operator bundles of a dataset in worker processes, resumably.

``preprocess(dataset, spec, cache=..., workers=N)`` sends one job per mesh to a pool of ``spawn`` processes
(safe on every platform, no inherited state; call it under ``if __name__ == "__main__":`` in a script).
Each worker limits its BLAS/OpenMP threads with threadpoolctl (``threads_per_worker``, default 1, so
``workers`` processes use ``workers`` cores). A job reads its mesh (files are read in the worker), looks the
bundle up in the cache (a valid entry is skipped: preprocessing resumes where it stopped) and computes and
stores it otherwise. A mesh that fails is reported with its reason and skipped; the others go on. If a worker
process dies (a crash in native code), the jobs it left are retried one per fresh process, so the crashing
mesh is named and the rest complete. A tqdm progress bar shows progress (on a terminal); a
:class:`PreprocessSummary` is returned (and printed by the CLI).

Signals (issue 18 item 13): workers die with their parent, whatever kills it (SIGKILL included): on Linux the
kernel sends them SIGKILL (``PR_SET_PDEATHSIG``), elsewhere a watchdog thread in each worker exits when its
parent process changes. Workers ignore SIGINT; Ctrl-C in the parent stops the workers (jobs in flight are
lost, finished entries stay in the cache) and raises :class:`PreprocessInterrupted`, a ``KeyboardInterrupt``
that carries the summary so far (how many meshes were done, found cached and left).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import progress_bar

__all__ = ["PreprocessInterrupted", "PreprocessSummary", "preprocess"]


@dataclass
class PreprocessSummary:
    """Outcome of :func:`preprocess`: names computed, found in the cache, failed (with reasons)."""

    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    compute_seconds: dict[str, float] = field(default_factory=dict)
    n_jobs: int = 0
    interrupted: bool = False

    @property
    def n_total(self) -> int:
        return len(self.computed) + len(self.cached) + len(self.failed)

    @property
    def n_left(self) -> int:
        """Meshes not processed (only after an interruption)."""
        return max(self.n_jobs - self.n_total, 0)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def __str__(self) -> str:
        head = (
            f"{self.n_total} meshes in {self.seconds:.1f} s: {len(self.computed)} computed, "
            f"{len(self.cached)} already cached, {len(self.failed)} failed"
        )
        if self.interrupted:
            head = f"interrupted: {head}, {self.n_left} left (rerun to resume)"
        lines = [head]
        if self.compute_seconds:
            t = sorted(self.compute_seconds.values())
            lines.append(f"compute time per mesh: median {t[len(t) // 2]:.2f} s, max {t[-1]:.2f} s")
        lines += [f"  FAILED {name}: {reason}" for name, reason in self.failed]
        return "\n".join(lines)


class PreprocessInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`preprocess`; ``summary`` holds what was done before it."""

    def __init__(self, summary: PreprocessSummary):
        super().__init__(str(summary))
        self.summary = summary


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit when the parent process ``parent`` goes away; ignore Ctrl-C (the parent
    handles it and stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: the kernel kills us with the parent
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch():  # portable fallback (macOS, BSD; also covers a parent thread exiting on Linux)
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="manifoldnet-parent-watchdog", daemon=True).start()


def _jobs(dataset) -> list[tuple]:
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


def _run_job(job, spec, cache_dir, threads, pre_transform):
    """Worker: -> (name, status, seconds, reason). Never raises for a bad mesh."""
    from threadpoolctl import threadpool_limits

    from ..mesh import Mesh
    from ..operators.cache import OperatorCache, cache_key
    from ..operators.compute import compute_operators

    name, source = job
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=threads):
            if isinstance(source, str):
                from ..io import load_mesh

                mesh = load_mesh(source)
            else:
                mesh = Mesh(*source)
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


def _record(summary: PreprocessSummary, result, bar) -> None:
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


def preprocess(
    dataset,
    spec=None,
    cache=None,
    workers: int = 1,
    threads_per_worker: int = 1,
    progress: bool | None = None,
    pre_transform=None,
    **params,
) -> PreprocessSummary:
    """Compute and cache the bundles of every mesh of ``dataset``.

    Parameters
    ----------
    dataset : a dataset of samples with ``name`` and ``mesh`` (e.g. :func:`~manifoldnet.data.datasets.rna`,
        a :class:`~manifoldnet.data.generated.GeneratedBenchmark`) or a list of mesh file paths.
    spec, **params : the :class:`~manifoldnet.operators.OperatorSpec` (``k=128, fields=...``).
    cache : cache folder or :class:`~manifoldnet.operators.OperatorCache` (default: ``cache_root()``).
    workers : processes (``<= 1``: in this process).
    threads_per_worker : BLAS/OpenMP threads in each worker (threadpoolctl).
    pre_transform : optional picklable function applied to each mesh before its operators are computed.
    progress : a bar over the meshes; default only when stderr is a terminal (:mod:`manifoldnet.progress`).
    """
    from ..operators.cache import OperatorCache
    from ..operators.spec import OperatorSpec

    spec = OperatorSpec.make(spec, **params)
    cache_dir = str(cache.root if isinstance(cache, OperatorCache) else OperatorCache(cache).root)
    jobs = _jobs(dataset)
    summary = PreprocessSummary(n_jobs=len(jobs))
    t0 = time.perf_counter()
    args = (spec, cache_dir, int(threads_per_worker), pre_transform)
    try:
        with progress_bar(len(jobs), "precompute", progress, unit="mesh") as bar:
            if workers <= 1:
                for job in jobs:
                    _record(summary, _run_job(job, *args), bar)
            else:
                retry = _pool_run(jobs, args, workers, summary, bar)
                for job in retry:  # a worker died: rerun its jobs one per fresh process to name the culprit
                    if _pool_run([job], args, 1, summary, bar):
                        summary.failed.append((job[0], "the worker process died (crash in native code)"))
                        bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.seconds = time.perf_counter() - t0
        raise PreprocessInterrupted(summary) from None
    summary.seconds = time.perf_counter() - t0
    return summary


def _pool_run(jobs, args, workers, summary, bar) -> list:
    """Run ``jobs`` in a spawn pool; returns the jobs lost to a dead worker."""
    lost = []
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=ctx,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = {pool.submit(_run_job, job, *args): job for job in jobs}
        for fut in as_completed(futures):
            try:
                _record(summary, fut.result(), bar)
            except BrokenProcessPool:
                lost.append(futures[fut])
    except BaseException:  # Ctrl-C (or anything else): stop the workers now, not after their current jobs
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return lost
