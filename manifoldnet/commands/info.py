"""``manifoldnet info MESH [--json]``: counts, bounding box, area, topology, manifoldness, defects.

An unreadable or invalid file gives exit code 2 and one line saying what is wrong (the CLI turns the
:class:`~manifoldnet.MeshError` into that line); what the loader changed (triangulated polygons, welded
STL) is listed under ``load_warnings``.
"""

from __future__ import annotations

import argparse
import json
import warnings

from ..facts import format_facts, mesh_facts
from ..io import MeshIOWarning, load_mesh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mesh", help="mesh file (OBJ, OFF, PLY, STL)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MeshIOWarning)
        mesh = load_mesh(args.mesh)
    facts = {"file": str(args.mesh), **mesh_facts(mesh)}
    facts["load_warnings"] = [str(w.message) for w in caught if issubclass(w.category, MeshIOWarning)]
    if args.json:
        print(json.dumps(facts))
    else:
        print(format_facts(facts))
    return 0
