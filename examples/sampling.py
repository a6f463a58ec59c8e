"""Geodesic farthest-point sampling and geodesic Voronoi regions.

    .venv/bin/python examples/sampling.py [MESH] [--k 32] [--out out/examples/sampling.png]

Without MESH a generated "body" shape is used. Prints the samples, the covering radius and the smallest
sample-to-sample distance (farthest-point sampling guarantees the latter is at least the former), and
writes a picture: the Voronoi regions of the samples, the samples as red dots.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from _common import example_parser, load_or_generate, save_picture

from manifoldnet.analysis import farthest_point_sampling, geodesic_voronoi
from manifoldnet.geometry.geodesics import HeatMethodSolver


def main(argv=None) -> int:
    ap = example_parser(__doc__, "sampling")
    ap.add_argument("--k", type=int, default=32, help="number of samples")
    args = ap.parse_args(argv)

    mesh, _ = load_or_generate(args.mesh, "body", 1, args.n_verts)
    print(f"mesh: {mesh.n_verts} vertices, {mesh.n_faces} faces, area {mesh.total_area:.4g}")
    solver = HeatMethodSolver(mesh)  # factored once, one solve per sample
    fps = farthest_point_sampling(mesh, args.k, solver=solver)
    pair = fps.pairwise()[~np.eye(args.k, dtype=bool)]
    print(f"{args.k} farthest-point samples: {fps.samples.tolist()}")
    print(f"covering radius {fps.covering_radius:.4g} <= min pairwise distance {pair.min():.4g}")
    labels, _dist = geodesic_voronoi(mesh, fps.samples, solver=solver)
    vert_area = np.bincount(
        mesh.faces.reshape(-1), weights=np.repeat(mesh.face_areas / 3, 3), minlength=mesh.n_verts
    )
    areas = np.bincount(labels[labels >= 0], weights=vert_area[labels >= 0], minlength=args.k)
    print(
        f"Voronoi region areas: min {areas.min():.4g}, max {areas.max():.4g} (ratio "
        f"{areas.max() / areas.min():.2f})"
    )

    if args.out:
        import manifoldnet_viewer as mv

        scene = mv.Scene(1, off_screen=True, window_size=(900, 700))
        scene.add_labels(mesh, labels, legend=False)
        scene.add_points(mesh.verts[fps.samples], color="red", size=14)
        scene.add_text(f"{args.k} geodesic FPS samples + Voronoi regions")
        save_picture(scene, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
