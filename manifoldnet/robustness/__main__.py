"""``python -m manifoldnet.robustness``: run the sweep and print the table (exit status 1 on any failure)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..paths import data_root
from ..testing import pathology_names
from . import (
    file_cases,
    format_failures,
    format_table,
    mesh_files,
    operator_names,
    pathology_cases,
    run_sweep,
)
from .runner import import_module_or_file


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m manifoldnet.robustness", description=__doc__)
    p.add_argument("--pathologies", nargs="*", help="pathology names (default: all; 'none' for no pathology)")
    p.add_argument("--operators", nargs="*", help="operator names, families or globs (default: all)")
    p.add_argument("--files", nargs="*", default=[], help="mesh files to sweep as well")
    p.add_argument(
        "--data",
        nargs="*",
        metavar="FOLDER",
        help="sweep every mesh of these real-data folders (no FOLDER: all folders)",
    )
    p.add_argument(
        "--max-per-folder", type=int, help="with --data: at most this many meshes per folder (evenly spaced)"
    )
    p.add_argument("--subdivisions", type=int, default=2, help="icosphere subdivisions of the pathology base")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per operator and mesh")
    p.add_argument("--workers", type=int, default=2, help="subprocess workers (at most 2)")
    p.add_argument(
        "--module", action="append", default=[], help="import this module in the workers (user registrations)"
    )
    p.add_argument("--json", help="write every result to this JSON file")
    p.add_argument("--list", action="store_true", help="list pathologies and operators, then exit")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    a = p.parse_args(argv)
    if a.list:
        print("pathologies:", " ".join(pathology_names()))
        print("operators:", " ".join(operator_names()))
        return 0
    cases = []
    if a.pathologies != ["none"]:
        cases += pathology_cases(a.pathologies or None, a.seed, a.subdivisions)
    if a.data is not None:
        cases += file_cases(
            mesh_files(folders=a.data or None, max_per_folder=a.max_per_folder), root=data_root()
        )
    cases += file_cases(a.files)
    for m in a.module:  # their registrations must exist before the names are resolved
        import_module_or_file(m)
    ops = operator_names(a.operators)
    t0 = time.time()

    def progress(r):
        if not a.quiet:
            msg = "" if r.status == "OK" else " " + " ".join(str(r.message).split())[:300]
            print(
                f"[{time.time() - t0:7.1f}s] {r.status:<9s} {r.case} :: {r.operator} ({r.seconds:.2f}s){msg}",
                file=sys.stderr,
                flush=True,
            )

    results = run_sweep(cases, ops, timeout=a.timeout, workers=a.workers, modules=a.module, progress=progress)
    print(format_table(results))
    fails = format_failures(results)
    if fails:
        print("\n" + fails)
    if a.json:
        with open(a.json, "w") as f:
            json.dump([r.__dict__ for r in results], f, indent=1)
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
