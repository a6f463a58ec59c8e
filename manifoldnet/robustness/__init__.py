"""Robustness sweep: every pathology (or real mesh) x every registered operator, in
subprocesses with timeouts.

Add an operator to the sweep with :func:`register` (built-in ones: :mod:`.operators`); run the sweep with
:func:`run_sweep` over :func:`pathology_cases` or :func:`file_cases`, print it with :func:`format_table`.
From a shell: ``python -m manifoldnet.robustness --pathologies clean holes --operators laplacian``.
"""

from __future__ import annotations

from ..paths import data_root
from .registry import REGISTRY, Operator, get_operator, operator_names, register
from .report import CODES, format_failures, format_table, summary
from .runner import FAILURES, STATUSES, Case, Result, execute, file_cases, pathology_cases, run_sweep

__all__ = [
    "CODES",
    "FAILURES",
    "REGISTRY",
    "STATUSES",
    "Case",
    "Operator",
    "Result",
    "execute",
    "file_cases",
    "format_failures",
    "format_table",
    "get_operator",
    "mesh_files",
    "operator_names",
    "pathology_cases",
    "register",
    "run_sweep",
    "summary",
]

MESH_SUFFIXES = (".obj", ".off", ".ply", ".stl")


def mesh_files(root=None, folders=None, max_per_folder: int | None = None) -> list:
    """Every mesh file (by suffix, case-insensitive) under the real-data root (``paths.data_root()``), sorted;
    ``max_per_folder``: at most that many per top-level folder, evenly spaced (a deterministic sample)."""
    root = data_root(root)
    subs = [root / f for f in folders] if folders else sorted(p for p in root.iterdir() if p.is_dir())
    out = []
    for s in subs:
        files = sorted(p for p in s.rglob("*") if p.is_file() and p.suffix.lower() in MESH_SUFFIXES)
        if max_per_folder is not None and len(files) > max_per_folder:
            step = len(files) / max_per_folder
            files = [files[int(i * step)] for i in range(max_per_folder)]
        out += files
    return sorted(out)
