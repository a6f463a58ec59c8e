"""Heat-method geodesic distance in torch, on the device of the inputs (CPU or CUDA).

:class:`TorchHeatMethod` takes the operators of a :class:`~manifoldnet.geometry.geodesics.HeatMethodSolver`
(built once in scipy: intrinsic Delaunay triangulation, heat operator, grounded Laplacian, gradient) and
solves both linear systems for a whole batch of sources with Jacobi-preconditioned conjugate gradients on
torch sparse CSR matrices, in float64 (output in any dtype), the heat solve iteratively refined down to its
smallest values: equal to the scipy path to 1e-5 relative with the default tolerance. With ``cholespy``
(a dependency; absent only in a stripped environment) the systems are instead factorized once (CHOLMOD)
and solved on the device (its CUDA solves included). Never hard-codes a device: the sources' device is
used (or ``device=``).

Conventions
-----------
Same as the scipy path: ``(S, V)`` distances, ``inf`` where no source of the row can reach, never negative. A
row whose sources include several in one component has them pinned to 0 by the scipy solver's Poisson
correction on the CPU (:meth:`HeatMethodSolver._pin`).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from ..errors import MeshError
from ..geometry.factor import SolverWarning
from ..geometry.geodesics import HeatMethodSolver, validate_sources
from ..operators.torch_ops import check_device, to_torch_csr
from .linalg import CholmodFactor, conjugate_gradient

__all__ = ["TorchHeatMethod"]

_REFINE = 40  # rounds of refinement of the CG heat solve: rtol^40 is far below float64's range
_HEAT_FLOOR = 1e-280  # smaller heat is not resolved (float64 rounding of A @ X reaches the subnormals)
_WHAT = {"_A_ref": "heat operator", "_A_int": "heat operator (interior)", "_L_keep": "Laplacian"}


def _cholmod(A: sp.spmatrix, device, what: str = "matrix") -> CholmodFactor:
    """A CHOLMOD factorization of SPD ``A`` whose solves run on ``device`` (see :class:`CholmodFactor`)."""
    return CholmodFactor(A, device, what)


class TorchHeatMethod:
    """Batched heat-method distances in torch.

    Parameters
    ----------
    solver : a HeatMethodSolver (its triangulation, time, boundary condition and components are used), or a
        Mesh (a solver is built with ``solver_kwargs``).
    dtype : dtype of the returned distances; the solves always run in float64 (the Poisson step is too
        ill-conditioned for float32 conjugate gradients).
    rtol : CG tolerance.
    backend : ``"cg"`` (Jacobi-preconditioned conjugate gradients, any device), ``"cholmod"`` (prefactored:
        ``cholespy`` factorizes once with CHOLMOD and solves on the CPU or on CUDA,
        float64) or ``"auto"`` (cholmod when cholespy is installed, else cg).
    """

    def __init__(
        self, solver, dtype=torch.float64, rtol: float = 1e-12, backend: str = "auto", **solver_kwargs
    ):
        if backend not in ("auto", "cg", "cholmod"):
            raise MeshError(f"unknown backend {backend!r}; expected 'auto', 'cg' or 'cholmod'")
        if not isinstance(solver, HeatMethodSolver):
            solver = HeatMethodSolver(solver, **solver_kwargs)
        self.solver = solver
        self.out_dtype = dtype
        self.dtype = torch.float64
        self.rtol = rtol
        if backend != "cg":
            try:
                import cholespy  # noqa: F401

                ok = True
            except ImportError:
                ok = False
            if backend == "cholmod" and not ok:
                raise MeshError(
                    "backend='cholmod' needs the package cholespy (pip install cholespy) "
                    "and dtype=torch.float64"
                )
            backend = "cholmod" if ok else "cg"
        self.backend = backend
        self._dev: dict = {}

    def _ops(self, device):
        key = str(device)
        if key not in self._dev:
            s = self.solver
            t = lambda a: torch.as_tensor(np.array(a), device=device)
            ops = {
                "G": to_torch_csr(s._G, device, self.dtype),
                "GT": to_torch_csr(s._GT, device, self.dtype),
            }
            for name in ("_A_ref", "_A_int", "_L_keep"):
                A = getattr(s, name, None)
                if A is not None and A.shape[0]:
                    if self.backend == "cholmod":
                        ops[name] = _cholmod(A, device, _WHAT[name])
                    else:
                        ops[name] = (to_torch_csr(A, device, self.dtype), t(A.diagonal()).to(self.dtype))
            if getattr(s, "_A_IB", None) is not None:
                ops["A_IB"] = to_torch_csr(s._A_IB, device, self.dtype)
            for name in ("_ref", "_int", "_bnd", "_keep", "_comp"):
                if getattr(s, name, None) is not None:
                    ops[name] = t(getattr(s, name)).long()
            ops["referenced"] = t(s.mesh.referenced)
            self._dev[key] = ops
        return self._dev[key]

    def _cg(self, ops, name, B):
        if self.backend == "cholmod":
            return ops[name].solve(B)
        A, diag = ops[name]
        return conjugate_gradient(A, B, diag, self.rtol, what="heat method (Jacobi CG)")

    def _heat(self, ops, name, B):
        """The heat solve, resolved down to its smallest values.

        Far from the sources the heat is tiny (``exp(-d^2 / 4t)``, below 1e-200 on a fine mesh), yet only its
        gradient's direction is used, so every vertex needs a few correct digits. CG stops at an error of
        ``rtol`` times the largest value, which is noise there (the distances were off by a quarter of the
        diameter on a 2.5k-vertex sphere); each round of iterative refinement (solve for the residual, which
        is computed to each vertex's own rounding) multiplies that error by about ``rtol``, until the
        correction is below 1e-6 of every value it corrects (at most ``_REFINE`` rounds; a
        heat below the float64 range stays 0 and its distance is the Poisson step's extrapolation).
        """
        X = self._cg(ops, name, B)
        if self.backend == "cholmod":
            return X
        A = ops[name][0]
        for _ in range(_REFINE):
            E = self._cg(ops, name, B - A @ X)
            X += E
            if bool((E.abs() <= 1e-6 * X.abs() + _HEAT_FLOOR).all()):
                break
        else:
            warnings.warn(
                f"heat method (Jacobi CG): the heat is not resolved to its smallest values after {_REFINE} "
                "rounds of refinement; distances far from the sources may be inaccurate: use "
                "backend='cholmod' or a larger t_coef",
                SolverWarning,
                stacklevel=3,
            )
        return X

    def distances(self, sources_list, device=None) -> torch.Tensor:
        """(S, V) distances; ``sources_list``: a 1D LongTensor (one source per row) or a list of index sets.
        Runs on ``device``, else on the device of ``sources_list`` if it is a tensor, else the CPU."""
        s = self.solver
        V = s.mesh.n_verts
        if device is None:
            device = sources_list.device if isinstance(sources_list, torch.Tensor) else torch.device("cpu")
        if isinstance(sources_list, torch.Tensor):
            sources_list = sources_list.detach().cpu().numpy()
        if isinstance(sources_list, (int, np.integer)) or (
            isinstance(sources_list, np.ndarray) and sources_list.ndim == 0
        ):
            raise MeshError(
                "sources_list must be a sequence of source sets (or a 1D tensor of source vertices)"
            )
        sets = [validate_sources(x, V, f"sources_list[{i}]") for i, x in enumerate(sources_list)]
        if not sets:
            raise MeshError("sources_list is empty: give at least one source set")
        ops = self._ops(check_device(device))
        S = len(sets)
        cols = np.repeat(np.arange(S), [len(x) for x in sets])
        verts = np.concatenate(sets)
        n = s.solve_mesh.n_verts  # V + refinement midpoints
        rhs = torch.zeros((n, S), dtype=self.dtype, device=device)
        rhs[torch.as_tensor(verts, device=device), torch.as_tensor(cols, device=device)] = 1.0
        # heat (same boundary handling as HeatMethodSolver._heat)
        u = torch.zeros_like(rhs)
        u[ops["_ref"]] = self._heat(ops, "_A_ref", rhs[ops["_ref"]])
        if s.boundary != "neumann" and s._has_boundary:
            ud = torch.zeros_like(rhs)
            bnd = ops["_bnd"]
            ud[bnd] = torch.where(rhs[bnd] != 0, u[bnd], 0.0)
            if "_A_int" in ops:
                ud[ops["_int"]] = self._heat(ops, "_A_int", rhs[ops["_int"]] - ops["A_IB"] @ ud[bnd])
            u = ud if s.boundary == "dirichlet" else 0.5 * (u + ud)
        u.clamp_(min=0.0)  # non-positive heat gives no direction (geodesics module docstring)
        # normalized gradient, divergence, Poisson
        g = (ops["G"] @ u).reshape(-1, 2, S)
        norm = torch.linalg.vector_norm(g, dim=1, keepdim=True)
        X = torch.where(norm > 0, -g / torch.where(norm > 0, norm, 1.0), 0.0)
        b = 0.5 * (ops["GT"] @ X.reshape(-1, S))
        phi = torch.zeros_like(u)
        if "_L_keep" in ops:
            phi[ops["_keep"]] = self._cg(ops, "_L_keep", b[ops["_keep"]])
        # a component with several sources: every source pinned to 0 by the scipy solver (on the CPU)
        for j, src in enumerate(sets):
            if src.size > 1:
                pinned = s._pin(phi[:, j].cpu().numpy(), b[:, j].cpu().numpy(), src)
                phi[:, j] = torch.as_tensor(pinned, dtype=self.dtype, device=device)
        # per (row, component) shift, inf where unreachable
        comp = ops["_comp"]
        n_comp = s._n_comp
        vt = torch.as_tensor(verts, device=device)
        ct = torch.as_tensor(cols, device=device)
        key = ct * n_comp + comp[vt]
        cnt = torch.zeros(S * n_comp, dtype=self.dtype, device=device).index_add_(
            0, key, torch.ones_like(phi[vt, ct])
        )
        tot = torch.zeros(S * n_comp, dtype=self.dtype, device=device).index_add_(0, key, phi[vt, ct])
        inf = torch.tensor(float("inf"), dtype=self.dtype, device=device)
        shift = torch.where(cnt > 0, tot / cnt.clamp_min(1), -inf).reshape(S, n_comp)  # phi + inf = inf
        d = (phi - shift.T[comp])[:V]
        d.clamp_(min=0.0)  # what HeatMethodSolver warns about and sets to 0
        unref = ~ops["referenced"]
        if bool(unref.any()):
            d[unref] = inf
            hit = unref[vt]
            d[vt[hit], ct[hit]] = 0.0
        return d.T.contiguous().to(self.out_dtype)

    def distance(self, sources, device=None) -> torch.Tensor:
        """(V,) distance to the nearest of ``sources``."""
        if isinstance(sources, torch.Tensor):
            device = sources.device if device is None else device
            sources = sources.detach().cpu().numpy()
        return self.distances([np.asarray(sources)], device=device)[0]
