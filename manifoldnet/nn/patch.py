"""The patch operator of the intrinsic convolutions (Geodesic CNN, MoNet): every vertex gathers its patch
neighbours weighed by K kernels of their polar coordinates ``(r, theta)`` in its gauge.

For a vertex i with patch pairs (i, j) and kernel weights ``w_k(i, j) >= 0`` (one column per kernel)::

    y[i, k, c] = sum_j w_k(i, j) x[j, c] / (sum_j w_k(i, j) + eps)        (normalized per vertex and kernel)

The K kernel matrices are stacked row-interleaved into one (V * K, V) CSR matrix (row ``i * K + k``), so
the aggregation of every kernel and channel is ONE sparse product ``A @ x`` and ``y`` is a (V, K, C) view of
it. The sparsity structure (and that of ``A^T`` for the backward pass) is built once per batch and per K
(:func:`~manifoldnet.nn.sparse.per_tensor`); the values are the weights, which may require grad (MoNet's
learned kernels): the backward pass gives the weights their gradient with a sampled dense product
(``torch.sparse.sampled_addmm``: ``dL/dA_q = <dL/dy[row_q], x[col_q]>`` on the nonzeros only, never a
P x K x C tensor) and ``x`` its gradient with ``A^T``.

Neighbourhoods (bundle fields): ``"one_ring"`` reads the ``logmap`` field (``edge_index``, ``logmap_r``,
``logmap_theta``: the one-ring log map), ``"patches"`` the ``patches`` field (``patch_index``, ``patch_r``,
``patch_theta``: geodesic patches of ``OperatorSpec(patch_radius=...)``, ``patch_k=...`` or
``patch_rings=...``, the n-ring). The centre is not among its pairs (layers add it through their own
linear map). Pairs may come in any order; weights are given in the bundle's pair order, (P, K).

Radii: :func:`patch_coordinates` divides r by ``radius`` when given (mesh units), else by the largest radius
of each vertex's patch (so r is in (0, 1], the same for a scaled mesh and across resolutions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..operators.torch_ops import sparse_csr
from .checks import check_x, require_fields
from .sparse import per_tensor, spmm

__all__ = [
    "NEIGHBOURHOODS",
    "PatchStructure",
    "gaussian_kernels",
    "neighbourhood_field",
    "patch_aggregate",
    "patch_coordinates",
    "patch_structure",
    "polar_bins",
    "wrap_angle",
]

# neighbourhood -> (bundle field, index array, radius array, angle array)
NEIGHBOURHOODS = {
    "one_ring": ("logmap", "edge_index", "logmap_r", "logmap_theta"),
    "patches": ("patches", "patch_index", "patch_r", "patch_theta"),
}


def neighbourhood_field(neighbourhood: str) -> str:
    """The bundle field a neighbourhood reads (``"one_ring"`` -> ``"logmap"``, ``"patches"`` -> itself)."""
    if neighbourhood not in NEIGHBOURHOODS:
        raise ValueError(f"neighbourhood must be one of {list(NEIGHBOURHOODS)}, got {neighbourhood!r}")
    return NEIGHBOURHOODS[neighbourhood][0]


def wrap_angle(a: torch.Tensor) -> torch.Tensor:
    """Angles wrapped into (-pi, pi]."""
    return math.pi - torch.remainder(math.pi - a, 2.0 * math.pi)


@dataclass(frozen=True)
class PatchStructure:
    """The sparsity of the patch pairs of a batch (V vertices, P pairs), sorted by (centre, neighbour).

    order : (P,) the sorted position -> bundle pair index (None when the bundle order is sorted already).
    rows, cols : (P,) centre i and neighbour j, sorted. crow : (V + 1,) row pointer: the pairs of i are
    ``crow[i]:crow[i + 1]``.
    """

    n_verts: int
    order: torch.Tensor | None
    rows: torch.Tensor
    cols: torch.Tensor
    crow: torch.Tensor

    @property
    def n_pairs(self) -> int:
        return int(self.rows.shape[0])

    def sorted_pairs(self, values: torch.Tensor) -> torch.Tensor:
        """Per-pair values (P, ...) in the bundle's order -> the sorted order."""
        return values if self.order is None else values.index_select(0, self.order)

    def select(self, dtype) -> torch.Tensor:
        """The (V, P) CSR selection ``S[i, p] = 1`` for the pairs p of i (``S @ w`` sums per vertex)."""

        def build(rows):
            ones = torch.ones(self.n_pairs, dtype=dtype, device=rows.device)
            arange = torch.arange(self.n_pairs, device=rows.device)
            return sparse_csr(self.crow, arange, ones, (self.n_verts, self.n_pairs))

        return per_tensor(f"patch select {dtype}", self.rows, build)


def _pair_arrays(ops, neighbourhood: str):
    field, index, r, theta = NEIGHBOURHOODS[neighbourhood]
    require_fields(ops, (field,), f"patch operator ({neighbourhood})")
    return getattr(ops, index), getattr(ops, r), getattr(ops, theta)


def patch_structure(ops, neighbourhood: str = "one_ring") -> PatchStructure:
    """The :class:`PatchStructure` of ``ops``' pairs (built once per batch and kept with its index tensor)."""
    neighbourhood_field(neighbourhood)
    index, _, _ = _pair_arrays(ops, neighbourhood)
    V = ops.n_verts

    def build(idx):
        i, j = idx[0].clone(), idx[1].clone()  # not views: a view would keep idx, the cache key, alive
        key = i * V + j
        order = None
        if key.numel() > 1 and not bool((key[1:] > key[:-1]).all()):
            order = torch.argsort(key, stable=True)
            i, j = i[order], j[order]
        crow = torch.zeros(V + 1, dtype=torch.long, device=idx.device)
        crow[1:] = torch.bincount(i, minlength=V).cumsum(0)
        return PatchStructure(V, order, i, j, crow)

    return per_tensor(f"patch structure {V}", index, build)


def patch_coordinates(ops, neighbourhood: str = "one_ring", radius: float | None = None):
    """``(r, theta)`` (P,) each, in the bundle's pair order: r divided by ``radius`` (a float, mesh units) or,
    when None, by the largest r of each vertex's patch; theta as stored (radians in the centre's gauge).
    Built once per batch."""
    neighbourhood_field(neighbourhood)
    if radius is not None and not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be None or a positive number, got {radius!r}")
    index, r, theta = _pair_arrays(ops, neighbourhood)

    def build(r):
        if radius is not None:
            return r / radius
        rmax = torch.zeros(ops.n_verts, dtype=r.dtype, device=r.device)
        rmax = rmax.scatter_reduce(0, index[0], r, reduce="amax", include_self=True)
        return r / rmax.clamp_min(torch.finfo(r.dtype).tiny).index_select(0, index[0])

    return per_tensor(f"patch radius {radius}", r, build), theta


# ------------------------------------------------------------------------------------------- kernels
def polar_bins(r, theta, n_radial: int, n_angular: int, sigma_r: float | None = None, sigma_theta=None):
    """(P, n_radial * n_angular) soft polar bins (Geodesic CNN), bin ``b * n_angular + a`` centred at radius
    ``(b + 1/2) / n_radial`` and angle ``a * 2 pi / n_angular``: a product of Gaussians in r and in the
    wrapped angle difference, widths ``sigma_r`` (default ``1 / n_radial``) and ``sigma_theta`` (default half
    the angular bin, ``pi / n_angular``). Rotating every gauge by one bin (``theta -> theta - 2 pi /
    n_angular``) rolls the angular bins by one, exactly."""
    sr = 1.0 / n_radial if sigma_r is None else float(sigma_r)
    st = math.pi / n_angular if sigma_theta is None else float(sigma_theta)
    cr = (torch.arange(n_radial, dtype=r.dtype, device=r.device) + 0.5) / n_radial
    ca = torch.arange(n_angular, dtype=r.dtype, device=r.device) * (2.0 * math.pi / n_angular)
    wr = torch.exp(-0.5 * ((r[:, None] - cr) / sr) ** 2)  # (P, n_radial)
    wa = torch.exp(-0.5 * (wrap_angle(theta[:, None] - ca) / st) ** 2)  # (P, n_angular)
    return (wr[:, :, None] * wa[:, None, :]).reshape(r.shape[0], n_radial * n_angular)


def gaussian_kernels(r, theta, mu_r, mu_theta, log_sigma_r, log_sigma_theta):
    """(P, K) Gaussian-mixture kernels of MoNet: ``exp(-((r - mu_r) / sigma_r)^2 / 2 - (wrap(theta - mu_theta)
    / sigma_theta)^2 / 2)``, periodic in theta (the difference wrapped into (-pi, pi]); the parameters are
    (K,) each (the widths as logs, so they stay positive) and may require grad."""
    dr = (r[:, None] - mu_r) * torch.exp(-log_sigma_r)
    dt = wrap_angle(theta[:, None] - mu_theta) * torch.exp(-log_sigma_theta)
    return torch.exp(-0.5 * (dr * dr + dt * dt))


# ---------------------------------------------------------------------------------------- aggregation
@dataclass(frozen=True)
class _Stacked:
    """The (V * K, V) row-interleaved kernel matrix's structure: ``values = weights.reshape(-1)[perm]`` for
    sorted (P, K) weights; ``tcrow``, ``tcol``, ``tperm`` the same for its transpose (V, V * K)."""

    shape: tuple[int, int]
    crow: torch.Tensor
    col: torch.Tensor
    perm: torch.Tensor
    tcrow: torch.Tensor
    tcol: torch.Tensor
    tperm: torch.Tensor


def _stacked(st: PatchStructure, K: int) -> _Stacked:
    def build(rows):
        dev, V, P = rows.device, st.n_verts, st.n_pairs
        start, count = st.crow[:-1], st.crow.diff()
        local = torch.arange(P, device=dev) - start[rows]
        k = torch.arange(K, device=dev)
        # nonzero of pair p, kernel k: rows (i, 0..K-1) each hold the pairs of i, kernel-major
        q = (K * start[rows] + local)[:, None] + k[None, :] * count[rows][:, None]  # (P, K)
        perm = torch.empty(P * K, dtype=torch.long, device=dev)
        perm[q.reshape(-1)] = torch.arange(P * K, device=dev)
        col = st.cols.repeat_interleave(K)[perm]
        crow = torch.empty(V * K + 1, dtype=torch.long, device=dev)
        crow[:-1] = ((K * start)[:, None] + k[None, :] * count[:, None]).reshape(-1)
        crow[-1] = P * K
        row = (rows[:, None] * K + k[None, :]).reshape(-1)[perm]
        tperm = torch.argsort(col * (V * K) + row)
        tcrow = torch.zeros(V + 1, dtype=torch.long, device=dev)
        tcrow[1:] = torch.bincount(col, minlength=V).cumsum(0)
        return _Stacked((V * K, V), crow, col, perm, tcrow, row[tperm], tperm)

    return per_tensor(f"patch stacked {K}", st.rows, build)


class _StackedProduct(torch.autograd.Function):
    """``A(values) @ x`` for the stacked kernel matrix, differentiable in the values and in x."""

    @staticmethod
    def forward(ctx, values, x, s: _Stacked):
        ctx.s = s
        ctx.save_for_backward(values, x)
        return sparse_csr(s.crow, s.col, values, s.shape) @ x

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        values, x = ctx.saved_tensors
        s = ctx.s
        g_values = g_x = None
        if ctx.needs_input_grad[0]:
            pattern = sparse_csr(s.crow, s.col, torch.zeros_like(values), s.shape)
            g_values = torch.sparse.sampled_addmm(pattern, grad.contiguous(), x.T, beta=0.0).values()
        if ctx.needs_input_grad[1]:
            At = sparse_csr(s.tcrow, s.tcol, values.index_select(0, s.tperm), (s.shape[1], s.shape[0]))
            g_x = At @ grad
        return g_values, g_x, None


def patch_aggregate(x, ops, weights, neighbourhood: str = "one_ring", eps: float = 1e-8):
    """(V, C) -> (V, K, C): ``y[i, k] = sum_j w_k(i, j) x_j / (sum_j w_k(i, j) + eps)`` over the patch pairs.

    x : (V, C) over all vertices of the batch; weights : (P, K) >= 0, one row per pair of the neighbourhood
    in the bundle's order (may require grad). One sparse product for all kernels and channels (see the
    module docstring); the result is in x's dtype, on its device.
    """
    check_x(x, ops, "patch_aggregate")
    st = patch_structure(ops, neighbourhood)
    if weights.ndim != 2 or weights.shape[0] != st.n_pairs:
        raise ValueError(
            f"patch_aggregate: weights must be (P, K) with P={st.n_pairs} pairs of {neighbourhood!r}, "
            f"got {tuple(weights.shape)}"
        )
    w = st.sorted_pairs(weights.to(x.dtype))
    K = w.shape[1]
    total = spmm(st.select(x.dtype), w)  # (V, K) weight of each kernel at each vertex
    w = w / (total.index_select(0, st.rows) + eps)
    s = _stacked(st, K)
    values = w.reshape(-1).index_select(0, s.perm)
    if not (values.requires_grad or x.requires_grad):
        return (sparse_csr(s.crow, s.col, values, s.shape) @ x).view(ops.n_verts, K, x.shape[1])
    return _StackedProduct.apply(values, x, s).view(ops.n_verts, K, x.shape[1])
