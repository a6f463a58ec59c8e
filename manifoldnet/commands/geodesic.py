"""``manifoldnet geodesic MESH --source I [--source J ...] [--method heat|exact] -o out.npy``."""

from __future__ import annotations

HELP = "geodesic distances from source vertices"


def add_arguments(parser) -> None:
    parser.add_argument("mesh", help="mesh file (any format manifoldnet.load_mesh reads)")
    parser.add_argument(
        "--source", type=int, action="append", required=True, help="source vertex (repeatable)"
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
    import numpy as np

    from ..geometry.geodesics import geodesic_distance
    from ..io import load_mesh

    mesh = load_mesh(args.mesh)
    kwargs = {"t_coef": args.t_coef, "boundary": args.boundary} if args.method == "heat" else {}
    d = geodesic_distance(mesh, args.source, method=args.method, **kwargs)
    np.save(args.output, d)
    fin = np.isfinite(d)
    print(f"{args.output}: {d.size} distances, {int(fin.sum())} finite, max {d[fin].max():.6g}")
    return 0
