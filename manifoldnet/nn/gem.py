"""Gauge-equivariant mesh convolution (GEM-CNN; de Haan, Weiler, Cohen, Welling 2021) and its nonlinearities.

Features are :class:`~manifoldnet.nn.field_types.FieldType` tensors. A :class:`GemConv` from ``in_type`` to
``out_type`` computes, at each vertex i with neighbour pairs p = (i, j) (mesh edges or geodesic patches),

    ``y_i = mean_p  K(theta_p, r_p) rho_in(rho_p) x_j  +  K_self x_i  +  b``

``rho_in(rho_p)`` transports ``x_j`` into i's gauge (each ``rho_n`` coefficient times ``exp(1j n rho_ij)``),
``b`` is a bias on the ``rho_0`` outputs only and ``K`` is a learned combination of the analytic kernel basis
(:func:`kernel_basis`): the kernels ``K(theta)`` with ``K(theta - g) = rho_out(-g) K(theta) rho_in(g)`` for
every g, which is what makes the layer commute with a gauge change (``theta_ij -> theta_ij - g_i``,
``rho_ij -> rho_ij - g_i + g_j``, ``x_i -> rho(-g_i) x_i``). In complex form, from ``rho_n`` to ``rho_m``:

- n, m >= 1: ``z -> c exp(1j (m - n) theta) z + d exp(1j (m + n) theta) conj(z)`` (c, d complex);
- n = 0, m >= 1: ``x -> c exp(1j m theta) x``; n >= 1, m = 0: ``z -> Re(c exp(-1j n theta) z)``;
- n = m = 0: ``x -> c x`` (c real);

times a radial profile (Gaussian bins in r, learned coefficients), keeping only angular frequencies
``|m - n|``, ``m + n``, ``m``, ``n`` up to ``band_limit``. Self-interaction uses the frequency-0 kernels.

Computation: the kernel is linear in its coefficients, so the layer first forms, for each input order n,
angular frequency k and radial bin q, the complex moments ``M[i] = mean_p R_q(r_p) exp(1j (k theta_p + n
rho_p)) z_j`` with one sparse CSR product per input order (real and imaginary parts stacked; the matrices and
their transposes are built in CSR order once per batch and shared by every layer of the same configuration),
then maps the moments and ``x`` to the output with one dense real product, ``features @ W`` (``W`` gathered
from the coefficients, each entry plus or minus one of them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..operators.torch_ops import sparse_csr
from .base import OperatorModule
from .checks import check_x, require_fields
from .field_types import FieldType
from .sparse import per_tensor, spmm

__all__ = [
    "NEIGHBOURHOODS",
    "GemConv",
    "KernelTerm",
    "NormNonlinearity",
    "RegularNonlinearity",
    "kernel_basis",
    "kernel_terms",
    "neighbour_pairs",
    "term_basis",
]

# neighbourhood -> (spec fields, bundle arrays index, r, theta, rho)
NEIGHBOURHOODS = {
    "edges": (("logmap", "transport"), ("edge_index", "logmap_r", "logmap_theta", "transport_rho")),
    "patches": (("patches",), ("patch_index", "patch_r", "patch_theta", "patch_rho")),
}


def neighbour_pairs(ops, neighbourhood: str):
    """``(index (2, P), r (P,), theta (P,), rho (P,))`` of ``ops`` for ``"edges"`` (the one ring: log map and
    transport of each directed edge) or ``"patches"`` (geodesic patches)."""
    if neighbourhood not in NEIGHBOURHOODS:
        raise ValueError(f"neighbourhood must be one of {sorted(NEIGHBOURHOODS)}, got {neighbourhood!r}")
    fields, arrays = NEIGHBOURHOODS[neighbourhood]
    require_fields(ops, fields, f"GemConv(neighbourhood={neighbourhood!r})")
    return tuple(getattr(ops, a) for a in arrays)


# ---------------------------------------------------------------------------------------------- kernels
@dataclass(frozen=True)
class KernelTerm:
    """One complex kernel family from ``rho_n`` to ``rho_m``: the pair weight ``exp(1j k theta)`` applied to
    the transported ``z`` (``conj=False``), or ``exp(-1j k theta)`` applied to ``conj(z)`` (``conj=True``,
    k = -(m + n)). ``real``: n = m = 0 (one real coefficient instead of a complex one)."""

    n: int
    m: int
    k: int
    conj: bool = False

    @property
    def real(self) -> bool:
        return self.n == 0 and self.m == 0

    @property
    def frequency(self) -> int:
        """The angular frequency of the kernel: |k|."""
        return abs(self.k)


def kernel_terms(in_type: FieldType, out_type: FieldType, band_limit: int) -> list[KernelTerm]:
    """The kernel families from each order of ``in_type`` to each order of ``out_type`` with angular
    frequency <= ``band_limit`` (see the module docstring), in the order (m, n, conj)."""
    terms = []
    for m in out_type.orders:
        for n in in_type.orders:
            if n == 0 or m == 0:
                cand = [KernelTerm(n, m, m - n)]  # (0, 0): k = 0; (0, m): k = m; (n, 0): k = -n
            else:
                cand = [KernelTerm(n, m, m - n), KernelTerm(n, m, -(m + n), conj=True)]
            terms += [t for t in cand if t.frequency <= band_limit]
    return terms


def _complex_matrix(w, d_out: int, d_in: int, conj: bool):
    """Real (.., d_out, d_in) matrix of ``z -> w z`` (or ``w conj(z)``) between real (d=1) / complex (d=2)."""
    re, im = w.real, w.imag
    if d_in == 2 and d_out == 2:
        m = torch.stack([torch.stack([re, -im], -1), torch.stack([im, re], -1)], -2)
        return m * torch.tensor([1.0, -1.0], dtype=re.dtype, device=re.device) if conj else m
    if d_in == 1 and d_out == 2:
        return torch.stack([re, im], -1)[..., None]
    if d_in == 2 and d_out == 1:
        return torch.stack([re, -im], -1)[..., None, :]
    return re[..., None, None]


def term_basis(t: KernelTerm, theta):
    """The real basis matrices (E, P, d_m, d_n) of one :class:`KernelTerm` at the angles ``theta`` (P,):
    coefficient 1, then 1j (E = 2), or only 1 for n = m = 0 (E = 1). ``d = 1`` for order 0, 2 otherwise."""
    d_n, d_m = (1 if t.n == 0 else 2), (1 if t.m == 0 else 2)
    theta = torch.as_tensor(theta)
    phase = torch.polar(torch.ones_like(theta), (-t.k if t.conj else t.k) * theta)
    coeffs = (1,) if t.real else (1, 1j)
    return torch.stack([_complex_matrix(c * phase, d_m, d_n, t.conj) for c in coeffs])


def kernel_basis(n: int, m: int, band_limit: int, theta):
    """The analytic basis of the kernels from ``rho_n`` to ``rho_m``: real (B, P, d_m, d_n) matrices at the
    angles ``theta`` (P,). Every element satisfies ``K(theta - g) = rho_m(-g) K(theta) rho_n(g)``; together
    they span all such kernels whose entries are trigonometric polynomials of degree <= ``band_limit``
    (:func:`term_basis` of each of :func:`kernel_terms`' families, in order)."""
    theta = torch.as_tensor(theta)
    parts = [term_basis(t, theta) for t in kernel_terms(_single(n), _single(m), band_limit)]
    if not parts:
        return theta.new_zeros((0, *theta.shape, 1 if m == 0 else 2, 1 if n == 0 else 2))
    return torch.cat(parts)


def _single(n: int) -> FieldType:
    """One copy of ``rho_n``."""
    return FieldType([0] * n + [1])


# ---------------------------------------------------------------------------------------------- layer
class GemConv(OperatorModule):
    """Gauge-equivariant convolution ``in_type -> out_type`` (see the module docstring).

    Parameters
    ----------
    in_type, out_type : :class:`FieldType` (or its multiplicities).
    band_limit : highest angular frequency of the kernels (2).
    n_radial : radial Gaussian bins (default 1 on ``"edges"``: no radial dependence; 3 on ``"patches"``),
        centred on ``0 .. 2`` times each mesh's mean pair radius (scale invariant).
    neighbourhood : ``"edges"`` (one ring; fields ``logmap``, ``transport``) or ``"patches"`` (geodesic
        patches; field ``patches``: e.g. ``OperatorSpec(patch_rings=2)``, the two-ring).
    self_interaction, bias : the ``K_self x_i`` term and the ``rho_0`` bias.

    ``forward(x, ops)``: x (V, in_type.size) -> (V, out_type.size); ValueError when x is not of ``in_type``.
    """

    def __init__(
        self,
        in_type,
        out_type,
        band_limit: int = 2,
        n_radial: int | None = None,
        neighbourhood: str = "edges",
        self_interaction: bool = True,
        bias: bool = True,
    ):
        super().__init__()
        self.in_type, self.out_type = FieldType(in_type), FieldType(out_type)
        if neighbourhood not in NEIGHBOURHOODS:
            raise ValueError(f"neighbourhood must be one of {sorted(NEIGHBOURHOODS)}, got {neighbourhood!r}")
        if not isinstance(band_limit, int) or band_limit < 0:
            raise ValueError(f"band_limit must be an integer >= 0, got {band_limit!r}")
        n_radial = (1 if neighbourhood == "edges" else 3) if n_radial is None else n_radial
        if not isinstance(n_radial, int) or n_radial < 1:
            raise ValueError(f"n_radial must be an integer >= 1, got {n_radial!r}")
        self.band_limit, self.n_radial, self.neighbourhood = band_limit, n_radial, neighbourhood
        self.fields = NEIGHBOURHOODS[neighbourhood][0]
        self.terms = kernel_terms(self.in_type, self.out_type, band_limit)
        self.self_orders = (
            [n for n in self.out_type.orders if self.in_type.multiplicity(n) > 0] if self_interaction else []
        )
        unreached = [
            m for m in self.out_type.orders if m not in self.self_orders and all(t.m != m for t in self.terms)
        ]
        if unreached:
            raise ValueError(
                f"GemConv({self.in_type} -> {self.out_type}, band_limit={band_limit}): no kernel reaches the "
                f"output orders {unreached} (raise band_limit or add input orders)"
            )
        # moments each input order needs: n -> sorted frequencies k
        self.moment_k = {n: sorted({t.k for t in self.terms if t.n == n}) for n in self.in_type.orders}
        self.moment_k = {n: ks for n, ks in self.moment_k.items() if ks}
        self.weights = nn.ParameterList()
        fan_in = {m: 0 for m in self.out_type.orders}
        for t in self.terms:
            fan_in[t.m] += n_radial * self.in_type.multiplicity(t.n)
        for n in self.self_orders:
            fan_in[n] += self.in_type.multiplicity(n)
        for t in self.terms:
            shape = (n_radial, self.in_type.multiplicity(t.n), self.out_type.multiplicity(t.m))
            self.weights.append(nn.Parameter(_init(shape, fan_in[t.m], real=t.real)))
        self.self_weights = nn.ParameterList(
            nn.Parameter(
                _init((self.in_type.multiplicity(n), self.out_type.multiplicity(n)), fan_in[n], real=n == 0)
            )
            for n in self.self_orders
        )
        m0 = self.out_type.multiplicity(0)
        self.bias = nn.Parameter(torch.zeros(m0)) if bias and m0 > 0 else None
        self._build_gather()

    @property
    def in_channels(self) -> int:
        return self.in_type.size

    @property
    def out_channels(self) -> int:
        return self.out_type.size

    # ---------------------------------------------------------------- pieces
    def transport_phase(self, n: int, rho):
        """The angle by which a neighbour's ``rho_n`` coefficient is rotated: ``n * rho_ij``."""
        return n * rho

    def radial(self, r, pair_mesh, n_meshes: int):
        """(P, n_radial) Gaussian bins of ``r / mean r`` (the mean over each mesh's pairs), centres evenly
        on [0, 2], width their spacing; ones when ``n_radial == 1``."""
        Q = self.n_radial
        if Q == 1:
            return r.new_ones((r.shape[0], 1))
        count = torch.bincount(pair_mesh, minlength=n_meshes).clamp(min=1)
        mean = torch.bincount(pair_mesh, weights=r, minlength=n_meshes) / count
        rn = r / mean.clamp(min=torch.finfo(r.dtype).tiny)[pair_mesh]
        centres = torch.linspace(0.0, 2.0, Q, dtype=r.dtype, device=r.device)
        return torch.exp(-0.5 * ((rn[:, None] - centres) * ((Q - 1) / 2.0)) ** 2)

    def _pair_weights(self, ops):
        """``index``, per-pair radial weights divided by the centre's pair count (P, Q), theta, rho."""
        index, r, theta, rho = neighbour_pairs(ops, self.neighbourhood)
        i = index[0]
        deg = torch.bincount(i, minlength=ops.n_verts).clamp(min=1).to(r.dtype)
        w = self.radial(r, ops.batch[i], ops.n_meshes) / deg[i, None]
        return index, w, theta, rho

    def moment_matrix(self, ops, n: int):
        """Sparse CSR for input order n, rows ``(part, k, q, i)``: ``part`` 0 / 1 the real / imaginary part of
        ``mean_p R_q(r_p) exp(1j (k theta_p + n rho_p)) z_j``. Columns: j (n = 0, real input: (2KQV, V)), or
        ``(part of z, j)`` (n >= 1: (2KQV, 2V), complex multiplication in real arithmetic). Built once per
        batch (cached while the batch's ``theta`` tensor lives), with its transpose (for the backward pass of
        :func:`~manifoldnet.nn.sparse.spmm`), both directly in CSR order."""
        ks = self.moment_k[n]
        cls = type(self)
        name = (
            f"{cls.__module__}.{cls.__qualname__}:{self.neighbourhood}:n={n}:k={ks}:Q={self.n_radial}"
            f":V={ops.n_verts}"
        )
        theta_tensor = neighbour_pairs(ops, self.neighbourhood)[2]

        def build(_):
            index, w, theta, rho = self._pair_weights(ops)
            k = torch.tensor(ks, dtype=theta.dtype, device=theta.device)
            phase = k[:, None] * theta[None] + self.transport_phase(n, rho)[None]  # (K, P)
            c = torch.cos(phase)[:, None, :] * w.T[None]  # (K, Q, P)
            s = torch.sin(phase)[:, None, :] * w.T[None]
            blocks = 2 * len(ks) * self.n_radial
            on_re = torch.stack([c, s]).reshape(blocks, -1)  # coefficient of z_re (or x) in the (re, im) rows
            on_im = torch.stack([-s, c]).reshape(blocks, -1) if n > 0 else None  # coefficient of z_im
            S, St = _block_csr(index, on_re, on_im, ops.n_verts)
            per_tensor("transpose", S, lambda _: St)  # spmm's backward finds it there
            return S

        return per_tensor(name, theta_tensor, build)

    def features(self, x, ops):
        """(V, D) real: for each input order n, the moments' real and imaginary parts ordered (part, k, q, a),
        then ``x`` itself (for the self-interaction); :meth:`weight_matrix` maps them to the output."""
        V = ops.n_verts
        parts = []
        for n, ks in self.moment_k.items():
            m = self.in_type.multiplicity(n)
            z = x[:, self.in_type.slice(n)]
            if n > 0:  # (V, m, 2) -> (2V, m): z_re rows, then z_im rows
                z = z.reshape(V, m, 2).permute(2, 0, 1).reshape(2 * V, m)
            S = self.moment_matrix(ops, n)  # in the operators' dtype; sparse kernels take no half precision
            with torch.autocast(device_type=x.device.type, enabled=False):
                y = spmm(S, z.to(S.dtype)).to(x.dtype)  # (2KQV, m)
            parts.append(y.view(2 * len(ks) * self.n_radial, V, m).transpose(0, 1).reshape(V, -1))
        parts.append(x)
        return torch.cat(parts, dim=1)

    def _feature_rows(self, n: int, part: int, k: int) -> slice:
        """Rows of :meth:`features` holding (part, k) of input order n: Q * m_n rows ordered (q, a)."""
        start = 0
        for n2, ks in self.moment_k.items():
            block = self.n_radial * self.in_type.multiplicity(n2)
            if n2 == n:
                return slice(
                    start + (part * len(ks) + ks.index(k)) * block,
                    start + (part * len(ks) + ks.index(k) + 1) * block,
                )
            start += 2 * len(ks) * block
        raise KeyError((n, part, k))

    def _assemble(self, weights, self_weights):
        """(D, C_out): the coefficients arranged so that ``features(x) @ W`` is the layer without its bias
        (complex products written out: y_re = W_re M_re - W_im M_im, y_im = W_re M_im + W_im M_re, with M_im
        negated for the conjugate terms). Each entry of W is plus or minus one coefficient, or zero."""
        D = sum(2 * len(ks) * self.n_radial * self.in_type.multiplicity(n) for n, ks in self.moment_k.items())
        W = torch.zeros((D + self.in_type.size, self.out_type.size), dtype=torch.float64)
        for t, w in zip(self.terms, weights, strict=True):
            so = self.out_type.slice(t.m)
            r_re, r_im = self._feature_rows(t.n, 0, t.k), self._feature_rows(t.n, 1, t.k)
            if t.real:
                W[r_re, so] += w.reshape(-1, w.shape[-1])
                continue
            wr, wi = (w[..., 0].reshape(-1, w.shape[-2]), w[..., 1].reshape(-1, w.shape[-2]))
            sign = -1.0 if t.conj else 1.0
            if t.m == 0:
                W[r_re, so] += wr
                W[r_im, so] += -sign * wi
            else:
                col_re = slice(so.start, so.stop, 2)
                col_im = slice(so.start + 1, so.stop, 2)
                W[r_re, col_re] += wr
                W[r_im, col_re] += -sign * wi
                W[r_re, col_im] += wi
                W[r_im, col_im] += sign * wr
        for n, w in zip(self.self_orders, self_weights, strict=True):
            si, so = self.in_type.slice(n), self.out_type.slice(n)
            if n == 0:
                W[D + si.start : D + si.stop, so] += w
                continue
            wr, wi = w[..., 0], w[..., 1]
            in_re, in_im = slice(D + si.start, D + si.stop, 2), slice(D + si.start + 1, D + si.stop, 2)
            out_re, out_im = slice(so.start, so.stop, 2), slice(so.start + 1, so.stop, 2)
            W[in_re, out_re] += wr
            W[in_im, out_re] += -wi
            W[in_re, out_im] += wi
            W[in_im, out_im] += wr
        return W

    def _coefficients(self):
        return [*self.weights, *self.self_weights]

    def _build_gather(self):
        """Where each entry of :meth:`weight_matrix` comes from: the coefficients numbered 1.. N assembled
        once, so the forward builds W with one gather (index into the flat coefficients, a sign)."""
        coeffs = self._coefficients()
        sizes = [p.numel() for p in coeffs]
        codes = torch.arange(1, sum(sizes) + 1, dtype=torch.float64).split(sizes)
        codes = [c.reshape(p.shape) for c, p in zip(codes, coeffs, strict=True)]
        W = self._assemble(codes[: len(self.weights)], codes[len(self.weights) :])
        index = W.abs().long() - 1
        self.register_buffer("_gather_index", torch.where(index < 0, sum(sizes), index), persistent=False)
        self.register_buffer("_gather_sign", torch.sign(W).float(), persistent=False)

    def weight_matrix(self, dtype=None):
        """(D, C_out) real, ``features(x) @ weight_matrix()`` is the layer without its bias (see
        :meth:`_assemble`)."""
        coeffs = self._coefficients()
        flat = torch.cat([*(p.reshape(-1) for p in coeffs), coeffs[0].new_zeros(1)])
        dtype = flat.dtype if dtype is None else dtype
        return flat.to(dtype)[self._gather_index] * self._gather_sign.to(dtype)

    # --------------------------------------------------------------- forward
    def forward(self, x, ops):
        self.in_type.check(x, "GemConv")
        check_x(x, ops, "GemConv")
        F, W = self.features(x, ops), self.weight_matrix(x.dtype)
        if self.bias is None:
            return F @ W
        bias = torch.cat([self.bias.to(x.dtype), x.new_zeros(W.shape[1] - self.bias.shape[0])])
        return torch.addmm(bias, F, W)

    # ------------------------------------------------------ dense kernels
    def kernel(self, theta, radial):
        """The learned kernel as real matrices (P, C_out, C_in) at angles ``theta`` (P,) with radial bin
        values ``radial`` (P, n_radial) (:meth:`radial`): the slow, explicit form of the layer's pair term,
        built from :func:`kernel_basis` (for dense references and the kernel constraint)."""
        P = theta.shape[0]
        out = theta.new_zeros((P, self.out_type.size, self.in_type.size))
        for t, w in zip(self.terms, self.weights, strict=True):
            basis = term_basis(t, theta)  # (E, P, d_m, d_n)
            wr = w.to(theta.dtype)[..., None] if t.real else w.to(theta.dtype)  # (Q, a, b, E)
            block = torch.einsum("pq,qabe,epij->pbiaj", radial.to(theta.dtype), wr, basis)
            so, si = self.out_type.slice(t.m), self.in_type.slice(t.n)
            out[:, so, si] += block.reshape(P, so.stop - so.start, si.stop - si.start)
        return out

    def self_kernel(self, dtype=torch.float64):
        """The self-interaction as a real (C_out, C_in) matrix."""
        out = torch.zeros(self.out_type.size, self.in_type.size, dtype=dtype)
        for n, w in zip(self.self_orders, self.self_weights, strict=True):
            so, si = self.out_type.slice(n), self.in_type.slice(n)
            if n == 0:
                out[so, si] = w.detach().to(dtype).T
            else:
                blk = _complex_matrix(torch.view_as_complex(w.detach().to(dtype).contiguous()), 2, 2, False)
                a, b = w.shape[:2]
                out[so, si] = blk.permute(1, 2, 0, 3).reshape(2 * b, 2 * a)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.in_type} -> {self.out_type}, band_limit={self.band_limit}, n_radial={self.n_radial}, "
            f"neighbourhood={self.neighbourhood!r}, terms={len(self.terms)}"
        )


def _block_csr(index, on_re, on_im, V: int):
    """``S`` (B V, V) or (B V, 2 V) and ``S^T`` as CSR, built in CSR order (no sort of the nonzeros).

    Row ``b V + i`` of S holds ``on_re[b, p]`` at column ``j`` for each pair p = (i, j) and, when ``on_im``
    is given, ``on_im[b, p]`` at column ``V + j``. ``index`` (2, P); ``on_re``, ``on_im`` (B, P).
    """
    i, j = index
    B, P = on_re.shape
    dev, dt = on_re.device, on_re.dtype
    parts = [on_re] if on_im is None else [on_re, on_im]
    nparts = len(parts)
    blocks = torch.arange(B, device=dev)[:, None]
    # S: rows (b, i), within a row the pairs of i by j (then the z_im copy)
    o = torch.sort(i * V + j, stable=True).indices  # pairs by (i, j)
    deg = torch.bincount(i, minlength=V)
    start = torch.cumsum(deg, 0) - deg
    io, jo = i[o], j[o]
    rank = torch.arange(P, device=dev) - start[io]
    base = blocks * (nparts * P) + nparts * start[io][None] + rank[None]  # (B, P)
    cols = torch.empty(B * nparts * P, dtype=torch.long, device=dev)
    vals = torch.empty(B * nparts * P, dtype=dt, device=dev)
    for q, part in enumerate(parts):
        pos = (base + q * deg[io][None]).reshape(-1)
        cols[pos] = (jo + q * V).repeat(B)
        vals[pos] = part[:, o].reshape(-1)
    crow = torch.zeros(B * V + 1, dtype=torch.long, device=dev)
    crow[1:] = torch.cumsum((nparts * deg).repeat(B), 0)
    S = sparse_csr(crow, cols, vals, (B * V, nparts * V))
    # S^T: rows j (then V + j), within a row the blocks b, then the pairs into j by i
    o2 = torch.sort(j * V + i, stable=True).indices  # pairs by (j, i)
    indeg = torch.bincount(j, minlength=V)
    start2 = torch.cumsum(indeg, 0) - indeg
    io2, jo2 = i[o2], j[o2]
    rank2 = torch.arange(P, device=dev) - start2[jo2]
    pos = (B * start2[jo2][None] + blocks * indeg[jo2][None] + rank2[None]).reshape(-1)
    colsT = torch.empty(B * P, dtype=torch.long, device=dev)
    colsT[pos] = (blocks * V + io2[None]).reshape(-1)
    crowT = torch.zeros(nparts * V + 1, dtype=torch.long, device=dev)
    crowT[1:] = torch.cumsum((B * indeg).repeat(nparts), 0)
    valsT = torch.empty(nparts * B * P, dtype=dt, device=dev)
    for q, part in enumerate(parts):
        valsT[q * B * P + pos] = part[:, o2].reshape(-1)
    St = sparse_csr(crowT, colsT.repeat(nparts), valsT, (nparts * V, B * V))
    return S, St


def _init(shape, fan_in: int, real: bool):
    """Normal weights, variance 1 / fan_in (split between real and imaginary parts for complex ones)."""
    std = 1.0 / math.sqrt(max(fan_in, 1))
    if real:
        return torch.randn(shape) * std
    return torch.randn((*shape, 2)) * (std / math.sqrt(2.0))


# ------------------------------------------------------------------------------------- nonlinearities
class NormNonlinearity(OperatorModule):
    """Exactly gauge-equivariant nonlinearity: ``relu`` on the ``rho_0`` channels and, on each ``rho_n``
    coefficient (n >= 1), ``z -> z relu(|z| - b) / |z|`` with a learned threshold ``b`` per coefficient
    (``|z|`` is gauge invariant, so only the length changes). ``forward(x, ops=None)``: (V, C) -> (V, C)."""

    def __init__(self, field_type):
        super().__init__()
        self.field_type = FieldType(field_type)
        self.threshold = nn.Parameter(torch.zeros(sum(self.field_type.multiplicities[1:])))

    def forward(self, x, ops=None):
        ft = self.field_type
        ft.check(x, "NormNonlinearity")
        m0 = ft.multiplicity(0)
        scalars = torch.relu(x[:, :m0])
        if x.shape[1] == m0:
            return scalars
        z = x[:, m0:].reshape(x.shape[0], -1, 2)  # every (re, im) pair of every order, in layout order
        eps = torch.finfo(x.dtype).eps
        norm = torch.sqrt(z.square().sum(-1) + eps**2)
        scale = torch.relu(norm - self.threshold.to(x.dtype)) / norm
        return torch.cat([scalars, (z * scale[..., None]).reshape(x.shape[0], -1)], dim=1)


class RegularNonlinearity(OperatorModule):
    """Approximately gauge-equivariant nonlinearity (de Haan et al.): each of the m copies of ``rho_0 + ..
    + rho_L`` is read as a band-limited function on the circle, ``f(phi) = x_0 + 2 sum_n Re(z_n exp(1j n
    phi))``, sampled at ``n_samples`` angles ``2 pi s / N``, passed through ``activation`` (ReLU) pointwise
    and projected back onto orders 0..L by the discrete Fourier transform. A gauge change shifts f, so this
    is exact for shifts by multiples of ``2 pi / N`` and approximate in between; the error falls with N.
    Needs equal multiplicities ``FieldType([m] * (L + 1))`` and ``N >= 2 L + 1``."""

    def __init__(self, field_type, n_samples: int = 8, activation=torch.relu):
        super().__init__()
        ft = self.field_type = FieldType(field_type)
        if len(set(ft.multiplicities)) != 1:
            raise ValueError(f"RegularNonlinearity needs equal multiplicities [m] * (L + 1), got {ft}")
        L = ft.max_order
        if not isinstance(n_samples, int) or n_samples < 2 * L + 1:
            raise ValueError(f"RegularNonlinearity on {ft} needs n_samples >= {2 * L + 1}, got {n_samples!r}")
        self.n_samples, self.activation = n_samples, activation
        phi = 2.0 * math.pi * torch.arange(n_samples, dtype=torch.float64) / n_samples
        n = torch.arange(1, L + 1, dtype=torch.float64)
        cos, sin = torch.cos(n[None] * phi[:, None]), torch.sin(n[None] * phi[:, None])  # (N, L)
        # component order per copy: x_0, re_1, im_1, ..., re_L, im_L
        synth = torch.cat(
            [
                torch.ones(n_samples, 1, dtype=torch.float64),
                torch.stack([2 * cos, -2 * sin], -1).reshape(n_samples, 2 * L),
            ],
            1,
        )
        analysis = (
            torch.cat(
                [
                    torch.ones(n_samples, 1, dtype=torch.float64),
                    torch.stack([cos, -sin], -1).reshape(n_samples, 2 * L),
                ],
                1,
            )
            / n_samples
        )
        self.register_buffer("synthesis", synth.T.contiguous(), persistent=False)  # (2L+1, N)
        self.register_buffer("analysis", analysis, persistent=False)  # (N, 2L+1)
        m = ft.multiplicity(0)
        perm = [
            c
            for copy in range(m)
            for c in [copy] + [ft.slice(k).start + 2 * copy + p for k in range(1, L + 1) for p in (0, 1)]
        ]
        perm = torch.tensor(perm)
        self.register_buffer("perm", perm, persistent=False)  # layout channel of (copy, component)
        self.register_buffer("inverse", torch.argsort(perm), persistent=False)

    def forward(self, x, ops=None):
        ft = self.field_type
        ft.check(x, "RegularNonlinearity")
        V, m = x.shape[0], ft.multiplicity(0)
        c = x[:, self.perm].view(V, m, -1)  # (V, m, 2L+1)
        f = self.activation(c @ self.synthesis.to(x.dtype))  # (V, m, N)
        return (f @ self.analysis.to(x.dtype)).reshape(V, -1)[:, self.inverse]
