"""Preprocessing on a Ray cluster: ``preprocess(..., backend="ray", address=None)``.

Imported only when that backend is asked for (Ray is heavy and optional: ``pip install 'manifoldnet[ray]'``).
Each mesh is one Ray task running the process backend's job (:func:`manifoldnet.data.jobs.run_job`):
the worker reads the mesh, looks it up in the cache (a verified entry is reported ``cached`` and nothing is
computed), else computes the bundle and stores it with the cache's atomic write. So the cache folder must be
a path that every node can read and write under the same name (a shared filesystem), and a worker killed
mid-task leaves at most a temporary file, never a partial entry.

- ``address=None``: ``$RAY_ADDRESS`` when set (a job submitted with ``ray job submit``), else a new local Ray
  instance with ``num_cpus=workers``, started quietly (no dashboard, warnings only) and shut down after.
  ``address="auto"`` joins the cluster ``ray start`` started on this machine; ``"HOST:PORT"`` a remote head.
  When Ray is already initialized in this process, its connection is used and left open.
- Each task asks for ``threads_per_worker`` CPUs; at most a few tasks per cluster CPU are in flight, so a
  dataset of 100k meshes neither floods the scheduler nor makes every ``ray.wait`` scan 100k references.
- A task lost with its worker process or node is resubmitted up to :data:`MAX_RETRIES` times; a mesh whose
  worker dies every time (a crash in native code) is reported failed, and the run goes on.
- Ctrl-C cancels the tasks in flight (force-killing their workers) before :class:`PreprocessInterrupted`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re

from .jobs import WORKER_DIED, record, run_job

__all__ = ["MAX_RETRIES", "ray_run", "require_ray"]

MAX_RETRIES = 2  # resubmissions of a task whose worker process or node died (Ray's max_retries)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Ray colours its error headers
_TASKS_PER_CPU = 4  # tasks in flight per cluster CPU: enough to keep every worker busy between waits


def require_ray():
    """Import and return :mod:`ray`, or raise ImportError naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            f"backend='ray' needs Ray: pip install 'manifoldnet[ray]' (or pip install ray) ({exc})"
        ) from exc
    return ray


@contextlib.contextmanager
def ray_session(address: str | None, workers: int):
    """Connect to ``address`` (see the module docstring) or start a local instance; yield :mod:`ray`."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"logging_level": logging.WARNING, "include_dashboard": False}
    if address is None:
        # A new local instance turns on Ray's token authentication (a token in ~/.ray) and warns that it did;
        # that is its default, not news for a private instance: the one line is left out.
        auth_log = logging.getLogger("ray._private.authentication.authentication_token_setup")
        level = auth_log.level
        auth_log.setLevel(logging.ERROR)
        try:
            ray.init(address="local", num_cpus=max(int(workers), 1), **quiet)
        finally:
            auth_log.setLevel(level)
    else:
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
                raise
            raise ConnectionError(  # Ray 2.60 clients send the head's token only in token mode
                f"{exc} (if the cluster uses token authentication, set RAY_AUTH_MODE=token and give this "
                "machine its token: README, Scaling out)"
            ) from exc
    try:
        yield ray
    finally:
        ray.shutdown()  # a local instance stops; a cluster only loses this driver


def _failure(ray, job, exc) -> tuple:
    """The result tuple of a task Ray could not complete."""
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        reason = f"{WORKER_DIED}; {MAX_RETRIES + 1} attempts"
    else:  # an error Ray raised around the task (unpicklable arguments, a code mismatch between nodes, ...)
        cause = getattr(exc, "cause", None) or exc
        lines = [ln for ln in _ANSI.sub("", str(cause)).splitlines() if ln.strip()]
        reason = f"{type(cause).__name__}: {lines[-1].strip() if lines else ''}"
    return job[0], "failed", 0.0, reason


def ray_run(jobs, args, workers, address, summary, bar) -> None:
    """Run ``jobs`` (from :func:`~manifoldnet.data.jobs.job_list`) as Ray tasks, recording each result in
    ``summary`` as it completes (``args``: the arguments of :func:`~manifoldnet.data.jobs.run_job` after the
    job)."""
    threads = args[2]
    with ray_session(address, workers) as ray:
        task = ray.remote(run_job).options(
            num_cpus=threads, max_retries=MAX_RETRIES, retry_exceptions=False, name="manifoldnet-precompute"
        )
        cpus = ray.cluster_resources().get("CPU", 1.0)
        window = max(int(cpus * _TASKS_PER_CPU / threads), 2)
        todo = iter(jobs)
        pending: dict = {}

        def submit(n: int) -> None:
            for job in todo:
                pending[task.remote(job, *args)] = job
                n -= 1
                if n <= 0:
                    return

        try:
            submit(window)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    job = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        result = _failure(ray, job, exc)
                    record(summary, result, bar)
                submit(len(done))
        except BaseException:  # Ctrl-C (or anything else): stop the tasks in flight now
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
