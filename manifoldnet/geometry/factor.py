"""Prefactored solves with a sparse symmetric positive definite matrix: CHOLMOD when available, else SuperLU.

One concept: ``SPDFactor(A).solve(B)``. CHOLMOD (supernodal Cholesky, through the ``cholespy`` package) solves
a block of right-hand sides about three times faster per column than SuperLU here; SuperLU runs in symmetric
mode (no pivoting, minimum-degree order of ``A + A^T``), which is exact for SPD matrices.

Where the factorization itself is the cost (a solver set up for a few solves: the heat method), Eigen's
simplicial Cholesky (``SimplicialLLT`` with AMD order, through libigl's ``min_quad_with_fixed``, when libigl
is installed) factors a mesh Laplacian 1.7-3.7x faster than CHOLMOD as ``cholespy`` ships it (10-35k
vertices, one thread: 27 vs 46 ms on a 10k sphere, 20 vs 75 ms on a 15k RNA surface), but solves a block of
right-hand sides 2-4x slower per column (single columns ~1.6x). ``prefer="setup"`` takes it and moves to
CHOLMOD, once, when the columns solved so far (this call's included) reach :data:`WIDE`: by then CHOLMOD's
faster solves repay its factorization (rent or buy: a factor used for a few solves never pays for CHOLMOD,
one used for many pays for both factorizations at most about twice what the better choice would have).
Simplicial factors lose to supernodal ones as the fill grows: ``prefer="setup"`` takes Eigen only up to
:data:`SETUP_MAX_N` unknowns (the heat method's setup, ``benchmarks/scale.py``: Eigen 2.6x faster than
CHOLMOD at 100k vertices, 1.3x slower at 300k and several times slower at 1M).

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

__all__ = ["BACKENDS", "SETUP_MAX_N", "WIDE", "SPDFactor", "SolverWarning", "native_output", "warn_native"]

BACKENDS = ("auto", "eigen", "cholmod", "superlu")
WIDE = 64
"""``prefer="setup"``: once this many columns have been solved (in one call or over several) an Eigen factor
moves to CHOLMOD (module docstring): at 10k vertices CHOLMOD saves 0.3-0.8 ms per column and costs ~45 ms."""
SETUP_MAX_N = 150_000
"""``prefer="setup"`` factors with Eigen (simplicial) only up to this many unknowns, else with CHOLMOD
(supernodal), whose factorization is the faster one beyond (module docstring)."""
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


def _eigen_llt(A: sp.csc_matrix):
    """Eigen's SimplicialLLT of A through libigl (``min_quad_with_fixed`` without constraints), or None
    when libigl is missing or Eigen refuses A (not positive definite)."""
    try:
        import igl

        data = igl.min_quad_with_fixed_data()
        igl.min_quad_with_fixed_precompute(
            A, np.empty(0, np.int64), sp.csc_matrix((0, A.shape[0])), True, data
        )
    except (ImportError, AttributeError, TypeError):  # no libigl, or one older than its nanobind API (2.6)
        return None
    except RuntimeError:  # Eigen: not positive definite
        return None
    return data


def _eigen_solve(data, b: np.ndarray) -> np.ndarray:
    """x with ``A x = b`` for b (n, S): libigl minimizes ``x^T A x / 2 + x^T B``, so B = -b."""
    import igl

    S = b.shape[1]
    return igl.min_quad_with_fixed_solve(data, -b, np.zeros((0, S)), np.zeros((0, S)))


class SPDFactor:
    """A factorization of a sparse symmetric positive definite matrix with a block ``solve``.

    Parameters
    ----------
    A : (n, n) sparse SPD matrix.
    backend : one of :data:`BACKENDS`: ``"auto"`` (below), ``"eigen"`` (libigl), ``"cholmod"`` (cholespy) or
        ``"superlu"`` (scipy).
    what : how to name A in errors; hint : appended to the singular-matrix error (what to try instead).
    prefer : what ``"auto"`` optimizes. ``"solves"``: CHOLMOD through ``cholespy`` (a dependency) when it
        factors A, else SuperLU. ``"setup"``: Eigen first when libigl is importable and A has at most
        :data:`SETUP_MAX_N` rows (cheapest factorization), then CHOLMOD once :data:`WIDE` columns have been
        solved (module docstring), else as ``"solves"``.

    Attributes
    ----------
    backend : the solver in use now (``"eigen"``, ``"cholmod"`` or ``"superlu"``).

    Raises
    ------
    MeshError
        unknown backend, ``"cholmod"`` without cholespy, ``"eigen"`` without libigl or refused by it, or A
        singular (SuperLU hit a zero pivot).
    """

    def __init__(
        self,
        A: sp.spmatrix,
        backend: str = "auto",
        what: str = "matrix",
        hint: str = "",
        prefer: str = "solves",
    ):
        if backend not in BACKENDS:
            raise MeshError(f"unknown solver backend {backend!r}; expected one of {BACKENDS}")
        if prefer not in ("solves", "setup"):
            raise MeshError(f"prefer must be 'solves' or 'setup', got {prefer!r}")
        self.n = A.shape[0]
        self.what = what
        self.backend = "superlu"
        self._chol = self._lu = self._eigen = None
        self._upgrade: sp.csc_matrix | None = None  # A, kept while an Eigen factor may move to CHOLMOD
        self._columns = 0  # columns solved so far by the Eigen factor
        if backend == "eigen" or (backend == "auto" and prefer == "setup" and self.n <= SETUP_MAX_N):
            # A is symmetric: its CSR arrays are its CSC arrays (no conversion)
            if sp.isspmatrix_csr(A):
                csc = sp.csc_matrix((A.data, A.indices, A.indptr), A.shape)
                csc.has_sorted_indices = A.has_sorted_indices  # A's flag, usually known already
            else:
                csc = A.tocsc()
            if not csc.has_sorted_indices:
                csc = csc.sorted_indices()
            self._eigen = _eigen_llt(csc)
            if self._eigen is not None:
                self.backend = "eigen"
                if backend == "auto":
                    self._upgrade = csc
                return
            if backend == "eigen":
                raise MeshError(
                    f"backend='eigen' needs libigl (pip install libigl) and a positive definite {what}"
                )
        self._factor(sp.coo_matrix(A), backend, hint)

    def _factor(self, A: sp.coo_matrix, backend: str, hint: str = "") -> None:
        """CHOLMOD (``backend`` "auto" or "cholmod"), else SuperLU (``backend`` "auto" or "superlu")."""
        what = self.what
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
        if b.ndim == 1:
            return self.solve(b[:, None])[:, 0]
        if self._eigen is not None:
            self._columns += b.shape[1]
            if self._upgrade is None or self._columns < WIDE:
                return _eigen_solve(self._eigen, b)
            A, self._upgrade = self._upgrade, None
            self._factor(A.tocoo(), "auto")
            self._eigen = None
        if self._lu is not None:
            return self._lu.solve(b)
        x = np.empty_like(b)
        if b.shape[1] <= _MAX_RHS:
            self._chol.solve(b, x)
            return x
        for a in range(0, b.shape[1], _MAX_RHS):
            x[:, a : a + _MAX_RHS] = self.solve(b[:, a : a + _MAX_RHS])
        return x
