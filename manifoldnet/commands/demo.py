"""``manifoldnet demo``: the main job. For now: generate the bundled meshes and print their facts.

Writes ``meshes/<name>.obj`` (or ``--out``) with :func:`manifoldnet.bundled.write_bundled`, checks each
against ``meshes/MANIFEST.tsv`` and prints one table row per mesh. Exit code 1 if a mesh disagrees with
the manifest.
"""

from __future__ import annotations

import argparse

HELP = "run the main job on the bundled generated meshes"

_COLS = (
    ("name", "name"), ("V", "n_verts"), ("F", "n_faces"), ("chi", "euler_characteristic"), ("genus", "genus"),
    ("bnd", "n_boundary_loops"), ("comp", "n_components"), ("e-mfd", "is_edge_manifold"),
    ("v-mfd", "is_vertex_manifold"), ("oriented", "is_oriented"), ("area", "total_area"),
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="folder for the generated meshes (default: meshes/)")


def format_table(rows: list[dict[str, str]]) -> str:
    """A plain aligned text table of manifest rows."""
    table = [[h for h, _ in _COLS]] + [[r[k] if r[k] != "" else "-" for _, k in _COLS] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_COLS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table)


def run(args: argparse.Namespace) -> int:
    from ..bundled import read_manifest, write_bundled
    from ..paths import meshes_root

    rows = write_bundled(args.out, manifest=False)
    print(f"generated {len(rows)} meshes in {args.out or meshes_root()}")
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
