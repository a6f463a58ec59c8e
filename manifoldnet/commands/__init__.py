"""One module per ``manifoldnet`` subcommand (registered in :data:`manifoldnet.cli.COMMANDS`), and the
argument types they share, so every command accepts the same syntax."""

from __future__ import annotations

import argparse

__all__ = ["source_vertices"]


def source_vertices(text: str) -> list[int]:
    """argparse type of a source option: one vertex index or several separated by commas (``0`` or ``0,120``);
    the option may also be repeated. Anything else is an argument error naming the value."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a vertex index or a comma-separated list of them (e.g. 0 or 0,120)"
        )
    return [int(p) for p in parts]
