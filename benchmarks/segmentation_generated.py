"""Unsupervised spectral clustering against the part labels of the generated benchmark.

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/segmentation_generated.py [--n 10]

For each family of ``manifoldnet.data.generated.FAMILIES`` the first ``--n`` shapes of the default generated
benchmark are clustered into as many parts as the family has; accuracy = area-weighted fraction of the
surface whose cluster, matched one-to-one to parts (Hungarian), is its part. Rows: the commute-time
embedding alone, with log-HKS (8 scales) as extra features, and ``protrusion_segmentation`` (HKS tips and the
body centre seed Voronoi cells in the commute-time embedding); "majority" is the area of the largest part
(what one cluster for everything would score).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from threadpoolctl import threadpool_limits

from manifoldnet.analysis import label_accuracy, protrusion_segmentation, spectral_clustering
from manifoldnet.data.generated import FAMILIES, generated_benchmark
from manifoldnet.geometry.laplacian import laplacian
from manifoldnet.geometry.spectral import eigenbasis


def log_hks(evals, evecs, n=8):
    from manifoldnet.geometry.descriptors import heat_kernel_signature

    return np.log(np.asarray(heat_kernel_signature(evals, evecs, n_times=n)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="shapes per family")
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    bench = generated_benchmark()
    t0 = time.perf_counter()
    lines = [
        (
            f"generated benchmark, first {args.n} shapes per family: area-weighted accuracy of unsupervised "
            "spectral clustering (mean [min, max])"
        ),
        "",
        f"{'family':8s} {'parts':>5s} {'majority':>9s} {'eigenbasis (commute)':>24s} "
        + f"{'+ log HKS features':>24s} {'protrusions (HKS tips)':>24s}",
    ]
    for fam, n_parts in FAMILIES.items():
        acc = {"plain": [], "hks": [], "prot": [], "major": []}
        for i in bench.indices(family=fam)[: args.n]:
            s = bench[i]
            L, M = laplacian(s.mesh)
            m = M.diagonal()
            evals, evecs = eigenbasis(L, M, 60)
            kw = {"n_dims": n_parts + 4, "L": L, "M": M, "evals": evals, "evecs": evecs}
            acc["plain"].append(
                label_accuracy(spectral_clustering(s.mesh, n_parts, **kw).labels, s.labels, m)
            )
            seg = spectral_clustering(s.mesh, n_parts, features=log_hks(evals, evecs), **kw)
            acc["hks"].append(label_accuracy(seg.labels, s.labels, m))
            seg = protrusion_segmentation(s.mesh, n_parts, L=L, M=M, evals=evals, evecs=evecs)
            acc["prot"].append(label_accuracy(seg.labels, s.labels, m))
            acc["major"].append(np.bincount(s.labels, weights=m).max() / m.sum())

        def fmt(a):
            a = 100 * np.asarray(a)
            return f"{a.mean():5.1f} [{a.min():4.1f}, {a.max():5.1f}]"

        lines.append(
            f"{fam:8s} {n_parts:5d} {100 * np.mean(acc['major']):8.1f}% {fmt(acc['plain']):>24s} "
            f"{fmt(acc['hks']):>24s} {fmt(acc['prot']):>24s}"
        )
    lines.append(f"\ntotal {time.perf_counter() - t0:.0f} s (1 BLAS thread, shared machine)")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        raise SystemExit(main())
