"""Preprocessing backends: a local Ray instance against the process pool, same folder, 2 workers each.

Both run :func:`manifoldnet.data.preprocess` over the same generated meshes (every family, ~5k vertices, the
DiffusionNet fields, k = 128, 1 BLAS thread per worker) into a fresh cache each time, timed from the call to
its return: so a Ray run includes starting and stopping its local instance, a process-pool run starting its
spawn workers. Each backend runs ``n_small`` and ``n`` meshes; a straight line through the two wall times
splits a run into a fixed cost (the intercept: start-up, shutdown, the workers' first imports) and a cost per
mesh (the slope); the difference of the slopes is the Ray backend's overhead per mesh. A last run over the
``n`` meshes, all cached by then, measures what a resumed run costs per mesh (read, hash, verify the entry).
Every figure is the median over ``--repeats`` rounds; the ranges are printed too.

Run (under the shared benchmark lock; the machine has 2 cores, both used by the 2 workers)::

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/preprocess_backends.py \\
        > benchmarks/results/preprocess_backends.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from manifoldnet.data import generated as g
from manifoldnet.data.preprocess import preprocess
from manifoldnet.io import save_mesh

BACKENDS = ("process", "ray")


def make_folder(root: Path, n: int, n_verts: int) -> list[Path]:
    families = list(g.FAMILIES)
    files = []
    for i in range(n):
        path = root / f"m{i:03d}.off"
        save_mesh(path, g.generate_shape(families[i % len(families)], i, n_verts).mesh)
        files.append(path)
    return files


def timed(files, cache, backend, workers, k):
    t0 = time.perf_counter()
    s = preprocess(files, cache=cache, workers=workers, backend=backend, k=k, progress=False)
    wall = time.perf_counter() - t0
    if not s.ok:
        raise RuntimeError(f"{backend}: {s}")
    return wall, s


def ray_alone(workers: int) -> tuple[float, float]:
    """Seconds to start a local Ray instance as the backend does, and to shut it down, with no task run."""
    from manifoldnet.data.ray_backend import ray_session

    t0 = time.perf_counter()
    with ray_session(None, workers):
        t1 = time.perf_counter()
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60, help="meshes in the large run (default 60)")
    ap.add_argument("--n-small", type=int, default=20, help="meshes in the small run (default 20)")
    ap.add_argument("--verts", type=int, default=5000, help="vertices per mesh (default 5000)")
    ap.add_argument("--k", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="mn-backends-") as tmp:
        tmp = Path(tmp)
        (tmp / "meshes").mkdir()
        files = make_folder(tmp / "meshes", args.n, args.verts)
        rows: dict[tuple[str, str], list[float]] = {}
        compute: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for r in range(args.repeats):
            for backend in BACKENDS if r % 2 == 0 else BACKENDS[::-1]:  # alternate the order
                for n in (args.n_small, args.n):
                    cache = tmp / f"cache-{backend}-{n}-{r}"
                    wall, s = timed(files[:n], cache, backend, args.workers, args.k)
                    rows.setdefault((backend, f"fresh {n}"), []).append(wall)
                    compute[backend] += list(s.compute_seconds.values())
                wall, s = timed(files, cache, backend, args.workers, args.k)  # everything cached now
                assert len(s.cached) == args.n and not s.computed
                rows.setdefault((backend, f"cached {args.n}"), []).append(wall)
            start, stop = ray_alone(args.workers)
            rows.setdefault(("ray", "start alone"), []).append(start)
            rows.setdefault(("ray", "stop alone"), []).append(stop)

    med = {key: statistics.median(v) for key, v in rows.items()}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# {platform.node()}, {os.cpu_count()} cores, {stamp}; {args.n} generated meshes of {args.verts} "
        f"vertices, DiffusionNet fields, k={args.k}, {args.workers} workers, 1 BLAS thread each; "
        f"median of {args.repeats} rounds (range)"
    )
    print(f"{'backend':8s} {'run':>11s} {'wall s':>8s} {'range':>13s} {'s/mesh':>7s}")
    for (backend, run), walls in rows.items():
        m, lo, hi = med[backend, run], min(walls), max(walls)
        n = run.split()[1]
        per_mesh = f"{m / int(n):7.3f}" if n.isdigit() else ""
        print(f"{backend:8s} {run:>11s} {m:8.2f} {lo:6.2f}-{hi:6.2f} {per_mesh}")
    print()
    fit = {}
    for backend in BACKENDS:
        small, large = med[backend, f"fresh {args.n_small}"], med[backend, f"fresh {args.n}"]
        slope = (large - small) / (args.n - args.n_small)
        fit[backend] = (large - slope * args.n, slope)
        t = sorted(compute[backend])
        resumed = (med[backend, f"cached {args.n}"] - fit[backend][0]) / args.n
        print(
            f"{backend:8s} fixed cost {fit[backend][0]:5.2f} s, then {slope:.3f} s wall per mesh with "
            f"{args.workers} workers (compute in the worker: median {t[len(t) // 2]:.3f} s per mesh); "
            f"resumed run, all cached: {resumed * 1e3:.1f} ms per mesh beyond the fixed cost"
        )
    d0 = fit["ray"][0] - fit["process"][0]
    d1 = fit["ray"][1] - fit["process"][1]
    start, stop = med["ray", "start alone"], med["ray", "stop alone"]
    print(
        f"ray - process: fixed cost {d0:+.2f} s (a local Ray instance alone: start {start:.2f} s, "
        f"shutdown {stop:.2f} s), {d1 * 1e3:+.1f} ms wall per mesh "
        f"({d1 / fit['process'][1]:+.1%} of the process pool's per-mesh wall)"
    )


if __name__ == "__main__":
    main()
