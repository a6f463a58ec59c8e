"""Spectral-family layers: ``SpectralConv`` (smooth spectral multipliers), ``ChebConv`` (Chebyshev
polynomials of the Laplacian) and ``LearnedDiffusion`` (heat diffusion with one learned time per channel).

Every layer: ``forward(x, ops)`` with ``x`` (V, C_in) over the vertices of one mesh or a batch and ``ops`` a
:class:`~manifoldnet.operators.TorchOperators`; returns (V, C_out); device and dtype from the inputs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import functional as F
from .base import OperatorModule

__all__ = ["ChebConv", "LearnedDiffusion", "SpectralConv", "cubic_bspline_basis"]


def cubic_bspline_basis(u, n_basis: int):
    """(...,) values in [0, 1] -> (..., n_basis) uniform cubic B-splines (a partition of unity on [0, 1]).

    Centres ``(j - 1) h``, ``h = 1 / (n_basis - 3)``, j = 0..n_basis-1; each function is C^2 with support
    ``4 h``, so any combination of them is a smooth function of u.
    """
    if n_basis < 4:
        raise ValueError(f"n_basis must be >= 4 for cubic B-splines, got {n_basis}")
    h = 1.0 / (n_basis - 3)
    centres = (torch.arange(n_basis, dtype=u.dtype, device=u.device) - 1.0) * h
    s = ((u[..., None] - centres) / h).abs()
    inner = 2.0 / 3.0 - s**2 + 0.5 * s**3
    outer = (2.0 - s).clamp_min(0.0) ** 3 / 6.0
    return torch.where(s < 1.0, inner, outer)


class SpectralConv(OperatorModule):
    """Spectral convolution with smooth multipliers (Bruna et al. 2014; Henaff et al. 2015).

    ``y_o = sum_i evecs diag(w_io(lambda)) evecs^T M x_i + b_o``, with each multiplier ``w_io`` a cubic
    B-spline in ``u = lambda / lambda_K`` (the mesh's largest held eigenvalue): smooth in lambda, so the
    filters are localized in space and mean the same on two meshes of one surface (the low spectrum does not
    depend on the triangulation). Content above the K held eigenpairs is filtered out.

    Parameters
    ----------
    in_channels, out_channels : C_in, C_out.
    n_basis : spline functions per multiplier (>= 4; more = finer in lambda, less localized in space).
    bias : add a learned (C_out,) bias.
    """

    fields = ("mass", "eigenbasis")

    def __init__(self, in_channels: int, out_channels: int, n_basis: int = 16, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.n_basis = in_channels, out_channels, n_basis
        cubic_bspline_basis(torch.zeros(1), n_basis)  # validates n_basis
        self.weight = nn.Parameter(torch.randn(n_basis, in_channels, out_channels) / math.sqrt(in_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def basis(self, evals):
        """(B, K) eigenvalues -> (B, K, n_basis) spline values at ``u = lambda / lambda_K`` (per mesh); the
        multiplier of channels (i, o) is ``basis @ weight[:, i, o]``."""
        return cubic_bspline_basis(
            evals / evals[:, -1:].clamp_min(torch.finfo(evals.dtype).tiny), self.n_basis
        )

    def forward(self, x, ops):
        F.require_fields(ops, self.fields, type(self).__name__)
        with torch.autocast(device_type=x.device.type, enabled=False):
            dt = ops.mass.dtype
            coeffs = F.to_spectral(x.to(dt), ops)  # (B, K, C_in)
            basis = self.basis(ops.evals.to(dt))
            B, K, _ = coeffs.shape
            mixed = (basis[:, :, :, None] * coeffs[:, :, None, :]).reshape(B, K, -1)  # (B, K, J C_in)
            y = F.from_spectral(mixed @ self.weight.to(dt).reshape(-1, self.out_channels), ops)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, n_basis={self.n_basis}"


class ChebConv(OperatorModule):
    """Chebyshev spectral convolution (Defferrard et al. 2016): ``y = sum_{k<=order} T_k(S) x W_k + b``.

    ``S = 2 M^-1 L / lambda_max - I`` (the rescaled strong Laplacian, sparse products only: no eigenbasis); a
    polynomial of degree ``order`` reaches ``order`` rings. ``lambda_max`` defaults to a per-mesh Gershgorin
    bound, which depends on the triangulation (finer meshes have larger bounds, so one filter means fewer
    rings' worth of distance there): prefer :class:`SpectralConv` or diffusion where meshes differ in
    resolution, or give a fixed ``lambda_max`` for meshes of one resolution.
    """

    fields = ("mass", "laplacian")

    def __init__(
        self, in_channels: int, out_channels: int, order: int = 3, bias: bool = True, lambda_max=None
    ):
        super().__init__()
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        self.in_channels, self.out_channels, self.order, self.lambda_max = (
            in_channels,
            out_channels,
            order,
            lambda_max,
        )
        self.weight = nn.Parameter(
            torch.randn(order + 1, in_channels, out_channels) / math.sqrt(in_channels * (order + 1))
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x, ops):
        y = F.cheb_filter(x, ops, self.weight, lambda_max=self.lambda_max)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, order={self.order}"


class LearnedDiffusion(OperatorModule):
    """Heat diffusion with one learned time per channel (DiffusionNet): (V, C) -> (V, C).

    ``method="spectral"``: :func:`~manifoldnet.nn.functional.diffuse_spectral` (K eigenpairs; cheap, drops the
    content above them). ``method="implicit"``: :func:`~manifoldnet.nn.functional.diffuse_implicit` (one
    backward-Euler step with sparse solves; no eigenbasis, any mesh size). Times start at ``init_time`` and
    are kept >= 0 by projecting the parameter before each training forward, as DiffusionNet does (only a clamp
    inside the graph would stop the gradient of a time that reached 0); evaluation uses ``max(time, 0)``
    without touching the parameter.
    """

    def __init__(self, channels: int, method: str = "spectral", init_time: float = 0.0):
        super().__init__()
        if method not in ("spectral", "implicit"):
            raise ValueError(f"method must be 'spectral' or 'implicit', got {method!r}")
        if not (math.isfinite(init_time) and init_time >= 0):
            raise ValueError(f"init_time must be finite and >= 0, got {init_time}")
        self.channels, self.method = channels, method
        self.fields = ("mass", "eigenbasis") if method == "spectral" else ("mass", "laplacian")
        self.time = nn.Parameter(torch.full((channels,), float(init_time)))

    def forward(self, x, ops):
        if self.training:
            with torch.no_grad():
                self.time.clamp_(min=0.0)
        t = self.time.clamp_min(
            0.0
        )  # in evaluation the parameter may sit below 0 after the last optimizer step
        if self.method == "spectral":
            return F.diffuse_spectral(x, ops, t)
        return F.diffuse_implicit(x, ops, t)

    def extra_repr(self) -> str:
        return f"{self.channels}, method={self.method!r}"
