"""Prefactored solves with a sparse symmetric positive definite matrix: CHOLMOD when available, else SuperLU.

One concept: ``SPDFactor(A).solve(B)``. CHOLMOD (supernodal Cholesky, through the ``cholespy`` package) solves
a block of right-hand sides about three times faster per column than SuperLU here; SuperLU runs in symmetric
mode (no pivoting, minimum-degree order of ``A + A^T``), which is exact for SPD matrices.

CHOLMOD reports problems by printing from C ("CHOLMOD warning: not positive definite. file: ... line: 430",
on stdout, buffered until the process exits when stdout is a pipe), outside Python's warnings. Every
factorization captures that output (:func:`native_output`) and turns it into one :class:`SolverWarning`
naming the matrix and its size (issue 18 item 15).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import MeshError

__all__ = ["SPDFactor", "SolverWarning", "native_output", "warn_native"]

_MAX_RHS = 128  # cholespy solves at most this many right-hand sides per call
_FD_LOCK = threading.Lock()  # file descriptor 2 is process-wide: one redirection at a time


class SolverWarning(RuntimeWarning):
    """A sparse solver's own message (CHOLMOD's, captured from its output), with the matrix it was about."""


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers (CHOLMOD prints with printf: to a pipe or file that is buffered until exit)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library to ask (Windows): nothing we can reach
        pass


@contextlib.contextmanager
def native_output():
    """Capture what native code writes to file descriptors 1 and 2 inside the block.

    CHOLMOD writes its warnings with ``printf`` (stdout), other libraries to stderr: both are redirected to a
    temporary file, C's buffers flushed at the end. Yields a list that holds the captured text (one string)
    once the block has ended, also when it raised; ``""`` where the descriptors cannot be redirected.
    """
    captured: list[str] = []
    with _FD_LOCK:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        try:
            saved = [os.dup(1), os.dup(2)]
        except OSError:
            captured.append("")
            yield captured
            return
        try:
            with tempfile.TemporaryFile() as tmp:
                os.dup2(tmp.fileno(), 1)
                os.dup2(tmp.fileno(), 2)
                try:
                    yield captured
                finally:
                    _flush_c_stdio()
                    os.dup2(saved[0], 1)
                    os.dup2(saved[1], 2)
                    tmp.seek(0)
                    captured.append(tmp.read(1 << 16).decode("utf-8", "replace"))
        finally:
            for fd in saved:
                os.close(fd)


def _summarize(text: str) -> str:
    """CHOLMOD's lines without their source locations, each once, joined."""
    seen: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"\s*file:\s*\S+\s*line:\s*\d+\s*$", "", line.strip())
        line = re.sub(r"^CHOLMOD (warning|error):\s*", "", line).rstrip(".")
        if line and line not in seen:
            seen.append(line)
    out = "; ".join(seen)
    return out if len(out) <= 300 else out[:297] + "..."


def warn_native(text: str, what: str, A, outcome: str = "", stacklevel: int = 3) -> None:
    """One :class:`SolverWarning` for the captured ``text`` (nothing when it is empty)."""
    msg = _summarize(text)
    if msg:
        n, m = A.shape
        warnings.warn(
            f"CHOLMOD on the {what} ({n} x {m}, {A.nnz} nonzeros): {msg}{outcome}",
            SolverWarning,
            stacklevel=stacklevel,
        )


class SPDFactor:
    """A factorization of a sparse symmetric positive definite matrix with a block ``solve``.

    Parameters
    ----------
    A : (n, n) sparse SPD matrix.
    backend : ``"auto"`` (CHOLMOD through ``cholespy``, a dependency, when importable and A factors there,
        else SuperLU), ``"cholmod"`` or ``"superlu"``.
    what : how to name A in errors; hint : appended to the singular-matrix error (what to try instead).

    Raises
    ------
    MeshError
        unknown backend, ``"cholmod"`` without cholespy, or A singular (SuperLU hit a zero pivot).
    """

    def __init__(self, A: sp.spmatrix, backend: str = "auto", what: str = "matrix", hint: str = ""):
        if backend not in ("auto", "cholmod", "superlu"):
            raise MeshError(f"unknown solver backend {backend!r}; expected 'auto', 'cholmod' or 'superlu'")
        A = sp.coo_matrix(A)
        self.n = A.shape[0]
        self.backend = "superlu"
        self._chol = self._lu = None
        if backend in ("auto", "cholmod"):
            try:
                from cholespy import CholeskySolverD, MatrixType
            except ImportError:
                if backend == "cholmod":
                    raise MeshError(
                        "backend='cholmod' needs the package cholespy (pip install cholespy)"
                    ) from None
            else:
                with native_output() as text:
                    try:
                        self._chol = CholeskySolverD(
                            self.n,
                            A.row.astype(np.int32),
                            A.col.astype(np.int32),
                            A.data.astype(np.float64),
                            MatrixType.COO,
                        )
                        self.backend = "cholmod"
                    except (ValueError, RuntimeError):  # not positive definite for CHOLMOD: SuperLU may cope
                        self._chol = None
                fallback = "" if self._chol is not None else "; solved with SuperLU instead"
                warn_native(text[0], what, A, fallback)
        if self._chol is None:
            try:
                self._lu = splu(
                    A.tocsc(),
                    permc_spec="MMD_AT_PLUS_A",
                    diag_pivot_thresh=0.0,
                    options={"SymmetricMode": True},
                )
            except RuntimeError as exc:
                raise MeshError(f"the {what} is singular ({exc}){hint}") from exc

    def solve(self, b: np.ndarray) -> np.ndarray:
        """x with ``A x = b`` for b (n,) or (n, S)."""
        b = np.ascontiguousarray(b, dtype=np.float64)
        if self._lu is not None:
            return self._lu.solve(b)
        if b.ndim == 1:
            return self.solve(b[:, None])[:, 0]
        x = np.empty_like(b)
        if b.shape[1] <= _MAX_RHS:
            self._chol.solve(b, x)
            return x
        for a in range(0, b.shape[1], _MAX_RHS):
            x[:, a : a + _MAX_RHS] = self.solve(b[:, a : a + _MAX_RHS])
        return x
