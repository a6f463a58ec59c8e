"""Intrinsic patch convolutions: filters applied in the geodesic polar coordinates ``(r, theta)`` of every
vertex's patch, in its gauge (Masci et al. 2015, Geodesic CNN; Monti et al. 2017, MoNet).

Both layers aggregate the patch with K kernels of ``(r, theta)`` by one sparse product
(:func:`~manifoldnet.nn.patch.patch_aggregate`: (V, C_in) -> (V, K, C_in), each kernel normalized per vertex),
then map the K * C_in responses to C_out channels with one dense product, and add a linear map of the
centre's own features (the centre is not among its patch pairs) and a bias.

Orientation (what theta = 0 means): the bundle's gauge, chosen when the operators are built
(``OperatorSpec(gauge="intrinsic")``, an arbitrary but smooth tangent frame, or ``"principal"``, the principal
curvature directions, defined up to sign and arbitrary where the surface is umbilic). An oriented filter
(``orientation="gauge"``) sees direction, so it can tell "along the limb" from "across it" when the gauge
means something (principal frames), but its output changes when the gauges change, and with intrinsic
frames the direction it sees is arbitrary from vertex to vertex. A pooled filter (``orientation="pooled"``)
takes the maximum over n rotations of the filter by ``2 pi / n``: the output does not depend on the gauge up
to the bin resolution (below), at the price of n times the dense product and the loss of direction.

Gauge-change bound. A gauge change g (``theta_ij -> theta_ij - g_i``) enters vertex i's output through g_i
only. Write ``g_i = s_i * D + d_i`` with ``D = 2 pi / n`` and ``|d_i| <= D / 2``: the rotation by ``s_i * D``
permutes the n rotated filters, which the maximum does not see, so ``y_i(g) = y_i(d)`` exactly, and
``|y_i(g) - y_i(0)| <= |d_i| * L_i <= (pi / n) * L_i`` with ``L_i`` the largest slope of ``y_i`` under a
rotation of its gauge (finite because the kernels are smooth in theta: hard bins would jump). The tests
check both halves: exact invariance for multiples of D, and the bound with the measured slope.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import OperatorModule
from .patch import gaussian_kernels, neighbourhood_field, patch_aggregate, patch_coordinates, polar_bins

__all__ = ["ORIENTATIONS", "GeodesicConv", "MoNetConv"]

ORIENTATIONS = ("gauge", "pooled")


def _check_channels(x, c: int, who: str) -> None:
    if isinstance(x, torch.Tensor) and x.ndim == 2 and x.shape[1] != c:
        raise ValueError(f"{who}: x has {x.shape[1]} channels, the layer was built for in_channels={c}")


def _check_positive(**values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


class _PatchConv(OperatorModule):
    """What both layers share: neighbourhood and radius, the centre's linear map, the bias."""

    def __init__(self, in_channels, out_channels, neighbourhood, radius, bias):
        super().__init__()
        _check_positive(in_channels=in_channels, out_channels=out_channels)
        self.fields = (neighbourhood_field(neighbourhood),)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.neighbourhood, self.radius = neighbourhood, radius
        bound = 1.0 / math.sqrt(in_channels)
        self.root = nn.Parameter(torch.empty(in_channels, out_channels).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def _inputs(self, x, ops):
        """``(x in the operators' dtype, r, theta)``; checks the channels and the bundle field."""
        _check_channels(x, self.in_channels, type(self).__name__)
        r, theta = patch_coordinates(ops, self.neighbourhood, self.radius)
        return x.to(r.dtype), r, theta

    def _finish(self, out, x):
        out = out + x @ self.root.to(x.dtype)
        return out if self.bias is None else out + self.bias.to(x.dtype)


class GeodesicConv(_PatchConv):
    """Geodesic CNN layer, (V, C_in) -> (V, C_out), gauge-invariant by angular max pooling.

    Fixed soft polar bins (:func:`~manifoldnet.nn.patch.polar_bins`: ``n_radial`` Gaussian rings times
    ``n_angular`` Gaussian sectors), the patch aggregated in each bin, then learned weights
    ``W[b, a]`` (C_in, C_out) per bin, applied at each of the ``n_angular`` rotations of the angular axis
    and maxed over them: ``y_i = max_s sum_{b, a} W[b, a - s]^T h_i[b, a] + W_0^T x_i + bias``. Invariant to a
    gauge change up to the bin resolution ``2 pi / n_angular`` (module docstring); exactly invariant to a
    rotation of every gauge by whole bins.

    neighbourhood : ``"one_ring"`` (the ``logmap`` field) or ``"patches"`` (the ``patches`` field: geodesic
        patches of ``OperatorSpec(patch_k=...)``, ``patch_radius=...`` or ``patch_rings=...``).
    radius : None (r divided by each patch's largest radius) or the bins' outer radius in mesh units.
    sigma_r, sigma_theta : bin widths (defaults ``1 / n_radial`` of the unit radius and ``pi / n_angular``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_radial: int = 2,
        n_angular: int = 8,
        neighbourhood: str = "one_ring",
        radius: float | None = None,
        sigma_r: float | None = None,
        sigma_theta: float | None = None,
        bias: bool = True,
    ):
        super().__init__(in_channels, out_channels, neighbourhood, radius, bias)
        _check_positive(n_radial=n_radial, n_angular=n_angular)
        self.n_radial, self.n_angular, self.sigma_r, self.sigma_theta = (
            n_radial,
            n_angular,
            sigma_r,
            sigma_theta,
        )
        bound = 1.0 / math.sqrt(n_radial * n_angular * in_channels)
        self.weight = nn.Parameter(
            torch.empty(n_radial, n_angular, in_channels, out_channels).uniform_(-bound, bound)
        )

    def bins(self, ops):
        """(P, n_radial * n_angular) the bins' weights of every pair."""
        r, theta = patch_coordinates(ops, self.neighbourhood, self.radius)
        return polar_bins(r, theta, self.n_radial, self.n_angular, self.sigma_r, self.sigma_theta)

    def rotated_weights(self, dtype):
        """(n_radial * n_angular * C_in, n_angular * C_out): ``W[b, a - s]`` for every rotation s, side by
        side, so all rotations are one dense product."""
        rolled = [torch.roll(self.weight, s, dims=1) for s in range(self.n_angular)]
        return torch.stack(rolled, dim=3).reshape(-1, self.n_angular * self.out_channels).to(dtype)

    def forward(self, x, ops):
        with torch.autocast(device_type=x.device.type, enabled=False):
            x, _, _ = self._inputs(x, ops)
            h = patch_aggregate(x, ops, self.bins(ops), self.neighbourhood)  # (V, K, C_in)
            out = (h.reshape(x.shape[0], -1) @ self.rotated_weights(x.dtype)).view(
                x.shape[0], self.n_angular, -1
            )
            return self._finish(out.amax(1), x)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, n_radial={self.n_radial}, n_angular={self.n_angular}, "
            f"neighbourhood={self.neighbourhood!r}, radius={self.radius}"
        )


class MoNetConv(_PatchConv):
    """MoNet layer, (V, C_in) -> (V, C_out): ``n_kernels`` learned Gaussian kernels in ``(r, theta)``.

    Kernel k has a learned mean ``(mu_r, mu_theta)`` and diagonal covariance (widths ``sigma_r``,
    ``sigma_theta``), periodic in theta (:func:`~manifoldnet.nn.patch.gaussian_kernels`); with the
    per-vertex normalized responses ``h_i[k]``, ``y_i = sum_k Theta_k^T h_i[k] + W_0^T x_i + bias``.

    orientation : ``"gauge"`` (theta as the bundle holds it: the kernels are oriented by the gauge of
        ``OperatorSpec(gauge=...)``, intrinsic or principal curvature frames; the output changes with the
        gauge) or ``"pooled"`` (the maximum over ``n_rotations`` rotations of all kernels by ``2 pi /
        n_rotations``: gauge-invariant up to that resolution, n_rotations times the cost). See the module
        docstring for the trade-off.
    neighbourhood, radius : as in :class:`GeodesicConv`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        n_kernels: int = 8,
        orientation: str = "gauge",
        n_rotations: int = 8,
        neighbourhood: str = "one_ring",
        radius: float | None = None,
        bias: bool = True,
    ):
        super().__init__(in_channels, out_channels, neighbourhood, radius, bias)
        _check_positive(n_kernels=n_kernels, n_rotations=n_rotations)
        if orientation not in ORIENTATIONS:
            raise ValueError(f"orientation must be one of {list(ORIENTATIONS)}, got {orientation!r}")
        self.n_kernels, self.orientation = n_kernels, orientation
        self.n_rotations = n_rotations if orientation == "pooled" else 1
        K = n_kernels
        self.mu_r = nn.Parameter(torch.rand(K))
        self.mu_theta = nn.Parameter(torch.arange(K) * (2.0 * math.pi / K) + 0.1 * torch.randn(K))
        self.log_sigma_r = nn.Parameter(torch.full((K,), math.log(0.5)))
        self.log_sigma_theta = nn.Parameter(torch.full((K,), math.log(max(math.pi / K, 0.25))))
        bound = 1.0 / math.sqrt(K * in_channels)
        self.weight = nn.Parameter(torch.empty(K, in_channels, out_channels).uniform_(-bound, bound))

    def kernels(self, ops):
        """(P, n_rotations * K) the kernels' weights of every pair (rotation-major; differentiable in the
        kernel parameters)."""
        r, theta = patch_coordinates(ops, self.neighbourhood, self.radius)
        dt = r.dtype
        rot = torch.arange(self.n_rotations, dtype=dt, device=r.device) * (2.0 * math.pi / self.n_rotations)
        mu_theta = (rot[:, None] + self.mu_theta.to(dt)[None, :]).reshape(-1)
        rep = lambda p: p.to(dt).repeat(self.n_rotations)  # noqa: E731
        return gaussian_kernels(
            r, theta, rep(self.mu_r), mu_theta, rep(self.log_sigma_r), rep(self.log_sigma_theta)
        )

    def forward(self, x, ops):
        with torch.autocast(device_type=x.device.type, enabled=False):
            x, _, _ = self._inputs(x, ops)
            h = patch_aggregate(x, ops, self.kernels(ops), self.neighbourhood)  # (V, n_rot * K, C_in)
            w = self.weight.reshape(-1, self.out_channels).to(x.dtype)
            V, n = x.shape[0], self.n_rotations
            out = h.reshape(V * n, -1) @ w  # (V * n_rot, C_out): every rotation, one product
            return self._finish(out if n == 1 else out.view(V, n, -1).amax(1), x)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, n_kernels={self.n_kernels}, "
            f"orientation={self.orientation!r}, n_rotations={self.n_rotations}, "
            f"neighbourhood={self.neighbourhood!r}, radius={self.radius}"
        )
