"""Geodesics benchmark: manifoldnet vs potpourri3d (heat method), pygeodesic (exact), vector heat (log maps).

Run (other load is present: compare the ratios of one run, never absolute times across runs):

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/geodesics.py

Sections, all in one process, same meshes, BLAS/OpenMP limited to one thread:
1. heat-method setup (from arrays: intrinsic Delaunay, operators, factorizations) and per-source solves after
   it (single source, and a batch of 64) vs potpourri3d's MeshHeatMethodDistanceSolver (a Python loop of
   compute_distance), with ratios;
2. all-pairs distances for faust_5k tr_reg_000 vs a Python loop over potpourri3d;
3. heat-method error against exact (MMP) distance on bunny, armadillo, fertility and an rna mesh (ours and
   potpourri3d's, both robust, mean relative error over vertices beyond 2 mean edge lengths);
4. geodesic patch construction (k = 30) for about 10k, 50k and 150k vertices, with potpourri3d's vector heat
   log map per vertex (the per-vertex alternative) extrapolated to all vertices.
The table is printed and written to benchmarks/results/geodesics.txt.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import sys
import time
from pathlib import Path

import numpy as np
import potpourri3d as pp3d
from threadpoolctl import threadpool_limits

from manifoldnet import MeshError, shapes
from manifoldnet.geometry.exact_geodesics import check_exact_geodesic_input, exact_geodesic_distance
from manifoldnet.geometry.geodesics import HeatMethodSolver, all_pairs_distances
from manifoldnet.geometry.patches import geodesic_patches
from manifoldnet.io import load_mesh
from manifoldnet.paths import data_root
from manifoldnet.repair import clean

OUT = Path(__file__).resolve().parent / "results" / "geodesics.txt"
LINES: list[str] = []


def emit(s: str = "") -> None:
    print(s, flush=True)
    LINES.append(s)


def best(f, n=3):
    """Median wall time of n runs, and the last result."""
    ts, r = [], None
    for _ in range(n):
        t = time.perf_counter()
        r = f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), r


def data_mesh(rel: str):
    p = data_root() / rel
    if not p.exists():
        return None
    m, _ = clean(load_mesh(p))
    return m


def vf(m):
    return np.ascontiguousarray(m.verts), np.ascontiguousarray(m.faces)


def per_source(meshes):
    emit("## 1. heat method: setup and per-source solves (robust, Neumann = potpourri3d's parameters)")
    emit(
        "setup: the solver built from (verts, faces) arrays, median of 3; ours: intrinsic Delaunay, operators"
    )
    emit(
        "  and two Eigen factorizations; cholmod: the same with CHOLMOD factorizations (the previous default)"
    )
    emit(
        "ms/src, one source a call (16 sources, median of 3 rounds): ours on the Eigen factors (the first 48"
    )
    emit("  sources of a solver), then after the move to CHOLMOD (geometry/factor.py: once 64 columns are")
    emit("  solved); batch64: one distances() call of 64 sources, the first call on a fresh solver (Eigen")
    emit("  factors: it includes the move to CHOLMOD), then the median of 2; superlu: backend='superlu'")
    emit(
        f"{'mesh':<30}{'V':>7}{'setup pp':>10}{'ours':>8}{'pp/ours':>9}{'cholmod':>9}"
        f"{'ms/src pp':>11}{'ours':>7}{'pp/ours':>9}{'>64 src':>9}{'pp/>64':>8}"
        f"{'batch 1st':>11}{'then':>7}{'pp/then':>9}{'superlu':>9}{'pp/superlu':>12}"
    )
    for name, m in meshes:
        V, F = vf(m)
        t_pp, pp = best(lambda V=V, F=F: pp3d.MeshHeatMethodDistanceSolver(V, F, 1.0, True), 3)
        t_us, us = best(lambda V=V, F=F: HeatMethodSolver(V, F, boundary="neumann"), 3)
        t_ch, _ = best(lambda V=V, F=F: HeatMethodSolver(V, F, boundary="neumann", backend="cholmod"), 3)
        src = np.linspace(0, m.n_verts - 1, 16).astype(int)
        t1, _ = best(lambda pp=pp, src=src: [pp.compute_distance(int(s)) for s in src])
        t2, _ = best(lambda us=us, src=src: [us.distance(int(s)) for s in src])
        assert us._heat_neumann.backend == "eigen"
        b = np.linspace(0, m.n_verts - 1, 64).astype(int)
        fresh = HeatMethodSolver(V, F, boundary="neumann")
        t3a, _ = best(lambda fresh=fresh, b=b: fresh.distances(b), 1)
        t3, _ = best(lambda fresh=fresh, b=b: fresh.distances(b), 2)
        us.distances(b)  # 48 + 64 columns: moved to CHOLMOD
        t5, _ = best(lambda us=us, src=src: [us.distance(int(s)) for s in src])
        lu = HeatMethodSolver(m, boundary="neumann", backend="superlu")
        t4, _ = best(lambda lu=lu, src=src: [lu.distance(int(s)) for s in src])
        a, c, f = 1e3 * t1 / 16, 1e3 * t2 / 16, 1e3 * t5 / 16
        d0, d, e = 1e3 * t3a / 64, 1e3 * t3 / 64, 1e3 * t4 / 16
        emit(
            f"{name:<30}{m.n_verts:>7}{t_pp:>9.3f}s{t_us:>7.3f}s{t_pp / t_us:>9.2f}{t_ch:>8.3f}s"
            f"{a:>11.2f}{c:>7.2f}{a / c:>9.2f}{f:>9.2f}{a / f:>8.2f}"
            f"{d0:>11.2f}{d:>7.2f}{a / d:>9.2f}{e:>9.2f}{a / e:>12.2f}"
        )
    emit(f"(ours after the batches: factorizations {us._heat_neumann.backend!r}; superlu: scipy only)")


def all_pairs():
    emit("\n## 2. all-pairs distances, faust_5k tr_reg_000 (float32 result)")
    m = data_mesh("faust_5k/off/tr_reg_000.off")
    if m is None:
        emit("faust_5k not found: skipped")
        return
    V, F = vf(m)

    def loop():
        pp = pp3d.MeshHeatMethodDistanceSolver(V, F)
        return np.stack([pp.compute_distance(i) for i in range(m.n_verts)])

    t_loop, Dp = best(loop, 1)
    t_us, D = best(lambda: all_pairs_distances(m, progress=False, boundary="neumann"), 1)
    Dp = 0.5 * (Dp + Dp.T)
    rel = np.abs(D - Dp)[Dp > 0.05] / Dp[Dp > 0.05]
    emit(f"{'V':>6}{'pp loop':>10}{'ours':>9}{'speedup':>9}{'max rel diff vs pp':>20}")
    emit(f"{m.n_verts:>6}{t_loop:>9.2f}s{t_us:>8.2f}s{t_loop / t_us:>9.2f}{rel.max():>20.2e}")


def heat_vs_exact(meshes):
    emit("\n## 3. heat method vs exact (MMP) distance: mean relative error (vertices beyond 2 mean edges)")
    emit(f"{'mesh':<22}{'V':>8}{'ours':>9}{'pp':>9}{'exact s/src':>13}")
    for name, m in meshes:
        V, F = vf(m)
        ours = HeatMethodSolver(m, boundary="neumann")
        pp = pp3d.MeshHeatMethodDistanceSolver(V, F)
        h = float(m.edge_lengths.mean())
        e_us, e_pp, te = [], [], []
        for s in (0, m.n_verts // 2):
            t = time.perf_counter()
            ex = exact_geodesic_distance(m, s)
            te.append(time.perf_counter() - t)
            d, dp = ours.distance(s), pp.compute_distance(s)
            ok = np.isfinite(ex) & (ex > 2 * h)
            e_us.append(np.mean(np.abs(d[ok] - ex[ok]) / ex[ok]))
            e_pp.append(np.mean(np.abs(dp[ok] - ex[ok]) / ex[ok]))
        emit(
            f"{name:<22}{m.n_verts:>8}{100 * np.mean(e_us):>8.2f}%{100 * np.mean(e_pp):>8.2f}%"
            f"{np.mean(te):>13.2f}"
        )


def patches(meshes):
    emit(
        "\n## 4. geodesic patches, k = 30 nearest (all vertices at once) vs a potpourri3d log map per vertex"
    )
    emit(
        f"{'mesh':<22}{'V':>8}{'ours':>9}{'P/vertex':>10}{'pp logmap/vertex':>18}{'pp x V (extrap.)':>18}"
        f"{'ratio':>8}"
    )
    for name, m in meshes:
        t_us, P = best(lambda m=m: geodesic_patches(m, k=30), 1)
        V, F = vf(m)
        vh = pp3d.MeshVectorHeatSolver(V, F)
        vh.compute_log_map(0)  # first call builds the factorization
        idx = np.linspace(1, m.n_verts - 1, 5).astype(int)
        t_lm, _ = best(lambda vh=vh, idx=idx: [vh.compute_log_map(int(i)) for i in idx], 1)
        per = t_lm / 5
        emit(
            f"{name:<22}{m.n_verts:>8}{t_us:>8.2f}s{P.r.size / m.n_verts:>10.1f}{1e3 * per:>16.1f}ms"
            f"{per * m.n_verts:>17.0f}s{per * m.n_verts / t_us:>8.0f}"
        )


def main() -> int:
    emit("# benchmarks/geodesics.py: manifoldnet vs potpourri3d / pygeodesic, one thread, one process")
    emit(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; python {sys.version.split()[0]}")
    with threadpool_limits(1):
        ico = ("icosphere(5)", shapes.icosphere(5))
        bunny = ("classic/stanford-bunny", data_mesh("classic/stanford-bunny.obj"))
        arma = ("tutorial/armadillo", data_mesh("tutorial/armadillo.obj"))
        fert = ("tutorial/fertility", data_mesh("tutorial/fertility.off"))
        rna_dir = data_root() / "rna" / "off"
        rna = ("rna", None)
        # the first rna mesh (sorted) that exact geodesics accept after clean(): most have non-manifold edges
        for p in sorted(rna_dir.iterdir()) if rna_dir.exists() else []:
            m = data_mesh(f"rna/off/{p.name}")
            try:
                check_exact_geodesic_input(m)
            except MeshError:
                continue
            rna = (f"rna/{p.stem} (first manifold)", m)
            break
        real = [x for x in (bunny, arma, fert, rna) if x[1] is not None]
        per_source([ico, *[x for x in (rna, bunny, arma) if x[1] is not None]])
        all_pairs()
        heat_vs_exact(real)
        patches([ico, ("icosphere(6)", shapes.icosphere(6)), ("icosphere(7)", shapes.icosphere(7))])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(LINES) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
