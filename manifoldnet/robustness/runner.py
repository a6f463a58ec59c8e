"""The sweep runner: every case (a pathology or a mesh file) x every registered operator, each in a subprocess
worker with a timeout, classified into a status.

Statuses
--------
OK         finite, and every identity the operator's checker knows holds.
MESHERROR  a :class:`MeshError` whose message names the problem (an accepted refusal).
VAGUE      a :class:`MeshError` whose message does not name the problem (failure).
REFUSED    a :class:`MeshError` on a mesh that must work (the clean base at any scale; failure).
CRASH      any other exception, or the worker died (segfault, abort, out of memory; failure).
HANG       the operator ran past the timeout; the worker is killed and replaced (failure).
NAN        the result holds NaN (or inf where the operator does not allow it; failure).
MISMATCH   an array of the wrong shape (failure).
WRONG      finite, right shapes, but an identity fails (a silent wrong answer; failure).
SKIP       the operator's module is not installed, or the mesh is larger than its ``max_verts``.

Workers are long-lived spawned processes (one mesh is built once per case and reused by every operator);
a worker that crashes or hangs is replaced and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..io import load_mesh
from ..shapes import icosphere
from ..testing import PATHOLOGIES, ShapeMismatch, assert_finite, make_pathology
from .registry import get_operator, operator_names

__all__ = ["FAILURES", "STATUSES", "Case", "Result", "execute", "file_cases", "pathology_cases", "run_sweep"]

STATUSES = ("OK", "MESHERROR", "SKIP", "VAGUE", "REFUSED", "CRASH", "HANG", "NAN", "MISMATCH", "WRONG")
FAILURES = frozenset({"VAGUE", "REFUSED", "CRASH", "HANG", "NAN", "MISMATCH", "WRONG"})
MUST_WORK = frozenset({"clean", "huge_scale", "tiny_scale", "far_from_origin"})

# words that make a MeshError about a mesh file (whose pathology is not known in advance) name its problem
_FILE_KEYWORDS = (
    "empty", "face", "vert", "index", "component", "manifold", "boundary", "degenerate", "area", "format",
    "parse", "finite", "nan", "polygon", "triangle", "duplicate", "unreferenced", "orient", "edge", "header",
    "cannot", "unsupported", "point", "read", "line",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """A mesh to sweep: ``kind="pathology"`` (``arg`` a pathology name, on an icosphere of ``subdivisions``)
    or ``kind="file"`` (``arg`` a path, read with :func:`manifoldnet.io.load_mesh`)."""

    label: str
    kind: str
    arg: str
    seed: int = 0
    subdivisions: int = 2


@dataclass
class Result:
    case: str
    operator: str
    status: str
    message: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in FAILURES


def pathology_cases(names=None, seed: int = 0, subdivisions: int = 2) -> list[Case]:
    """One :class:`Case` per pathology name (default: all of :data:`manifoldnet.testing.PATHOLOGIES`)."""
    names = list(names or PATHOLOGIES)
    for n in names:
        if n not in PATHOLOGIES:
            raise KeyError(f"unknown pathology {n!r}; known: {', '.join(PATHOLOGIES)}")
    return [Case(n, "pathology", n, seed, subdivisions) for n in names]


def file_cases(paths, root=None) -> list[Case]:
    """One :class:`Case` per mesh file; labels are paths relative to ``root`` when given."""
    out = []
    for p in paths:
        label = os.path.relpath(p, root) if root else str(p)
        out.append(Case(label, "file", str(p)))
    return out


# ------------------------------------------------------------------------------------------------ worker side
_MESH_CACHE: dict = {}


def _build(case: Case):
    """(mesh, keywords, must_work); raises MeshError (or anything a loader raises)."""
    if case in _MESH_CACHE:
        return _MESH_CACHE[case]
    _MESH_CACHE.clear()
    if case.kind == "pathology":
        p = make_pathology(case.arg, icosphere(case.subdivisions), seed=case.seed)
        keywords, must_work = p.keywords, case.arg in MUST_WORK
        try:
            mesh = p.mesh()
        except MeshError as e:
            out = (e, keywords, must_work)
        else:
            out = (mesh, keywords, must_work)
    elif case.kind == "file":
        try:
            out = (load_mesh(case.arg), _FILE_KEYWORDS, False)
        except MeshError as e:
            out = (e, _FILE_KEYWORDS, False)
    else:
        raise ValueError(f"unknown case kind {case.kind!r}")
    _MESH_CACHE[case] = out
    return out


def _walk_arrays(x, path="result", depth=0):
    """Yield (path, array-like) for every ndarray / sparse matrix / tensor inside ``x``."""
    if depth > 4 or x is None:
        return
    if isinstance(x, np.ndarray) or sp.issparse(x) or hasattr(x, "detach"):
        yield path, x
    elif isinstance(x, (tuple, list)):
        for i, y in enumerate(x):
            yield from _walk_arrays(y, f"{path}[{i}]", depth + 1)
    elif isinstance(x, dict):
        for k, y in x.items():
            yield from _walk_arrays(y, f"{path}[{k!r}]", depth + 1)
    elif hasattr(x, "__dataclass_fields__"):
        for k in x.__dataclass_fields__:
            yield from _walk_arrays(getattr(x, k, None), f"{path}.{k}", depth + 1)


def _named(message: str, keywords) -> bool:
    msg = message.lower()
    return bool(msg.strip()) and (not keywords or any(k in msg for k in keywords))


def execute(case: Case, op_name: str) -> Result:
    """Run one operator on one case in this process and classify the outcome (never raises)."""
    t0 = time.perf_counter()

    def res(status, msg="", **extra):
        return Result(case.label, op_name, status, msg, time.perf_counter() - t0, extra)

    try:
        built, keywords, must_work = _build(case)
    except Exception as e:  # noqa: BLE001 -- a loader that crashes is a finding, reported against every operator
        return res("CRASH", f"building the mesh: {type(e).__name__}: {e}")
    if isinstance(built, MeshError):
        return res("MESHERROR" if _named(str(built), keywords) else "VAGUE", f"Mesh: {built}")
    mesh = built
    op = get_operator(op_name)
    if op.max_verts is not None and mesh.n_verts > op.max_verts:
        return res("SKIP", f"{mesh.n_verts} vertices > max_verts {op.max_verts}")
    try:
        with np.errstate(all="ignore"):
            out = op.run(mesh)
    except ModuleNotFoundError as e:
        if (e.name or "").startswith("manifoldnet"):
            return res("SKIP", f"not available: {e}")
        return res("CRASH", f"ModuleNotFoundError: {e}")
    except MeshError as e:
        if must_work:
            return res("REFUSED", f"{type(e).__name__}: {e}")
        return res("MESHERROR" if _named(str(e), keywords) else "VAGUE", f"{type(e).__name__}: {e}")
    except Exception as e:  # noqa: BLE001 -- any other exception is the CRASH we classify
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        return res("CRASH", f"{type(e).__name__}: {e}{where}")
    t_run = time.perf_counter() - t0
    try:
        for path, arr in _walk_arrays(out):
            assert_finite(arr, path, allow_inf=op.allow_inf)
    except AssertionError as e:
        return res("NAN", str(e))
    try:
        if op.check is not None:
            with np.errstate(all="ignore"):
                op.check(mesh, out)
    except ShapeMismatch as e:
        return res("MISMATCH", str(e))
    except AssertionError as e:
        return res("WRONG", str(e))
    except MeshError as e:  # the checker's reference computation refused the mesh: not the operator's fault
        return res("OK", f"(identities not checked: {e})")
    except Exception as e:  # noqa: BLE001 -- any other exception is the CRASH we classify
        return res("WRONG", f"checker raised {type(e).__name__}: {e}")
    r = res("OK")
    r.seconds = t_run
    return r


def import_module_or_file(name: str):
    """Import a module by dotted name, or a ``.py`` file by path (its registrations run on import)."""
    if not name.endswith(".py"):
        return importlib.import_module(name)
    mod_name = "_mn_robustness_" + os.path.splitext(os.path.basename(name))[0]
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, name)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    return mod


def _worker_main(conn, modules) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for m in modules:
        import_module_or_file(m)
    conn.send("ready")
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        case, op = msg
        conn.send(asdict(execute(case, op)))


# ------------------------------------------------------------------------------------------------ parent side
class _Worker:
    """A spawned worker process with a pipe; replaced after a crash or a hang."""

    def __init__(self, ctx, modules):
        self.ctx, self.modules, self.proc, self.conn = ctx, modules, None, None

    def start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker_main, args=(child, self.modules), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        if not parent.poll(120) or parent.recv() != "ready":
            raise RuntimeError("robustness worker failed to start")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()
        self.proc = self.conn = None

    def run(self, case: Case, op: str, timeout: float) -> Result:
        if self.proc is None:
            self.start()
        t0 = time.perf_counter()
        self.conn.send((case, op))
        if self.conn.poll(timeout):
            try:
                return Result(**self.conn.recv())
            except (EOFError, OSError):
                pass
            self.proc.join(5)
            code = self.proc.exitcode
            self.stop(kill=True)
            why = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
            try:
                if code is not None and code < 0:
                    why = f"worker {why} ({signal.Signals(-code).name})"
            except ValueError:
                pass
            return Result(case.label, op, "CRASH", why, time.perf_counter() - t0)
        self.stop(kill=True)
        return Result(case.label, op, "HANG", f"no result after {timeout:g} s (worker killed)", timeout)


def run_sweep(
    cases, operators=None, *, timeout: float = 60.0, workers: int = 2, modules=(), progress=None
) -> list:
    """Run every case x every operator (names or patterns; default all) in ``workers`` (<= 2) subprocesses.

    ``modules``: dotted names or ``.py`` paths imported first in the parent and in every worker (where users'
    own :func:`register` calls live).

    Returns a list of :class:`Result` in (case, operator) order. ``progress(result)``
    is called as results come.
    """
    for m in modules:
        import_module_or_file(m)
    ops = operator_names(operators)
    workers = max(1, min(int(workers), 2, len(cases) or 1))
    ctx = mp.get_context("spawn")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    todo: queue.Queue = queue.Queue()
    for i, c in enumerate(cases):
        todo.put((i, c))
    results: dict = {}
    lock = threading.Lock()
    errors: list = []

    def loop():
        w = _Worker(ctx, tuple(modules))
        try:
            while True:
                try:
                    i, c = todo.get_nowait()
                except queue.Empty:
                    return
                for j, op in enumerate(ops):
                    r = w.run(c, op, timeout)
                    with lock:
                        results[(i, j)] = r
                    if progress is not None:
                        progress(r)
        except Exception as e:  # noqa: BLE001 -- the harness itself failed: surface it, never a silent partial table
            errors.append(e)
        finally:
            w.stop()

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"robustness sweep harness failed: {errors[0]!r}") from errors[0]
    return [results[k] for k in sorted(results)]
