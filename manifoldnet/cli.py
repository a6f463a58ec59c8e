"""The ``manifoldnet`` command. Subcommands live in ``manifoldnet/commands/<name>.py`` and import lazily.

Each command module defines ``add_arguments(parser)`` and ``run(args) -> int``; its one-line help is
written once, in :data:`COMMANDS` (the top-level ``--help`` lists it without importing the module).
Every error ends in :func:`fail`: one line on stderr and exit code 2 (a bad argument, a missing file, an
unreadable mesh, any exception a command lets escape); ``--debug`` anywhere on the line adds the traceback.
Ctrl-C exits 130 with one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from manifoldnet import __version__
from manifoldnet.errors import MeshError

# name -> one-line help; the module manifoldnet.commands.<name> is imported only when the command runs
COMMANDS = {
    "demo": "run the main job on the bundled generated meshes",
    "info": "print a mesh's counts, topology and defects",
    "geodesic": "geodesic distances from source vertices",
    "precompute": "compute and cache operator bundles for a folder of meshes",
    "cache": "show (info) or tidy (clean) the operator cache",
    "view": "render a mesh with features (on screen, --screenshot PNG, or --web)",
    "train": "train a model for a task (segmentation, classification, correspondence) from a config",
    "eval": "evaluate a checkpoint on a split or a data folder; write metrics and predictions",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="manifoldnet",
        description="Geometry processing and learning on meshes.",
        epilog="--debug (anywhere on the line): show the traceback of an error instead of one line.",
    )
    p.add_argument("--version", action="version", version=f"manifoldnet {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, text in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


class _Parser(argparse.ArgumentParser):
    """An argument error is one line on stderr and exit code 2 (argparse adds the whole usage)."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def error_line(exc: BaseException, limit: int = 400) -> str:
    """One line saying what went wrong: the message of an error raised on purpose (MeshError, a file that
    cannot be read, a bad value), at most ``limit`` characters (a summary, never a whole array); any other
    exception is named as a bug to report with ``--debug``."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > limit:
        text = text[: limit - 5] + " ..."
    if not isinstance(exc, (MeshError, OSError, ValueError)):
        text = f"{type(exc).__name__}: {text} (unexpected: rerun with --debug and report the traceback)"
    return text


def fail(command: str, exc: BaseException, debug: bool = False) -> int:
    """The command line's one error path: one line on stderr (plus the traceback with ``--debug``), exit 2."""
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    print(f"manifoldnet {command}: error: {error_line(exc)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    top = _parser()
    if not argv or argv[0] not in COMMANDS:
        top.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    try:
        module = importlib.import_module(f"manifoldnet.commands.{name.replace('-', '_')}")
        sub = _Parser(prog=f"manifoldnet {name}", description=COMMANDS[name])
        module.add_arguments(sub)
        try:
            # a command whose positionals may follow options (``train CONFIG --resume key=value``) says so
            parse = sub.parse_intermixed_args if getattr(module, "INTERMIXED", False) else sub.parse_args
            args = parse(argv[1:])
        except SystemExit as exc:  # --help: 0; an argument error: 2, its line already printed
            return int(exc.code or 0)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"manifoldnet {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 (the one place errors become a line and an exit code)
        return fail(name, exc, debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
