"""``manifoldnet view MESH ...``: render a mesh with a feature, on screen, offscreen (``--screenshot``)
or in the browser (``--web``). Everything is drawn by :mod:`manifoldnet_viewer` (the ``viewer`` extra).

Examples::

    manifoldnet view bunny.obj --scalar hks:4 --screenshot hks.png
    manifoldnet view sphere.off --channels eig:1-20            # slider over eigenfunctions
    manifoldnet view torus.off --geodesic 0,500 --isolines 15
    manifoldnet view rna.off --labels rna.txt --label-offset 1
    manifoldnet view rna.off --labels truth.txt --predictions pred.npy
    manifoldnet view a.off --correspondence b.off a.vts b.vts --screenshot corr.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from manifoldnet_viewer._pv import ViewerDependencyError, require_pyvista, require_web
from manifoldnet_viewer.api import build_scene
from manifoldnet_viewer.correspondence import correspondence_scene, map_from_pairs
from manifoldnet_viewer.inputs import (
    load_bundle,
    load_labels,
    load_predictions,
    load_vertex_map,
    needed_eigenpairs,
)
from manifoldnet_viewer.scene import Scene

from ..errors import MeshError
from ..io import load_mesh
from ..operators import OperatorCache
from . import source_vertices

_SPEC_HELP = (
    "hks (all scales, slider) | hks:I | eig (slider) | eig:I | eig:I-J | gauss | mean | "
    "FILE (.npy, .npz[:key], .txt: one row per vertex or face; several columns -> slider)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mesh", help="mesh file (obj, off, ply, stl, ...)")
    g = p.add_argument_group("surface colour (one of)")
    g.add_argument("--scalar", metavar="SPEC", help=_SPEC_HELP)
    g.add_argument("--channels", metavar="SPEC", help="like --scalar, always browsed with a slider")
    g.add_argument("--labels", metavar="FILE", help="integer label per vertex or face (negative: unlabelled)")
    g.add_argument(
        "--predictions",
        metavar="FILE",
        help="predicted labels (N,) or scores (N, C) (.npy/.txt/.npz); with --labels: truth | prediction",
    )
    g.add_argument(
        "--geodesic",
        metavar="SRC",
        type=source_vertices,
        help="geodesic distance from source vertices, e.g. 0 or 0,120",
    )
    g.add_argument(
        "--correspondence",
        nargs="+",
        metavar="ARG",
        help="OTHER MAP | OTHER SRC.vts TGT.vts: this mesh (source) coloured through a vertex map "
        "into OTHER (target), colour = target's normalized xyz",
    )
    o = p.add_argument_group("overlays and options")
    o.add_argument("--isolines", type=int, default=0, metavar="N", help="N isolines of the scalar / distance")
    o.add_argument(
        "--frames",
        nargs="?",
        const="intrinsic",
        metavar="GAUGE",
        help="draw gauge frames (e1 red, e2 green): intrinsic (default) | world | principal",
    )
    o.add_argument(
        "--vectors", metavar="FILE", help="tangent vectors per vertex: (V, 3) world or (V, 2) gauge"
    )
    o.add_argument("--transport", type=int, metavar="SRC", help="vector heat transport of e1 at vertex SRC")
    o.add_argument(
        "--bundle", metavar="FILE", help="a saved OperatorBundle (its eigenpairs, HKS, frames are used)"
    )
    o.add_argument(
        "--cache",
        nargs="?",
        const="",
        metavar="DIR",
        help="keep the eigenpairs for hks/eig in the operator cache (default folder: "
        "$MANIFOLDNET_CACHE or ~/.cache/manifoldnet), so the next view is instant",
    )
    o.add_argument("--label-offset", type=int, default=0, help="added to labels (RNA: 1)")
    o.add_argument(
        "--truth", nargs="+", metavar="MAP", help="ground-truth map (MAP | SRC.vts TGT.vts): error view"
    )
    o.add_argument("--error-metric", choices=["geodesic", "euclidean"], default="geodesic")
    o.add_argument("--one-based", action="store_true", help="map files are 1-based (.vts always are)")
    o.add_argument("--cmap", help="matplotlib colormap name")
    o.add_argument("--clim", nargs=2, type=float, metavar=("LO", "HI"), help="colour range")
    o.add_argument("--percentile", type=float, help="colour range from the P / 100-P percentiles")
    o.add_argument("--max-arrows", type=int, default=400, help="most arrows drawn (deterministic subset)")
    o.add_argument("--camera", default="iso", help="iso | xy | xz | yz | -xy | ... (default iso)")
    o.add_argument("--zoom", type=float, default=1.0)
    o.add_argument("--edges", action="store_true", help="draw mesh edges")
    out = p.add_argument_group("output")
    out.add_argument("--screenshot", metavar="PNG", help="render offscreen to this PNG (no display needed)")
    out.add_argument("--window", nargs=2, type=int, metavar=("W", "H"), help="window / image size in pixels")
    out.add_argument("--web", action="store_true", help="serve in the browser (needs manifoldnet[web])")
    out.add_argument("--port", type=int, default=0, help="port for --web (0: any free one)")


def _map(args_list, source, target, one_based):
    if len(args_list) == 1:
        return load_vertex_map(args_list[0], source.n_verts, one_based=one_based or None)
    if len(args_list) == 2:
        a = load_vertex_map(args_list[0], one_based=one_based or None)
        b = load_vertex_map(args_list[1], one_based=one_based or None)
        return map_from_pairs(a, b, source.n_verts, target.n_verts)
    raise MeshError(f"a map is MAP or SRC_IDS TGT_IDS, got {len(args_list)} files")


def _finish(scene, args) -> int:
    if args.screenshot:
        Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
        scene.screenshot(args.screenshot)
        print(args.screenshot)
        return 0
    scene.show(backend="trame" if args.web else None, port=args.port)
    return 0


def run(args) -> int:
    try:
        return _run(args)
    except (ViewerDependencyError, RuntimeError) as exc:
        print(f"manifoldnet view: error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    require_pyvista()
    if args.web:
        if args.screenshot:
            raise MeshError("--web and --screenshot exclude each other")
        require_web()
    mesh = load_mesh(args.mesh)
    scene_kw = {
        "off_screen": bool(args.screenshot),
        "window_size": tuple(args.window) if args.window else None,
    }
    colourings = [
        n
        for n in ("scalar", "channels", "labels", "predictions", "geodesic", "correspondence")
        if getattr(args, n) is not None
    ]
    if len(colourings) > 1 and set(colourings) != {"labels", "predictions"}:
        raise MeshError(f"one surface colour at a time, got --{' and --'.join(colourings)}")

    if args.correspondence:
        target = load_mesh(args.correspondence[0])
        vmap = _map(args.correspondence[1:], mesh, target, args.one_based)
        truth = _map(args.truth, mesh, target, args.one_based) if args.truth else None
        scene = correspondence_scene(
            mesh, target, vmap, true_map=truth, metric=args.error_metric, clim=args.clim, **scene_kw
        )
        scene.camera(args.camera, args.zoom)
        return _finish(scene, args)

    if args.predictions:
        return _finish(_prediction_scene(mesh, args, scene_kw), args)

    bundle = load_bundle(args.bundle) if args.bundle else None
    if bundle is not None and bundle.n_verts != mesh.n_verts:
        raise MeshError(f"bundle {args.bundle} has {bundle.n_verts} vertices, the mesh {mesh.n_verts}")
    if bundle is None and args.cache is not None:
        k = needed_eigenpairs(args.scalar or args.channels, mesh.n_verts)
        if k:
            bundle = OperatorCache(args.cache or None).get(mesh, fields=("eigenbasis",), k=k)
    geodesic = args.geodesic
    scene = build_scene(
        mesh,
        args.scalar,
        channels=args.channels,
        labels=args.labels,
        label_offset=args.label_offset,
        geodesic=geodesic,
        isolines=args.isolines,
        frames=args.frames,
        vectors=args.vectors,
        transport=args.transport,
        bundle=bundle,
        cmap=args.cmap,
        clim=args.clim,
        percentile=args.percentile,
        max_arrows=args.max_arrows,
        show_edges=args.edges,
        camera=args.camera,
        zoom=args.zoom,
        **scene_kw,
    )
    return _finish(scene, args)


def _prediction_scene(mesh, args, scene_kw):
    pred = load_predictions(args.predictions, mesh)
    labels = pred.labels + args.label_offset
    truth = load_labels(args.labels, mesh, offset=args.label_offset) if args.labels else None
    n_classes = int(max(labels.max(), -1 if truth is None else truth.max())) + 1
    scene = Scene(2 if truth is not None else 1, link_views=True, **scene_kw)
    if truth is not None:
        if truth.shape != labels.shape:
            raise MeshError(
                f"{args.labels} has {truth.shape[0]} labels, {args.predictions} {labels.shape[0]}"
            )
        scene.add_labels(mesh, truth, n_classes=n_classes, legend=False)
        scene.add_text("truth")
        scene.view(1)
    scene.add_labels(mesh, labels, n_classes=n_classes, legend=truth is None)
    if truth is not None:
        ok = truth >= 0
        acc = float(np.mean(labels[ok] == truth[ok])) if ok.any() else float("nan")
        scene.add_text(f"prediction (accuracy {100 * acc:.1f}%)")
    else:
        scene.add_text("prediction")
    return scene.camera(args.camera, args.zoom)
