"""Atomic file writes: a temporary file in the target's folder, flushed and fsynced, renamed over the target.

Readers see the old file or the complete new one, never a partial write; two writers of the same path each
rename a complete file. The file gets the mode any file a program creates gets (``0666`` less the umask:
``0644`` under the usual ``022``), not ``mkstemp``'s private ``0600``, so a folder shared by a team or mounted
for a cluster's workers stays readable by everyone the umask lets in.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "created_file_mode"]


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, briefly, for every thread)
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def created_file_mode() -> int:
    """``0o666 & ~umask``: the permission bits ``open(path, "w")`` would give a new file."""
    return 0o666 & ~_umask()


def atomic_write(
    path: str | os.PathLike, write: Callable, prefix: str | None = None, suffix: str = ".tmp"
) -> Path:
    """Call ``write(fh)`` on a binary temporary file next to ``path``, then rename it over ``path``.

    The temporary is named ``<prefix><random><suffix>`` (default prefix ``.<name>.``) and removed if
    anything fails; nothing is left behind but by a killed process (callers sweep those up by name and age).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=suffix)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, created_file_mode())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
