"""``manifoldnet demo``: the main job, on data the project generates itself (no download, no shared data).

Steps, each printing what it found:

1. the bundled meshes (``manifoldnet.bundled``) and their facts, checked against ``meshes/MANIFEST.tsv``;
2. a slice of the generated benchmark (families in near-isometric poses, different triangulations, exact
   part labels and correspondences);
3. operator bundles for DiffusionNet- and GEM-style models through the verified disk cache (cold, then warm);
4. geodesic accuracy on the unit sphere: heat method and exact distances against great circles;
5. shape matching without learning: functional maps + ZoomOut between two generated shapes, scored with
   the ground truth;
6. learning: a small DiffusionNet trained on the training shapes' part labels (HKS inputs) for a few
   seconds, with its accuracy on the held-out shapes (other poses and triangulations);
7. screenshots (labels, HKS, geodesic isolines) when the viewer extra is installed.

Exit code 1 if a bundled mesh disagrees with the manifest.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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
    from ..bundled import read_manifest, write_bundled
    from ..paths import meshes_root

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
    from ..operators import DIFFUSIONNET_FIELDS, GEM_FIELDS, OperatorCache, OperatorSpec

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


def _learning(bench, bundles, epochs: int = 300) -> None:
    import torch

    from ..data import collate_operators, input_features
    from ..data.generated import FAMILIES, N_CLASSES
    from ..nn import DiffusionNet

    test = [bench.indices(family=f)[-1] for f in FAMILIES]  # the last shape of each family is held out
    train = [i for i in range(len(bench)) if i not in test]
    _step(f"learning: DiffusionNet (width 32, 2 blocks, HKS) on {len(train)} shapes, {len(test)} held out")
    torch.manual_seed(0)
    model = DiffusionNet(16, N_CLASSES, width=32, n_blocks=2, dropout=0.0, last_activation="log_softmax")

    def batch(idx):
        ops = collate_operators([bundles[i] for i in idx])
        labels = torch.cat([torch.as_tensor(bench[i].global_labels) for i in idx])
        return ops, input_features(ops, "hks"), labels

    (ops, x, y), (ops_t, x_t, y_t) = batch(train), batch(test)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    t0 = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(model(x, ops), y)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(x_t, ops_t).argmax(1) == y_t).double().mean())
    print(
        f"{epochs} steps in {time.perf_counter() - t0:.1f} s: training loss {loss.item():.3f}, "
        f"held-out per-vertex part accuracy {acc:.1%} ({N_CLASSES} classes; "
        "benchmarks/train_generated.py trains on 240 shapes)"
    )


def _geodesics() -> None:
    import numpy as np

    from ..geometry import HeatMethodSolver, geodesic_distance
    from ..shapes import icosphere

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

    from ..analysis import fmap_from_descriptors, fmap_to_p2p, mean_geodesic_error, spectral_shape, zoomout
    from ..geometry import HeatMethodSolver, wave_kernel_signature

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


def _screenshots(bench, bundles, out: Path) -> None:
    _step("screenshots")
    try:
        import manifoldnet_viewer as viewer
    except ImportError as exc:  # the viewer extra is optional
        print(f"skipped: {exc} (pip install 'manifoldnet[viewer]')")
        return
    from ..shapes import torus

    pics = out / "pictures"
    pics.mkdir(parents=True, exist_ok=True)
    shape, bundle = bench[0], bundles[0]
    viewer.screenshot(
        shape.mesh, pics / "labels.png", labels=shape.global_labels, title="generated: part labels"
    )
    viewer.screenshot(shape.mesh, pics / "hks.png", scalars=bundle.hks[:, 4], title="HKS, 5th time")
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
    from ..data.generated import FAMILIES, generated_benchmark

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
    _learning(bench, bundles)
    if not args.no_screenshots:
        _screenshots(bench, bundles, out)
    return status
