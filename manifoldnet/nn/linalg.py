"""Linear solvers on torch tensors shared by the heat method and implicit diffusion: batched preconditioned
conjugate gradients (any device) and a CHOLMOD factorization whose solves run on the tensors' device.

Every column of the right-hand side is its own SPD system: ``A`` and the preconditioner act on all columns at
once (one sparse product per iteration), while the step lengths are per column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from ..errors import MeshError
from ..geometry.factor import _summarize, native_output, warn_native

__all__ = ["CholmodFactor", "conjugate_gradient"]


class CholmodFactor:
    """A cholespy (CHOLMOD) factorization of SPD ``A`` (scipy sparse) whose solves run on ``device``, float64.

    CHOLMOD's printed messages become one SolverWarning; a matrix it cannot factor is a MeshError naming
    ``what`` and its size. ``solve(B)``: (n, S) float64 on ``device`` -> ``A^-1 B``.
    """

    def __init__(self, A, device, what: str = "matrix"):
        from cholespy import CholeskySolverD, MatrixType

        A = sp.coo_matrix(A)
        idx = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int32), device=device)  # noqa: E731
        data = torch.as_tensor(np.asarray(A.data, dtype=np.float64), device=device)
        with native_output() as text:
            try:
                fac = CholeskySolverD(A.shape[0], idx(A.row), idx(A.col), data, MatrixType.COO)
            except (ValueError, RuntimeError) as exc:
                fac = exc
        if isinstance(fac, Exception):
            n = A.shape[0]
            why = _summarize(text[0]) or str(fac)
            raise MeshError(
                f"CHOLMOD cannot factor the {what} ({n} x {n}, {A.nnz} nonzeros): {why}; use backend='cg'"
            ) from fac
        warn_native(text[0], what, A)
        self.solver = fac

    def solve(self, B: torch.Tensor) -> torch.Tensor:
        X = torch.empty_like(B)
        for a in range(0, B.shape[1], 128):  # cholespy's CUDA solves take at most 128 right-hand sides
            b = B[:, a : a + 128].contiguous()
            x = torch.empty_like(b)
            self.solver.solve(b, x)
            X[:, a : a + 128] = x
        return X


def _as_operator(A) -> Callable:
    return A if callable(A) else (lambda X: A @ X)


def conjugate_gradient(
    A, B: torch.Tensor, precond, rtol: float = 1e-12, maxiter: int = 20000, what: str = "conjugate gradients"
) -> torch.Tensor:
    """Solve ``A X = B`` column by column for SPD ``A``.

    Parameters
    ----------
    A : (n, n) sparse or dense tensor, or a callable ``X -> A X`` on (n, S) blocks.
    B : (n, S) right-hand sides.
    precond : (n,) diagonal of ``A`` (Jacobi), or a callable ``R -> P^-1 R`` on (n, S) blocks (SPD ``P``).
    rtol : stop when every column's residual is at most ``rtol`` times its right-hand side's norm.
    maxiter : raise :class:`MeshError` (naming ``what``) if the iterations do not get there.

    Returns
    -------
    X : (n, S), same dtype and device as ``B``.
    """
    apply_A = _as_operator(A)
    if callable(precond):
        apply_P = precond
    else:
        dinv = (1.0 / precond).unsqueeze(1)
        apply_P = lambda R: R * dinv
    X = torch.zeros_like(B)
    R = B.clone()
    bnorm = torch.linalg.vector_norm(B, dim=0).clamp_min(torch.finfo(B.dtype).tiny)
    if bool((torch.linalg.vector_norm(R, dim=0) <= rtol * bnorm).all()):
        return X
    Z = apply_P(R)
    P = Z.clone()
    rz = (R * Z).sum(0)
    for _ in range(maxiter):
        AP = apply_A(P)
        pap = (P * AP).sum(0)
        alpha = torch.where(pap > 0, rz / torch.where(pap > 0, pap, 1.0), 0.0)
        X += alpha * P
        R -= alpha * AP
        if bool((torch.linalg.vector_norm(R, dim=0) <= rtol * bnorm).all()):
            return X
        Z = apply_P(R)
        rz_new = (R * Z).sum(0)
        beta = torch.where(rz > 0, rz_new / torch.where(rz > 0, rz, 1.0), 0.0)
        P = Z + beta * P
        rz = rz_new
    worst = float((torch.linalg.vector_norm(R, dim=0) / bnorm).max())
    raise MeshError(
        f"{what} did not converge in {maxiter} iterations "
        f"(worst relative residual {worst:.2e}, rtol {rtol:.0e})"
    )
