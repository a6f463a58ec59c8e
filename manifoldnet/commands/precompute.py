"""``manifoldnet precompute DIR --k 128 --cache DIR [--workers N] [--backend ray [--address ADDRESS]]``:
compute and cache operator bundles.

Every mesh file in DIR (OFF, OBJ, PLY, STL; with ``--recursive`` in its subfolders too) gets the bundle of the
requested fields, computed in worker processes (or Ray tasks: ``--backend ray``, a local Ray instance of
``--workers`` CPUs, or the cluster at ``--address``) and stored in the verified disk cache; meshes already
cached are skipped (rerun to resume), a failing mesh is reported with its reason and the rest go on. Exit code
0 when every mesh succeeded, 1 when some failed, 2 for a bad folder (or ``--backend ray`` without Ray).
"""

from __future__ import annotations

import argparse

from ..data.datasets import FolderDataset
from ..data.preprocess import PreprocessInterrupted, preprocess
from ..data.ray_backend import require_ray
from ..data.transforms import center_and_scale
from ..operators.cache import OperatorCache
from ..operators.fields import FIELD_TABLE
from ..operators.spec import DIFFUSIONNET_FIELDS, OperatorSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", help="folder of meshes (OFF, OBJ, PLY, STL)")
    parser.add_argument(
        "--recursive", action="store_true", help="also the meshes in subfolders (named by relative path)"
    )
    parser.add_argument("--k", type=int, default=128, help="eigenpairs (default 128)")
    parser.add_argument(
        "--cache", default=None, help="cache folder (default $MANIFOLDNET_CACHE or ~/.cache/manifoldnet)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads per worker (default 1)")
    parser.add_argument(
        "--backend",
        default="process",
        choices=("process", "ray"),
        help="process: a local process pool (default); ray: one Ray task per mesh "
        "(pip install 'manifoldnet[ray]'; the cache must be a path every Ray node can write)",
    )
    parser.add_argument(
        "--address",
        default=None,
        help="--backend ray: the cluster to join (auto: the one `ray start` started here; HOST:PORT: a head "
        "node); default $RAY_ADDRESS, else a local Ray instance of --workers CPUs",
    )
    parser.add_argument(
        "--fields",
        default=",".join(DIFFUSIONNET_FIELDS),
        help=f"comma-separated fields (default {','.join(DIFFUSIONNET_FIELDS)}); valid names: "
        f"{', '.join(FIELD_TABLE)} (patches needs --patch-k, --patch-radius or --patch-rings)",
    )
    patch = parser.add_mutually_exclusive_group()
    patch.add_argument(
        "--patch-k", type=int, default=None, help="patches field: the k nearest geodesic neighbours"
    )
    patch.add_argument(
        "--patch-radius",
        type=float,
        default=None,
        help="patches field: the neighbours within this geodesic radius",
    )
    patch.add_argument(
        "--patch-rings",
        type=int,
        default=None,
        help="patches field: every vertex within this many edges (2: the two-ring)",
    )
    parser.add_argument("--laplacian", default="cotan", choices=("cotan", "robust"))
    parser.add_argument("--gauge", default="intrinsic", choices=("intrinsic", "world", "principal"))
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument(
        "--normalize", action="store_true", help="centre and scale each mesh to unit area first"
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (there is none when stderr is not a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    fields = tuple(f.strip() for f in args.fields.split(",") if f.strip())
    if "patches" not in fields and any(
        v is not None for v in (args.patch_k, args.patch_radius, args.patch_rings)
    ):
        raise ValueError(
            "--patch-k / --patch-radius / --patch-rings apply to the patches field only: "
            "add patches to --fields"
        )
    spec = OperatorSpec(  # a bad value is a ValueError: one line, exit 2 (cli.fail)
        fields=fields,
        k=args.k,
        laplacian=args.laplacian,
        gauge=args.gauge,
        dtype=args.dtype,
        patch_k=args.patch_k,
        patch_radius=args.patch_radius,
        patch_rings=args.patch_rings,
    )
    if args.address is not None and args.backend != "ray":
        raise ValueError("--address names a Ray cluster: it needs --backend ray")
    if args.backend == "ray":
        try:
            require_ray()
        except ImportError as exc:  # the extra is missing: one line and exit 2, like any bad option
            raise ValueError(str(exc)) from exc
    OperatorCache(args.cache)  # an empty root or a file is refused before any work
    dataset = FolderDataset(args.dir, recursive=args.recursive)
    try:
        summary = preprocess(
            dataset,
            spec,
            cache=args.cache,
            workers=args.workers,
            threads_per_worker=args.threads,
            progress=False if args.no_progress else None,  # None: a bar on a terminal only
            pre_transform=center_and_scale if args.normalize else None,
            backend=args.backend,
            address=args.address,
        )
    except PreprocessInterrupted as exc:  # Ctrl-C: say what was done, then exit 130 (cli.main)
        print(exc.summary, flush=True)
        raise
    print(summary)
    return 0 if summary.ok else 1
