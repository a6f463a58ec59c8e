"""Pure functions on a :class:`~manifoldnet.operators.TorchOperators` (one mesh or a ``collate``d batch).

Every function takes ``x`` of shape ``(V, C)`` over all vertices of the batch and returns a tensor on ``x``'s
device; nothing mixes meshes of a batch. Conventions are the README's: ``L`` weak PSD (``L @ 1 = 0``), ``M``
diagonal, eigenpairs ``L phi = lambda M phi`` M-orthonormal, tangent vectors complex in the vertex gauges.
The patch operator of the intrinsic convolutions (``patch_aggregate`` and its kernels) lives in
:mod:`manifoldnet.nn.patch` and is exported here.

Precision: the sparse products, spectral projections and solves run in the operators' float dtype (float32 or
float64; the implicit solves in float64) with autocast disabled, since torch's sparse kernels do not all take
half precision; their outputs come back in that dtype, and the dense layers around them may run under
autocast.
"""

from __future__ import annotations

import functools

import torch

from ..operators.torch_ops import sparse_csr
from .checks import check_x as _check_x
from .checks import require_fields
from .implicit import ImplicitDiffusion, ImplicitDiffusionSolver
from .patch import gaussian_kernels, patch_aggregate, patch_coordinates, polar_bins
from .sparse import per_tensor, spmm

__all__ = [
    "cheb_filter",
    "diffuse_implicit",
    "diffuse_spectral",
    "from_spectral",
    "gaussian_kernels",
    "gradient",
    "gradient_features",
    "laplacian_bound",
    "mesh_mean",
    "patch_aggregate",
    "patch_coordinates",
    "polar_bins",
    "require_fields",
    "spectral_filter",
    "to_spectral",
    "vertices_to_faces",
]


# ----------------------------------------------------------------------------------------------- checks
def _check_times(t, C: int, who: str, dtype, device):
    t = torch.as_tensor(t, dtype=dtype, device=device)
    if t.ndim == 0:
        t = t.expand(C)
    if t.shape != (C,):
        raise ValueError(f"{who}: times must be a scalar or have shape ({C},), got {tuple(t.shape)}")
    bad = ~torch.isfinite(t) | (t < 0)
    if bool(bad.any()):
        i = int(torch.nonzero(bad)[0])
        raise ValueError(f"{who}: diffusion times must be finite and >= 0; t[{i}] = {float(t[i])}")
    return t


def _sparse_dtype(ops):
    return ops.mass.dtype if ops.mass is not None else ops.verts.dtype


def _no_autocast(fn):
    """Run ``fn`` with autocast off and ``x`` (first argument) in the operators' float dtype."""

    @functools.wraps(fn)
    def wrapped(x, ops, *args, **kwargs):
        with torch.autocast(device_type=x.device.type, enabled=False):
            dt = _sparse_dtype(ops)
            return fn(x.to(dt) if x.is_floating_point() else x, ops, *args, **kwargs)

    return wrapped


# ------------------------------------------------------------------------------------------- spectral
def _padded_layout(ops):
    """``(pos, Vmax)``: row of each vertex in a (B * Vmax) zero-padded layout, or None when padding would cost
    more than half the rows again (very unequal sizes: then a loop over the B meshes is used)."""
    sizes = ops.offsets.diff()
    vmax = int(sizes.max())
    if ops.n_meshes * vmax > 1.5 * ops.n_verts:
        return None
    local = torch.arange(ops.n_verts, device=ops.device) - ops.offsets[ops.batch]
    return ops.batch * vmax + local, vmax


def _padded_evecs(ops):
    """``(pos, evecs padded to (B, Vmax, K))`` or None (see :func:`_padded_layout`); built once per batch."""

    def build(ev):
        layout = _padded_layout(ops)
        if layout is None:
            return None
        pos, vmax = layout
        pad = ev.new_zeros(ops.n_meshes * vmax, ev.shape[1]).index_copy_(0, pos, ev)
        return pos, pad.view(ops.n_meshes, vmax, ev.shape[1])

    if ops.evecs.requires_grad:
        return build(ops.evecs)
    return per_tensor("padded evecs", ops.evecs, build)


def to_spectral(x, ops):
    """(V, C) -> (B, K, C): ``evecs_b^T M_b x_b`` per mesh (x's coefficients in the M-orthonormal basis)."""
    require_fields(ops, ("mass", "eigenbasis"), "to_spectral")
    mx = ops.mass[:, None] * x
    if ops.n_meshes == 1:
        return (ops.evecs.T @ mx)[None]
    padded = _padded_evecs(ops)
    if padded is None:
        return torch.stack([e.T @ m for e, m in zip(ops.split(ops.evecs), ops.split(mx), strict=True)])
    pos, ev = padded
    xp = mx.new_zeros(ev.shape[0] * ev.shape[1], mx.shape[1]).index_copy(0, pos, mx)
    return ev.transpose(1, 2) @ xp.view(ev.shape[0], ev.shape[1], -1)


def from_spectral(coeffs, ops):
    """(B, K, C) -> (V, C): ``evecs_b @ coeffs[b]`` per mesh, concatenated over the batch."""
    require_fields(ops, ("eigenbasis",), "from_spectral")
    if ops.n_meshes == 1:
        return ops.evecs @ coeffs[0]
    padded = _padded_evecs(ops)
    if padded is None:
        return torch.cat([e @ c for e, c in zip(ops.split(ops.evecs), coeffs.unbind(0), strict=True)])
    pos, ev = padded
    return (ev @ coeffs).reshape(-1, coeffs.shape[2]).index_select(0, pos)


@_no_autocast
def spectral_filter(x, ops, multipliers):
    """``evecs diag(m_c) evecs^T M x_c`` per mesh and channel.

    x : (V, C); multipliers : (K, C) (the same for every mesh) or (B, K, C) (per mesh). Returns (V, C).
    """
    _check_x(x, ops, "spectral_filter")
    require_fields(ops, ("mass", "eigenbasis"), "spectral_filter")
    K = ops.evecs.shape[1]
    m = multipliers.to(x.dtype)
    if m.shape not in ((K, x.shape[1]), (ops.n_meshes, K, x.shape[1])):
        raise ValueError(
            f"spectral_filter: multipliers must be (K, C) = ({K}, {x.shape[1]}) or (B, K, C), "
            f"got {tuple(m.shape)}"
        )
    return from_spectral(m * to_spectral(x, ops), ops)


# exp(-lambda t) beyond these exponents is set to exactly 0: it is far below the precision of the slowest
# mode, and the products with it would otherwise be denormal numbers, which made a CPU training step 2.3x
# slower (faust 5k, 1 thread: 513 -> 220 ms; the reference DiffusionNet pays the same penalty).
_DECAY_CUTOFF = {torch.float16: 10.0, torch.bfloat16: 30.0, torch.float32: 30.0, torch.float64: 300.0}


@_no_autocast
def diffuse_spectral(x, ops, t):
    """Heat diffusion in the eigenbasis: ``evecs diag(exp(-evals t_c)) evecs^T M x_c`` per mesh.

    x : (V, C); t : (C,) times >= 0 (or a scalar). Returns (V, C). Exact for the K held eigenpairs; the
    content of x above them is dropped (DiffusionNet's spectral diffusion). Decays ``exp(-lambda t)`` below
    ``exp(-30)`` (float32) or ``exp(-300)`` (float64) are exactly 0 (no denormals in CPU arithmetic).
    """
    _check_x(x, ops, "diffuse_spectral")
    require_fields(ops, ("mass", "eigenbasis"), "diffuse_spectral")
    t = _check_times(t, x.shape[1], "diffuse_spectral", x.dtype, x.device)
    lt = ops.evals.to(x.dtype)[:, :, None] * t[None, None, :]
    decay = torch.exp(-lt).masked_fill(lt > _DECAY_CUTOFF[x.dtype], 0.0)
    return from_spectral(decay * to_spectral(x, ops), ops)


@_no_autocast
def diffuse_implicit(x, ops, t, backend: str = "auto", rtol: float | None = None):
    """One backward-Euler step of the heat equation per channel: ``(M + t_c L) y_c = M x_c``.

    x : (V, C); t : (C,) times >= 0 (or a scalar). Returns (V, C) in x's dtype. Sparse solves only (see
    :mod:`manifoldnet.nn.implicit`: CHOLMOD-preconditioned conjugate gradients with cached factors, or Jacobi
    CG with ``backend="cg"``); gradients for ``x`` and ``t`` through the same solves. ``rtol`` is the relative
    residual per channel (default 1e-7 for float32 inputs, 1e-11 for float64).
    """
    _check_x(x, ops, "diffuse_implicit")
    require_fields(ops, ("mass", "laplacian"), "diffuse_implicit")
    t = _check_times(t, x.shape[1], "diffuse_implicit", x.dtype, x.device)
    if rtol is None:
        rtol = 1e-11 if x.dtype == torch.float64 else 1e-7
    solver = ImplicitDiffusionSolver(ops.laplacian, ops.mass, backend=backend, rtol=rtol)
    return ImplicitDiffusion.apply(x, t, solver)


# ------------------------------------------------------------------------------------------ Chebyshev
def laplacian_bound(ops):
    """(B,) an upper bound on the largest eigenvalue of ``M^-1 L`` per mesh (Gershgorin: ``max_i
    sum_j |L_ij| / m_i``), so that ``2 M^-1 L / bound - I`` has its spectrum in [-1, 1]."""
    L = ops.laplacian
    rows = torch.repeat_interleave(torch.arange(L.shape[0], device=L.device), L.crow_indices().diff())
    absrow = torch.zeros(L.shape[0], dtype=L.values().dtype, device=L.device)
    absrow.index_add_(0, rows, L.values().abs())
    ratio = absrow / ops.mass
    bound = torch.zeros(ops.n_meshes, dtype=ratio.dtype, device=ratio.device)
    bound = bound.scatter_reduce(0, ops.batch, ratio, reduce="amax", include_self=True)
    return bound.clamp_min(torch.finfo(ratio.dtype).tiny)


@_no_autocast
def cheb_filter(x, ops, coeffs, lambda_max=None):
    """Chebyshev polynomial filter of the rescaled strong Laplacian, ``sum_k T_k(S) x W_k``.

    ``S = 2 M^-1 L / lambda_max - I`` per mesh (sparse, no eigenbasis); ``T_k`` by the recursion
    ``T_0 x = x``, ``T_1 x = S x``, ``T_k x = 2 S T_{k-1} x - T_{k-2} x``.

    x : (V, C_in); coeffs : (order + 1, C_in) (one polynomial per channel: output (V, C_in)) or
    (order + 1, C_in, C_out) (mixing: output (V, C_out)); lambda_max : None (per-mesh Gershgorin bound from
    :func:`laplacian_bound`, which keeps S's spectrum in [-1, 1]), a float, or (B,) per mesh.
    """
    _check_x(x, ops, "cheb_filter")
    require_fields(ops, ("mass", "laplacian"), "cheb_filter")
    w = coeffs.to(x.dtype)
    if w.ndim not in (2, 3) or w.shape[1] != x.shape[1]:
        raise ValueError(
            f"cheb_filter: coeffs must be (order+1, C_in) or (order+1, C_in, C_out) with C_in={x.shape[1]}, "
            f"got {tuple(w.shape)}"
        )
    lam = (
        laplacian_bound(ops)
        if lambda_max is None
        else torch.as_tensor(lambda_max, dtype=x.dtype, device=x.device)
    )
    lam = lam.reshape(-1).expand(ops.n_meshes) if lam.numel() == 1 else lam
    if lam.shape != (ops.n_meshes,) or not bool((lam > 0).all()):
        raise ValueError(f"cheb_filter: lambda_max must be positive, one value or one per mesh; got {lam}")
    scale = (2.0 / (ops.mass * lam[ops.batch]))[:, None]

    def S(v):
        return scale * spmm(ops.laplacian, v) - v

    terms = [x]
    if w.shape[0] > 1:
        terms.append(S(x))
    for _ in range(2, w.shape[0]):
        terms.append(2.0 * S(terms[-1]) - terms[-2])
    T = torch.stack(terms, dim=1)  # (V, order + 1, C_in)
    if w.ndim == 2:
        return (T * w[None]).sum(1)
    return T.reshape(x.shape[0], -1) @ w.reshape(-1, w.shape[2])


# ------------------------------------------------------------------------------------------- gradient
@_no_autocast
def gradient(x, ops):
    """(V, C) real -> (V, C) complex: the tangent gradient of each channel in the vertex gauges
    (``grad_x @ x + 1j * grad_y @ x``; the bundle's ``gradient`` field)."""
    _check_x(x, ops, "gradient")
    require_fields(ops, ("gradient",), "gradient")
    return torch.complex(spmm(ops.grad_x, x), spmm(ops.grad_y, x))


@_no_autocast
def gradient_features(x, ops, weight_re, weight_im):
    """DiffusionNet's spatial gradient features: ``tanh(Re(conj(g) * (A g)))`` per channel.

    ``g = gradient(x)`` (V, C) complex, ``A = weight_re + 1j weight_im`` (C, C) complex-linear (so the
    features are invariant to a rotation of every tangent plane: a gauge change). Computed in real arithmetic
    as one (V, 2C) x (2C, 2C) product,
    ``[Re Ag, Im Ag] = [Re g, Im g] @ [[A_re^T, A_im^T], [-A_im^T, A_re^T]]``. Returns (V, C).
    """
    _check_x(x, ops, "gradient_features")
    require_fields(ops, ("gradient",), "gradient_features")
    V, C = x.shape
    g = torch.cat([spmm(ops.grad_x, x), spmm(ops.grad_y, x)], dim=1)  # (V, 2C): [Re g, Im g]
    wr, wi = weight_re.T.to(x.dtype), weight_im.T.to(x.dtype)
    W = torch.cat([torch.cat([wr, wi], dim=1), torch.cat([-wi, wr], dim=1)], dim=0)  # (2C, 2C)
    return torch.tanh((g * (g @ W)).view(V, 2, C).sum(1))


# -------------------------------------------------------------------------------------- outputs
def _mean_matrix(rows, cols, vals, shape, dtype):
    order = torch.argsort(rows * shape[1] + cols)
    rows, cols, vals = rows[order], cols[order], vals[order].to(dtype)
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.bincount(rows, minlength=shape[0]).cumsum(0)
    return sparse_csr(crow, cols, vals, shape)


def vertices_to_faces(x, ops):
    """(V, C) -> (F, C): the mean of each face's three vertex values (one sparse product)."""
    _check_x(x, ops, "vertices_to_faces")
    require_fields(ops, ("faces",), "vertices_to_faces")
    F = ops.faces.shape[0]
    rows = torch.arange(F, device=x.device).repeat_interleave(3)
    A = _mean_matrix(
        rows,
        ops.faces.reshape(-1),
        torch.full((3 * F,), 1.0 / 3.0, device=x.device),
        (F, ops.n_verts),
        x.dtype,
    )
    with torch.autocast(device_type=x.device.type, enabled=False):
        return A @ x.to(A.dtype)


def mesh_mean(x, ops):
    """(V, C) -> (B, C): the mass-weighted mean of x over each mesh of the batch (area-weighted average)."""
    _check_x(x, ops, "mesh_mean")
    require_fields(ops, ("mass",), "mesh_mean")

    def build(m):  # once per batch and dtype (kept while the batch's mass tensor lives)
        area = torch.zeros(ops.n_meshes, dtype=m.dtype, device=m.device).index_add_(0, ops.batch, m)
        w = m / area[ops.batch]
        shape = (ops.n_meshes, ops.n_verts)
        return _mean_matrix(ops.batch, torch.arange(ops.n_verts, device=m.device), w, shape, x.dtype)

    A = per_tensor(f"mesh mean {x.dtype} {ops.n_meshes}", ops.mass, build)
    with torch.autocast(device_type=x.device.type, enabled=False):
        return spmm(A, x.to(A.dtype))
