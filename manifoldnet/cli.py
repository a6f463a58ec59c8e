"""The ``manifoldnet`` command. Subcommands live in ``manifoldnet/commands/<name>.py`` and import lazily.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
A :class:`~manifoldnet.MeshError` escaping a command becomes exit code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> one-line help; the module manifoldnet.commands.<name> is imported only when the command runs
COMMANDS = {
    "demo": "run the main job on the bundled generated meshes",
    "info": "print a mesh's counts, topology and defects",
    "geodesic": "geodesic distances from source vertices",
    "precompute": "compute and cache operator bundles for a folder of meshes",
    "cache": "show (info) or tidy (clean) the operator cache",
    "view": "render a mesh with features (on screen or --screenshot)",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="manifoldnet", description="Geometry processing and learning on meshes.")
    p.add_argument("--version", action="version", version="manifoldnet 0.1.0")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _parser()
    if not argv or argv[0] not in COMMANDS:
        top.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    module = importlib.import_module(f"manifoldnet.commands.{name.replace('-', '_')}")
    sub = argparse.ArgumentParser(prog=f"manifoldnet {name}", description=COMMANDS[name])
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    from .errors import MeshError

    try:
        return int(module.run(args) or 0)
    except MeshError as exc:
        print(f"manifoldnet {name}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"manifoldnet {name}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
