"""``manifoldnet geodesic MESH --source I[,J...] [--source K ...] [--method heat|exact] -o OUT``.

Writes the (V,) float64 distances in ``.npy`` format to exactly ``OUT`` (whatever its
suffix) and prints it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import MeshError
from ..geometry.geodesics import geodesic_distance
from ..io import load_mesh
from . import source_vertices


def add_arguments(parser) -> None:
    parser.add_argument("mesh", help="mesh file (any format manifoldnet.load_mesh reads)")
    parser.add_argument(
        "--source",
        type=source_vertices,
        action="append",
        required=True,
        help="source vertex, or several separated by commas (0,120); repeatable",
    )
    parser.add_argument("--method", choices=("heat", "exact"), default="heat")
    parser.add_argument("--t-coef", type=float, default=1.0, help="heat time coefficient (heat method)")
    parser.add_argument(
        "--boundary",
        choices=("average", "neumann", "dirichlet"),
        default="average",
        help="heat boundary condition",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output .npy: (V,) float64 distances (inf: unreachable)"
    )


def run(args) -> int:
    out = Path(args.output)
    if not out.parent.is_dir():  # before any work
        raise FileNotFoundError(2, "the output's folder does not exist", str(out.parent))
    sources = [s for group in args.source for s in group]
    mesh = load_mesh(args.mesh)
    bad = [s for s in sources if s >= mesh.n_verts]
    if bad:
        raise MeshError(f"{args.mesh}: --source {bad[0]} is not a vertex (the mesh has {mesh.n_verts})")
    kwargs = {"t_coef": args.t_coef, "boundary": args.boundary} if args.method == "heat" else {}
    d = geodesic_distance(mesh, sources, method=args.method, **kwargs)
    atomic_write(out, lambda fh: np.save(fh, d))  # exactly this path (np.save(path) would append .npy)
    fin = np.isfinite(d)
    print(f"{args.output}: {d.size} distances, {int(fin.sum())} finite, max {d[fin].max():.6g}")
    return 0
