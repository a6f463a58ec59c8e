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

``backend="ray"`` runs the same jobs as Ray tasks on a local instance or a cluster (``address``), writing into
the same cache (:mod:`manifoldnet.data.ray_backend`, imported only then).
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

from ..operators.cache import OperatorCache
from ..operators.spec import OperatorSpec
from ..progress import progress_bar
from .jobs import WORKER_DIED, job_list, record, run_job
from .ray_backend import ray_run, require_ray

__all__ = ["BACKENDS", "PreprocessInterrupted", "PreprocessSummary", "preprocess"]

BACKENDS = ("process", "ray")


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


def preprocess(
    dataset,
    spec=None,
    cache=None,
    workers: int = 1,
    threads_per_worker: int = 1,
    progress: bool | None = None,
    pre_transform=None,
    backend: str = "process",
    address: str | None = None,
    **params,
) -> PreprocessSummary:
    """Compute and cache the bundles of every mesh of ``dataset``.

    Parameters
    ----------
    dataset : a dataset of samples with ``name`` and ``mesh`` (e.g. :func:`~manifoldnet.data.datasets.rna`,
        a :class:`~manifoldnet.data.generated.GeneratedBenchmark`) or a list of mesh file paths.
    spec, **params : the :class:`~manifoldnet.operators.OperatorSpec` (``k=128, fields=...``).
    cache : cache folder or :class:`~manifoldnet.operators.OperatorCache` (default: ``cache_root()``).
    workers : processes (``<= 1``: in this process); with ``backend="ray"`` and no cluster, the CPUs of the
        local Ray instance.
    threads_per_worker : BLAS/OpenMP threads in each worker (threadpoolctl).
    pre_transform : optional picklable function applied to each mesh before its operators are computed.
    progress : a bar over the meshes; default only when stderr is a terminal (:mod:`manifoldnet.progress`).
    backend : ``"process"`` (a local process pool, the default) or ``"ray"`` (one Ray task per mesh;
        :mod:`manifoldnet.data.ray_backend`; the cache must then be a path every Ray node can write).
    address : ``backend="ray"`` only: the cluster to join (``"auto"``, ``"HOST:PORT"``); None starts a
        local instance (or joins ``$RAY_ADDRESS``).
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"preprocess: backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}"
        )
    if address is not None and backend != "ray":
        raise ValueError(f"preprocess: address={address!r} names a Ray cluster; it needs backend='ray'")
    if backend == "ray":
        require_ray()  # a missing extra is an ImportError before any work
    spec = OperatorSpec.make(spec, **params)
    cache_dir = str(cache.root if isinstance(cache, OperatorCache) else OperatorCache(cache).root)
    jobs = job_list(dataset)
    summary = PreprocessSummary(n_jobs=len(jobs))
    t0 = time.perf_counter()
    args = (spec, cache_dir, int(threads_per_worker), pre_transform)
    try:
        with progress_bar(len(jobs), "precompute", progress, unit="mesh") as bar:
            if backend == "ray":
                ray_run(jobs, args, workers, address, summary, bar)
            elif workers <= 1:
                for job in jobs:
                    record(summary, run_job(job, *args), bar)
            else:
                retry = _pool_run(jobs, args, workers, summary, bar)
                for job in retry:  # a worker died: rerun its jobs one per fresh process to name the culprit
                    if _pool_run([job], args, 1, summary, bar):
                        summary.failed.append((job[0], WORKER_DIED))
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
        futures = {pool.submit(run_job, job, *args): job for job in jobs}
        for fut in as_completed(futures):
            try:
                record(summary, fut.result(), bar)
            except BrokenProcessPool:
                lost.append(futures[fut])
    except BaseException:  # Ctrl-C (or anything else): stop the workers now, not after their current jobs
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return lost
