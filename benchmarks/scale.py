"""Scale: time and peak memory of each stage from ~10k to ~1M vertices, and how each grows (log-log exponent).

Every (stage, size) runs in a fresh subprocess so that ``ru_maxrss`` (the peak resident set) is that stage's
own; the subprocess builds the mesh (a torus grid, 2 n^2 vertices: regular, closed, no poles), warms the
shared connectivity (edges, components), reads its current RSS, runs the stage once, and reports the time and
the peak RSS above the warm baseline. A stage that fails, runs out of memory (the address space is capped,
``--max-gib``, so the machine never swaps) or passes ``--timeout`` is marked and not tried on larger meshes.

Exponent: least-squares slope of log(time) on log(V) over the sizes from ``--fit-from`` on (the smallest sizes
are dominated by fixed costs); > 1.15 is flagged superlinear.

Run (single-threaded BLAS, under the shared benchmark lock)::

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/scale.py | tee benchmarks/results/scale.txt
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
# the DiffusionNet and GEM recipes together (descriptors and patches left out: they are not per-vertex-linear
# operators, and the descriptors are a cheap product of the eigenbasis)
BUNDLE_FIELDS = ("mass", "laplacian", "eigenbasis", "gradient", "normals", "frames", "logmap", "transport")
STAGES = ("connectivity", "laplacian", "eigenbasis16", "frames", "transport", "heat_distance", "bundle16")


def _mesh(n_target: int):
    from manifoldnet.shapes import torus

    n_minor = max(8, round((n_target / 2) ** 0.5))
    return torus(R=1.0, r=0.4, n_major=2 * n_minor, n_minor=n_minor)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(stage: str, n: int, max_gib: float) -> dict:
    lim = int(max_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    t0 = time.perf_counter()
    mesh = _mesh(n)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    if stage != "connectivity":
        _ = mesh.edges, mesh.halfedge_edges, mesh.vertex_components, mesh.edge_lengths
        if stage == "eigenbasis16":
            from manifoldnet.geometry.laplacian import laplacian

            L, M = laplacian(mesh)
    base = _rss_mb()
    t0 = time.perf_counter()
    if stage == "connectivity":
        _ = mesh.edges, mesh.halfedge_edges, mesh.vertex_components, mesh.edge_lengths, mesh.boundary_loops
    elif stage == "laplacian":
        from manifoldnet.geometry.laplacian import laplacian

        laplacian(mesh)
    elif stage == "eigenbasis16":
        from manifoldnet.geometry.spectral import eigenbasis

        eigenbasis(L, M, 16)
    elif stage == "frames":
        from manifoldnet.geometry.frames import vertex_frames

        vertex_frames(mesh, gauge="intrinsic")
    elif stage == "transport":
        from manifoldnet.geometry.transport import edge_transport

        edge_transport(mesh)
    elif stage == "heat_distance":
        from manifoldnet.geometry.geodesics import geodesic_distance

        geodesic_distance(mesh, [0], method="heat")
    elif stage == "bundle16":
        from manifoldnet.operators.compute import compute_operators

        compute_operators(mesh, fields=BUNDLE_FIELDS, k=16)
    else:
        raise SystemExit(f"unknown stage {stage}")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"stage": stage, "n": n, "V": mesh.n_verts, "F": mesh.n_faces, "seconds": seconds,
            "build_s": t_build, "base_mb": base, "peak_mb": peak, "delta_mb": max(peak - base, 0.0)}


def _run(stage: str, n: int, timeout: float, max_gib: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", stage, str(n), "--max-gib", str(max_gib)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"stage": stage, "n": n, "error": f"timeout {timeout:g}s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    err = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
    if "MemoryError" in p.stderr or p.returncode == -9:
        err = f"out of memory (cap {max_gib:g} GiB): {err}"
    return {"stage": stage, "n": n, "error": err[:200]}


def _fit(points):
    import numpy as np

    if len(points) < 2:
        return float("nan")
    x, y = np.log([p[0] for p in points]), np.log([max(p[1], 1e-6) for p in points])
    return float(np.polyfit(x, y, 1)[0])


def _table(rows, sizes, fit_from: int) -> str:
    out = []
    by = {(r["stage"], r["n"]): r for r in rows}
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    vs = {n: next((r["V"] for r in rows if r["n"] == n and "V" in r), n) for n in sizes}
    head = f"{'stage':<14}" + "".join(f"{vs[n]:>11,d}V" for n in sizes) + f"{'exp(time)':>11}{'exp(mem)':>10}"
    out += ["time (s) per stage and mesh size; peak RSS above the warm baseline (MiB) below", "", head]
    for s in stages:
        cells, pts_t, pts_m = [], [], []
        for n in sizes:
            r = by.get((s, n))
            if r is None:
                cells.append(f"{'-':>12}")
            elif "error" in r:
                cells.append(f"{'FAIL':>12}")
            else:
                cells.append(f"{r['seconds']:>12.3f}")
                if n >= fit_from:
                    pts_t.append((r["V"], r["seconds"]))
                    pts_m.append((r["V"], max(r["delta_mb"], 1.0)))
        et, em = _fit(pts_t), _fit(pts_m)
        flag = "  SUPERLINEAR" if et > 1.15 else ""
        out.append(f"{s:<14}" + "".join(cells) + f"{et:>11.2f}{em:>10.2f}{flag}")
    out += ["", "peak RSS above baseline (MiB) / total peak RSS (MiB)", head[: 14 + 12 * len(sizes)]]
    for s in stages:
        cells = []
        for n in sizes:
            r = by.get((s, n))
            cells.append(
                f"{'-':>12}" if r is None or "error" in r else f"{r['delta_mb']:>6.0f}/{r['peak_mb']:<5.0f}"
            )
        out.append(f"{s:<14}" + "".join(cells))
    errs = [r for r in rows if "error" in r]
    if errs:
        out += ["", "failures:"] + [f"  {r['stage']} at {r['n']:,}: {r['error']}" for r in errs]
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    p.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    p.add_argument("--timeout", type=float, default=1200.0, help="seconds per stage and size")
    p.add_argument("--max-gib", type=float, default=20.0, help="address-space cap per subprocess")
    p.add_argument("--fit-from", type=int, default=30_000, help="smallest size used in the exponent fit")
    p.add_argument("--json", help="also write the raw rows here")
    p.add_argument("--child", nargs=2, metavar=("STAGE", "N"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(_child(a.child[0], int(a.child[1]), a.max_gib)), flush=True)
        return 0
    rows, dead = [], set()
    t0 = time.time()
    for n in sorted(a.sizes):
        for s in a.stages:
            if s in dead:
                continue
            r = _run(s, n, a.timeout, a.max_gib)
            rows.append(r)
            msg = r.get("error") or f"{r['seconds']:.3f}s, +{r['delta_mb']:.0f} MiB (peak {r['peak_mb']:.0f})"
            print(f"[{time.time() - t0:7.0f}s] {s:<14} {n:>9,d}: {msg}", file=sys.stderr, flush=True)
            if "error" in r:
                dead.add(s)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(
        "benchmarks/scale.py: torus grids, single-threaded BLAS, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(_table(rows, sorted(a.sizes), a.fit_from))
    return 0


if __name__ == "__main__":
    sys.exit(main())
