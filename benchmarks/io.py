"""Loader benchmark: manifoldnet.load_mesh vs trimesh.load (process=False) on real files, one process.

Run (other load is present: compare the ratios of one run, never absolute times across runs):

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/io.py

Each row: best of 3 wall times. trimesh's numbers are for ``process=False`` (no merging), the fairest
match; ours include validation into a Mesh and, for STL, welding. Also timed: ``save_mesh`` + ``load_mesh``
round trip of a 40962-vertex icosphere per format. The table is written to benchmarks/results/io.txt.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import tempfile
import time
import warnings
from pathlib import Path

import trimesh
from threadpoolctl import threadpool_limits

from manifoldnet import shapes
from manifoldnet.io import load_mesh, save_mesh
from manifoldnet.paths import data_root

FILES = [
    "classic/ogre.obj",
    "tutorial/armadillo.obj",
    "classic/stanford-bunny.obj",
    "tutorial/camelhead.off",
    "rna/off/1K73_B.off",
    "gc_assets/spot.ply",
    "format_edge_cases/fuze.ply",
    "format_edge_cases/box.STL",
    "format_edge_cases/torus.STL",
]


def best(fn, *args, n=3, **kwargs):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        t.append(time.perf_counter() - t0)
    return min(t), out


def main() -> str:
    warnings.simplefilter("ignore")
    rows = [f"{'file':32s} {'V':>7s} {'F':>7s} {'ours s':>8s} {'trimesh s':>10s} {'ratio':>6s}"]
    root = data_root()
    for rel in FILES:
        p = root / rel
        if not p.is_file():
            rows.append(f"{rel:32s} (missing)")
            continue
        t_ours, m = best(load_mesh, p)
        t_tm, _ = best(trimesh.load, p, process=False, force="mesh")
        rows.append(
            f"{rel:32s} {m.n_verts:7d} {m.n_faces:7d} {t_ours:8.3f} {t_tm:10.3f} {t_ours / t_tm:6.2f}"
        )
    rows.append(
        "(STL: ours includes the exact weld to a connected mesh; trimesh process=False keeps the soup)"
    )
    rows.append("")
    rows.append(f"{'round trip icosphere(6)':32s} {'save s':>8s} {'load s':>8s}")
    mesh = shapes.icosphere(6)
    with tempfile.TemporaryDirectory() as d:
        for name, binary in (
            ("m.obj", None),
            ("m.off", None),
            ("m.ply", False),
            ("m.ply", True),
            ("m.stl", True),
        ):
            path = Path(d) / name
            t_save, _ = best(save_mesh, path, mesh, binary=binary)
            t_load, _ = best(load_mesh, path)
            label = f"{name} ({'binary' if binary else 'ascii'})"
            rows.append(f"{label:32s} {t_save:8.3f} {t_load:8.3f}")
    return "\n".join(rows)


if __name__ == "__main__":
    with threadpool_limits(1):
        table = main()
    print(table)
    out = Path(__file__).parent / "results" / "io.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n")
