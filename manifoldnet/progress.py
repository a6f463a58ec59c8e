"""Progress bars for long operations: one rule for when they show.

``progress=None`` (the default of every function that takes it): a bar only when stderr is a terminal, so
logs, pipes, CI and notebooks' captured output stay clean; ``True`` forces it, ``False`` turns it off.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "show_progress"]


def show_progress(progress: bool | None) -> bool:
    """Whether to draw a bar: ``progress`` itself when given, else whether stderr is an
    interactive terminal."""
    if progress is not None:
        return bool(progress)
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def progress_bar(total: int, desc: str, progress: bool | None = None, unit: str = "it", **kwargs):
    """A ``tqdm`` bar on stderr (a context manager with ``update``), disabled by :func:`show_progress`."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, disable=not show_progress(progress), file=sys.stderr, **kwargs
    )
