"""``manifoldnet demo``: the main job, on data the project generates itself (no download, no shared data).

Steps, each printing what it found:

1. the bundled meshes (``manifoldnet.bundled``) and their facts, checked against ``meshes/MANIFEST.tsv``;
2. a slice of the generated benchmark (families in near-isometric poses, different triangulations, exact
   part labels and correspondences);
3. operator bundles for DiffusionNet- and GEM-style models through the verified disk cache (cold, then warm);
4. geodesic accuracy on the unit sphere: heat method and exact distances against great circles;
5. shape matching without learning: functional maps + ZoomOut between two generated shapes, scored with
   the ground truth;
6. learning through :mod:`manifoldnet.tasks` (the code of ``manifoldnet train`` / ``eval``): a small
   DiffusionNet trained on the training shapes' part labels (HKS inputs, bundles through the cache) for a
   few seconds, a results table of its accuracy on the held-out shapes (other poses and triangulations),
   a run folder (checkpoints, curves, config) and prediction files ``manifoldnet view`` reads;
7. screenshots (labels, HKS, geodesic isolines, the held-out shapes' predicted parts and errors) when the
   viewer extra is installed.

Exit code 1 if a bundled mesh disagrees with the manifest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import manifoldnet_viewer as viewer
import numpy as np
from manifoldnet_viewer._pv import ViewerDependencyError, require_pyvista

from ..analysis import fmap_from_descriptors, fmap_to_p2p, mean_geodesic_error, spectral_shape, zoomout
from ..bundled import read_manifest, write_bundled
from ..data.generated import FAMILIES, generated_benchmark
from ..geometry import HeatMethodSolver, geodesic_distance, wave_kernel_signature
from ..io import load_mesh
from ..operators import DIFFUSIONNET_FIELDS, GEM_FIELDS, OperatorCache, OperatorSpec
from ..paths import meshes_root
from ..shapes import icosphere, torus
from ..tasks import config_from_dict
from ..tasks.loop import train

_COLS = (
    ("name", "name"), ("V", "n_verts"), ("F", "n_faces"), ("chi", "euler_characteristic"), ("genus", "genus"),
    ("bnd", "n_boundary_loops"), ("comp", "n_components"), ("e-mfd", "is_edge_manifold"),
    ("v-mfd", "is_vertex_manifold"), ("oriented", "is_oriented"), ("area", "total_area"),
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="out/demo", help="folder for meshes, cache and pictures (default out/demo)"
    )
    parser.add_argument("--per-family", type=int, default=3, help="generated shapes per family (default 3)")
    parser.add_argument("--k", type=int, default=64, help="eigenpairs per operator bundle (default 64)")
    parser.add_argument("--no-screenshots", action="store_true", help="skip the pictures")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads (default 1: oversubscribed BLAS threads made eigensolves 5-9x slower)",
    )


def format_table(rows: list[dict[str, str]], cols=_COLS) -> str:
    """A plain aligned text table of rows (dicts of strings)."""
    table = [[h for h, _ in cols]] + [[str(r[k]) if r[k] != "" else "-" for _, k in cols] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    )


def _step(title: str) -> None:
    print(f"\n== {title}")


def _bundled(out: Path) -> int:
    _step("bundled meshes")
    rows = write_bundled(out / "meshes", manifest=False)
    print(f"generated {len(rows)} meshes in {out / 'meshes'}")
    print(format_table(rows))
    manifest = meshes_root() / "MANIFEST.tsv"
    if not manifest.is_file():
        return 0
    expected = {r["name"]: r for r in read_manifest(manifest)}
    bad = [r["name"] for r in rows if expected.get(r["name"]) != r]
    if bad:
        print(f"differs from {manifest}: {', '.join(bad)}")
        return 1
    print(f"all facts match {manifest}")
    return 0


def _operators(bench, out: Path, k: int):
    _step(f"operator bundles (k={k}, DiffusionNet + GEM fields) through the disk cache")
    cache = OperatorCache(out / "cache")
    spec = OperatorSpec(fields=DIFFUSIONNET_FIELDS + GEM_FIELDS, k=k)
    rows, bundles = [], []
    for shape in bench:
        t0 = time.perf_counter()
        bundle = cache.get(shape.mesh, spec)
        t1 = time.perf_counter()
        cache.get(shape.mesh, spec)
        t2 = time.perf_counter()
        bundles.append(bundle)
        rows.append(
            {
                "shape": shape.name,
                "V": str(shape.mesh.n_verts),
                "first (s)": f"{t1 - t0:.3f}",
                "again (s)": f"{t2 - t1:.3f}",
                "lambda_1": f"{bundle.evals[1]:.4f}",
                "parts": str(len(set(shape.labels.tolist()))),
            }
        )
    cols = [(c, c) for c in rows[0]]
    print(format_table(rows, cols))
    print(
        f"cache: {cache.root} ('first' computes unless a previous demo run stored it; 'again' is a cache hit)"
    )
    return bundles


def _learning(args, out: Path):
    """Train and evaluate a small DiffusionNet through the tasks API (the code path of ``manifoldnet train``);
    returns the index of the prediction files (``predictions.json``) of the held-out shapes."""
    n = args.per_family
    config = config_from_dict(
        {
            "task": "segmentation",
            "features": ["hks"],
            # the shapes of step 2; the last of each family is held out (other pose, other triangulation)
            "data": {
                "name": "generated",
                "n_per_family": n,
                "n_verts": [500, 900],
                "train_fraction": (n - 1) / n,
            },
            "model": {"name": "diffusionnet", "width": 32, "n_blocks": 2, "dropout": 0.0},
            "operators": {"k": args.k, "workers": 1, "cache": str(out / "cache")},
            "optim": {"name": "adam", "lr": 3e-3},
            "schedule": {"name": "cosine"},
            "train": {
                "epochs": 80,
                "batch_size": 2,
                "threads": args.threads,
                "progress": False,
                "out": str(out / "run"),
            },
        }
    )
    _step(
        f"learning: DiffusionNet (width 32, 2 blocks, HKS) on the part labels of {n - 1} shapes per family, "
        f"1 held out per family, through manifoldnet.tasks (what `manifoldnet train` runs)"
    )
    for stale in ("last.pt", "best.pt"):  # a new demo run starts afresh
        (out / "run" / stale).unlink(missing_ok=True)
    t0 = time.perf_counter()
    lines = []
    result = train(config, log=lines.append)
    seconds = time.perf_counter() - t0
    epochs = [line for line in lines if line.startswith("epoch ")]
    print("\n".join([*(line for line in lines if not line.startswith(("epoch ", "test "))), *epochs[::10]]))
    print(epochs[-1])
    preds = out / "predictions"
    result.task.write_predictions(result.model, result.splits.test, preds, "cpu")
    index = json.loads((preds / "predictions.json").read_text())
    rows = [{"held-out shape": r["name"], "accuracy": f"{r['accuracy']:.1%}"} for r in index]
    print(format_table(rows, [(c, c) for c in rows[0]]))
    print(f"predictions in {preds}; look at one: {index[0]['view']}")
    test = result.test
    print(
        f"{config.train.epochs} epochs in {seconds:.1f} s (operators included): "
        f"held-out per-vertex part accuracy {100 * test['accuracy']:.1f}% "
        f"(area-weighted {100 * test['area_accuracy']:.1f}%, mean IoU {test['mean_iou']:.3f}; 21 classes, "
        f"chance ~5%); run folder {result.out} (checkpoints, history.json, curves.png, config.yaml)"
    )
    return index


def _geodesics() -> None:
    _step("geodesic distance on the unit sphere (icosphere, 10242 vertices) against great circles")
    mesh = icosphere(5)
    src = 0
    exact = np.arccos(np.clip(mesh.verts @ mesh.verts[src], -1.0, 1.0))
    far = exact > 1e-9
    t0 = time.perf_counter()
    solver = HeatMethodSolver(mesh)
    t1 = time.perf_counter()
    heat = solver.distance(src)
    t2 = time.perf_counter()
    mmp = geodesic_distance(mesh, src, method="exact")
    t3 = time.perf_counter()
    for name, d, secs in (
        ("heat", heat, f"setup {t1 - t0:.2f} s, solve {t2 - t1:.3f} s"),
        ("exact", mmp, f"{t3 - t2:.2f} s"),
    ):
        err = np.abs(d[far] - exact[far]) / exact[far]
        print(f"{name:5s}: mean relative error {100 * err.mean():.3f}%  ({secs})")


def _matching(bench) -> None:
    from scipy.spatial import cKDTree

    a, b = (bench[i] for i in bench.indices(family="star")[:2])
    _step(
        f"functional maps + ZoomOut, no learning: {a.name} -> {b.name} (ground truth from the "
        "parametrization)"
    )
    src, dst = spectral_shape(b.mesh, k=60), spectral_shape(a.mesh, k=60)
    wks = [wave_kernel_signature(s.evals, s.evecs, n_energies=30) for s in (src, dst)]
    C = fmap_from_descriptors(src, dst, *wks, k=15, w_lap=0.1, w_orient=0.3)
    p2p = fmap_to_p2p(C, src, dst)  # for every vertex of a, a vertex of b
    _, refined = zoomout(C, src, dst, 60)
    gt = cKDTree(b.params).query(a.params)[1]  # same parameter point = same surface point
    solver = HeatMethodSolver(b.mesh)
    for name, m in (("descriptors", p2p), ("+ ZoomOut", refined)):
        err = mean_geodesic_error(solver, m, gt, b.mesh.total_area)
        print(f"{name:12s}: mean geodesic error {err:.4f} x sqrt(area)")


def _screenshots(bench, bundles, out: Path, predictions) -> None:
    _step("screenshots")
    try:
        require_pyvista()
    except ViewerDependencyError as exc:  # the viewer extra (pyvista) is optional; its message names it
        print(f"skipped: {exc}")
        return
    pics = out / "pictures"
    pics.mkdir(parents=True, exist_ok=True)
    shape, bundle = bench[0], bundles[0]
    viewer.screenshot(
        shape.mesh, pics / "labels.png", labels=shape.global_labels, title="generated: part labels"
    )
    viewer.screenshot(shape.mesh, pics / "hks.png", scalars=bundle.hks[:, 4], title="HKS, 5th time")
    for row in predictions[:2]:  # held-out shapes: the model's labels, and where they are wrong
        mesh, pred = load_mesh(row["mesh"]), np.load(row["pred"])
        wrong = (pred != np.loadtxt(row["truth"], dtype=np.int64)).astype(np.float64)
        title = f"{row['name']}: predicted parts ({row['accuracy']:.0%} right)"
        viewer.screenshot(mesh, pics / f"pred_{row['name']}.png", labels=pred, title=title)
        viewer.screenshot(
            mesh, pics / f"errors_{row['name']}.png", scalars=wrong, title=f"{row['name']}: errors"
        )
    ring = torus(n_major=96, n_minor=40)
    viewer.screenshot(
        ring, pics / "torus_geodesic.png", geodesic=0, isolines=16, title="heat-method geodesics"
    )
    print(f"wrote {', '.join(p.name for p in sorted(pics.glob('*.png')))} to {pics}")


def run(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    status = _bundled(out)
    if args.per_family < 2:
        raise SystemExit("manifoldnet demo: --per-family must be at least 2 (matching needs two shapes)")
    _step(f"generated benchmark: {args.per_family} shapes per family {list(FAMILIES)}")
    bench = generated_benchmark(n_per_family=args.per_family, seed=0, n_verts=(500, 900))
    print(
        f"{len(bench)} shapes, "
        + ", ".join(f"{s.name} V={s.mesh.n_verts}" for s in list(bench)[:: args.per_family])
    )
    bundles = _operators(bench, out, args.k)
    _geodesics()
    _matching(bench)
    predictions = _learning(args, out)
    if not args.no_screenshots:
        _screenshots(bench, bundles, out, predictions)
    return status
