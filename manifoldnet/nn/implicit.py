"""Backward-Euler (implicit) heat diffusion with one time per channel, sparse and differentiable.

For each channel c: ``(M + t_c L) y_c = M x_c``, with ``L`` the weak PSD Laplacian (block-diagonal over a
batch)
and ``M`` the diagonal mass. Never a dense V x V matrix: DiffusionNet's implicit mode builds one and a dense
Cholesky per channel, O(C V^3).

Method. The times are sorted onto a grid of powers of two, ``t_g = 2^round(log2 t)``. For each grid time one
sparse Cholesky factor of ``M + t_g L`` (CHOLMOD through ``cholespy``) preconditions conjugate gradients for
every channel of that group: the preconditioned operator ``(M + t_g L)^-1 (M + t L)`` has its spectrum in
``[2^-1/2, 2^1/2]``, so each extra digit of accuracy costs about one iteration, and a channel whose time sits
on the grid (the times repeat, e.g. at evaluation) is solved exactly by the first step. Factors are cached per
Laplacian tensor and grid time (a bounded LRU), so as learned times drift during training a factorization is
only paid when a time crosses into a new grid cell. Without ``cholespy`` (or where it refuses the device), the
same iteration runs with a Jacobi preconditioner on the inputs' device: more iterations, no factorization.

Gradients (adjoint, through the same solves): with ``U = (M + t L)^-1 G`` for the output gradient ``G``,
``dx = M U`` and ``dt_c = -u_c^T L y_c``.

All solves run in float64 (output in the input dtype).
"""

from __future__ import annotations

import atexit
import weakref
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
import torch

from .linalg import CholmodFactor, conjugate_gradient

__all__ = ["ImplicitDiffusion", "ImplicitDiffusionSolver", "clear_factor_cache"]

_MAX_CACHED_ROWS = 8_000_000  # total rows of cached factors (~ a few GB at most for surface meshes)
_CACHE: OrderedDict = OrderedDict()  # (id(L), grid time) -> (weakref(L), rows, factor)


def clear_factor_cache() -> None:
    """Drop every cached factorization."""
    _CACHE.clear()


atexit.register(clear_factor_cache)  # free the factors before the extension module is torn down


def _cholespy():
    try:
        import cholespy
    except ImportError:  # pragma: no cover - cholespy is a dependency; a stripped environment lacks it
        return None
    return cholespy


def _scipy_csr(L: torch.Tensor) -> sp.csr_matrix:
    return sp.csr_matrix(
        (
            L.values().detach().cpu().to(torch.float64).numpy(),
            L.col_indices().cpu().numpy(),
            L.crow_indices().cpu().numpy(),
        ),
        shape=tuple(L.shape),
    )


def _shifted_factor(L_sp: sp.csr_matrix, mass: np.ndarray, t: float, device) -> CholmodFactor:
    """The CHOLMOD factor of ``M + t L`` whose solves run on ``device`` (float64)."""
    return CholmodFactor(t * L_sp + sp.diags(mass), device, what=f"M + t L at t = {t:g}")


class ImplicitDiffusionSolver:
    """Solves ``(M + t_c L) Y = M X`` for a (V, C) block (see the module docstring).

    Parameters
    ----------
    laplacian : (V, V) torch sparse CSR (block-diagonal for a batch); mass : (V,).
    backend : ``"auto"`` (CHOLMOD-preconditioned CG when cholespy works on this device, else Jacobi CG),
        ``"cholmod"`` or ``"cg"``.
    rtol : relative residual per column (1e-10 here; ``diffuse_implicit`` passes 1e-7 for float32 inputs).
    """

    def __init__(
        self, laplacian, mass, backend: str = "auto", rtol: float = 1e-10, maxiter: int | None = None
    ):
        if backend not in ("auto", "cholmod", "cg"):
            raise ValueError(f"backend must be 'auto', 'cholmod' or 'cg', got {backend!r}")
        self.L = laplacian
        self.L64 = laplacian.to(torch.float64)
        self.mass64 = mass.detach().to(torch.float64)
        self.device = mass.device
        self.rtol = rtol
        self.auto = backend == "auto"
        if backend == "auto":
            backend = "cholmod" if _cholespy() is not None else "cg"
        self.backend = backend
        self.maxiter = maxiter or (200 if backend == "cholmod" else 20000)
        self._L_sp = None

    # ------------------------------------------------------------ factors
    def _factor(self, t: float):
        key = (id(self.L), t)
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is self.L:
            _CACHE.move_to_end(key)
            return hit[2]
        if self._L_sp is None:
            self._L_sp = _scipy_csr(self.L)
        factor = _shifted_factor(self._L_sp, self.mass64.cpu().numpy(), t, self.device)
        rows = self.L.shape[0]
        _CACHE[key] = (weakref.ref(self.L), rows, factor)
        total = sum(v[1] for v in _CACHE.values())
        while total > _MAX_CACHED_ROWS and len(_CACHE) > 1:
            _, (_, r, _) = _CACHE.popitem(last=False)
            total -= r
        return factor

    # -------------------------------------------------------------- solve
    def _apply_A(self, t):
        L, m = self.L64, self.mass64[:, None]
        return lambda X: m * X + (L @ X) * t

    def solve(self, B: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """(V, C) float64 right-hand sides ``B`` (already multiplied by M), times (C,) float64 >= 0 ->
        ``Y`` (V, C) with ``(M + t_c L) y_c = b_c``."""
        Y = torch.empty_like(B)
        zero = t == 0
        if bool(zero.any()):
            Y[:, zero] = B[:, zero] / self.mass64[:, None]
        active = torch.nonzero(~zero).flatten()
        if active.numel() == 0:
            return Y
        chunk = self._chunk(B.shape[0])
        if self.backend == "cg":
            diag = self._diag()[:, None]
            for cols in active.split(chunk):
                tc = t[cols]
                dinv = 1.0 / (self.mass64[:, None] + diag * tc)
                Y[:, cols] = conjugate_gradient(
                    self._apply_A(tc),
                    B[:, cols],
                    lambda R, d=dinv: R * d,
                    self.rtol,
                    self.maxiter,
                    what="implicit diffusion (Jacobi CG)",
                )
            return Y
        grid = torch.exp2(torch.round(torch.log2(t[active]))).cpu()
        for g in torch.unique(grid).tolist():  # one preconditioner (grid time) per group of channels
            try:
                factor = self._factor(g)
            except (RuntimeError, ValueError, TypeError):
                if not self.auto:  # backend="cholmod" asked for explicitly: say why it cannot be had
                    raise
                self.backend, self.maxiter = "cg", 20000  # e.g. a cholespy built without this device
                return self.solve(B, t)
            for cols in active[(grid == g).to(active.device)].split(chunk):
                Y[:, cols] = conjugate_gradient(
                    self._apply_A(t[cols]),
                    B[:, cols],
                    factor.solve,
                    self.rtol,
                    self.maxiter,
                    what="implicit diffusion (CHOLMOD-preconditioned CG)",
                )
        return Y

    @staticmethod
    def _chunk(V: int) -> int:
        """Channels solved together: all of them up to ~1 GB of CG work arrays (8 float64 blocks of
        V x chunk),
        fewer on very large meshes (at 1M vertices 16 at a time instead of 128)."""
        return max(1, min(128, int(2**30 // (8 * 8 * V))))

    def _diag(self):
        L = self.L64
        rows = torch.repeat_interleave(torch.arange(L.shape[0], device=L.device), L.crow_indices().diff())
        on = rows == L.col_indices()
        d = torch.zeros(L.shape[0], dtype=torch.float64, device=L.device)
        return d.index_add_(0, rows[on], L.values()[on])


class ImplicitDiffusion(torch.autograd.Function):
    """``y = (M + t L)^-1 M x`` per channel, with adjoint gradients for ``x`` and ``t``."""

    @staticmethod
    def forward(ctx, x, t, solver):
        m = solver.mass64[:, None]
        t64 = t.detach().to(torch.float64)
        y64 = solver.solve(m * x.detach().to(torch.float64), t64)
        ctx.solver = solver
        ctx.save_for_backward(y64, t64)
        ctx.x_dtype, ctx.t_dtype = x.dtype, t.dtype
        return y64.to(x.dtype)

    @staticmethod
    def backward(ctx, grad_y):
        y64, t64 = ctx.saved_tensors
        solver = ctx.solver
        U = solver.solve(grad_y.to(torch.float64), t64)  # A is symmetric: A^-T = A^-1
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = (solver.mass64[:, None] * U).to(ctx.x_dtype)
        if ctx.needs_input_grad[1]:
            gt = (-(U * (solver.L64 @ y64)).sum(0)).to(ctx.t_dtype)
        return gx, gt, None
