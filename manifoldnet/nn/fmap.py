"""Differentiable functional maps (GeomFmaps, Donati, Sharma, Ovsjanikov 2020): learned per-vertex descriptors
of two shapes -> the map ``C`` between their truncated eigenbases, in closed form, batched over pairs.

Conventions (those of :mod:`manifoldnet.analysis.functional_maps`)
-----------------------------------------------------------------
A map from ``src`` to ``dst`` is ``C`` (k_dst, k_src): a function with coefficients ``a`` on ``src`` becomes
``C @ a`` on ``dst``. A point map ``p2p`` (V_dst,) that gives every vertex of ``dst`` a vertex of ``src``
transfers functions by pull-back (``f_dst = f_src[p2p]``) and induces ``C = Phi_dst^T M_dst Phi_src[p2p]``;
``analysis.functional_maps.fmap_to_p2p(C, src, dst)`` reads such a point map back from ``C``.

The layer minimises, for every pair, with descriptor coefficients ``A = Phi_src^T M_src F_src`` (k_src, C)
and ``B = Phi_dst^T M_dst F_dst`` (k_dst, C),

    ||C A - B||^2 + lam ||C Lambda_src - Lambda_dst C||^2

(descriptor preservation plus commutativity with the Laplacian). Both terms decouple over the rows of
``C``: row ``i`` solves ``(A A^T + lam diag((lambda_src - lambda_dst,i)^2)) c_i = A b_i``, a (k_src, k_src)
SPD system; all rows of all pairs go to one batched ``torch.linalg.solve``, which torch differentiates.
"""

from __future__ import annotations

import torch

from . import functional as F
from .base import OperatorModule
from .checks import check_x, require_fields
from .matching import check_matches

__all__ = ["FunctionalMap", "fmap_from_matches", "fmap_loss", "fmap_solve", "scaled_evals"]


def _check_pairs_tensor(name, t, ndim):
    if not isinstance(t, torch.Tensor) or t.ndim != ndim or not t.is_floating_point():
        raise ValueError(
            f"fmap_solve: {name} must be a float tensor with {ndim} dims, got {getattr(t, 'shape', type(t))}"
        )


def fmap_solve(A, B, evals_src, evals_dst, lam: float = 1e-3):
    """The functional maps ``C`` (P, k_dst, k_src) minimising the module docstring's energy, pair by pair.

    A : (P, k_src, C) and B : (P, k_dst, C) descriptor coefficients of the source and target shapes (or
    (k, C) for one pair: then C is (k_dst, k_src)). evals_src (P, k_src), evals_dst (P, k_dst) : eigenvalues
    (or (k,)); scale them comparably (:func:`scaled_evals`) so that ``lam`` means the same on every pair.
    lam : weight of the commutativity term (>= 0; with 0 the map is the plain least-squares ``B A^+``, which
    needs at least k_src descriptor channels).
    """
    single = isinstance(A, torch.Tensor) and A.ndim == 2
    if single:
        A, B, evals_src, evals_dst = (
            t[None] if isinstance(t, torch.Tensor) else t for t in (A, B, evals_src, evals_dst)
        )
    for name, t in (("A", A), ("B", B), ("evals_src", evals_src), ("evals_dst", evals_dst)):
        _check_pairs_tensor(name, t, 3 if name in ("A", "B") else 2)
    P, ks, C = A.shape
    if B.shape[0] != P or B.shape[2] != C:
        raise ValueError(
            f"fmap_solve: A is (P, k_src, C) = {tuple(A.shape)} and B must be (P, k_dst, C) with the same P "
            f"and C, got {tuple(B.shape)}"
        )
    kd = B.shape[1]
    if evals_src.shape != (P, ks) or evals_dst.shape != (P, kd):
        raise ValueError(
            f"fmap_solve: evals_src must be (P, k_src) = {(P, ks)} and evals_dst (P, k_dst) = {(P, kd)}, got "
            f"{tuple(evals_src.shape)} and {tuple(evals_dst.shape)}"
        )
    lam = float(lam)
    if not (lam >= 0 and lam < float("inf")):
        raise ValueError(f"fmap_solve: lam must be a finite non-negative weight, got {lam}")
    if lam == 0 and C < ks:
        raise ValueError(
            f"fmap_solve: with lam = 0 the map needs at least k_src = {ks} descriptor channels, got {C}"
        )
    AA = A @ A.transpose(1, 2)  # (P, ks, ks)
    rhs = (B @ A.transpose(1, 2))[..., None]  # (P, kd, ks, 1): row i is A b_i
    D = (evals_src[:, None, :] - evals_dst[:, :, None]) ** 2  # (P, kd, ks)
    H = AA[:, None] + lam * torch.diag_embed(D.to(AA.dtype))  # (P, kd, ks, ks)
    Cmap = torch.linalg.solve(H, rhs)[..., 0]
    return Cmap[0] if single else Cmap


def scaled_evals(ops, k_src: int, k_dst: int, pairs):
    """(P, k_src), (P, k_dst): each pair's eigenvalues of unit-area shapes, divided by the largest of the two.

    ``lambda * area`` does not change when a shape is scaled; dividing by the pair's largest value used makes
    the commutativity weight dimensionless (as ``analysis.functional_maps.fmap_from_descriptors`` does).
    """
    require_fields(ops, ("mass", "eigenbasis"), "scaled_evals")
    area = torch.zeros(ops.n_meshes, dtype=ops.mass.dtype, device=ops.device).index_add_(
        0, ops.batch, ops.mass
    )
    ev = ops.evals * area[:, None].to(ops.evals.dtype)
    es, ed = ev[pairs[:, 0], :k_src], ev[pairs[:, 1], :k_dst]
    scale = torch.maximum(es.abs().amax(1), ed.abs().amax(1)).clamp_min(torch.finfo(ev.dtype).tiny)
    return es / scale[:, None], ed / scale[:, None]


def _as_pairs(pairs, n_meshes: int, device):
    p = torch.as_tensor(pairs, dtype=torch.long, device=device)
    if p.ndim == 1 and p.numel() == 2:
        p = p[None]
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"pairs must be (P, 2) mesh indices (source, target), got shape {tuple(p.shape)}")
    bad = (p < 0) | (p >= n_meshes)
    if bool(bad.any()):
        r = int(torch.nonzero(bad)[0, 0])
        raise ValueError(f"pairs[{r}] = {p[r].tolist()} names a mesh outside the batch of {n_meshes}")
    return p


class FunctionalMap(OperatorModule):
    """Descriptors -> functional maps of pairs of meshes of one batch (module docstring).

    Parameters
    ----------
    k : basis size on the source (and the target unless ``k_dst`` is given); at most the bundles' K.
    lam : commutativity weight on :func:`scaled_evals` eigenvalues (GeomFmaps uses 1e-3).

    ``forward(feat, ops, pairs)``: feat (V, C) descriptors over all vertices of ``ops`` (one collated batch),
    pairs (P, 2) long mesh indices ``(source, target)`` -> C (P, k_dst, k_src), mapping functions from each
    pair's source to its target.
    """

    fields = ("mass", "eigenbasis")

    def __init__(self, k: int = 30, lam: float = 1e-3, k_dst: int | None = None):
        super().__init__()
        self.k_src, self.k_dst = int(k), int(k if k_dst is None else k_dst)
        if self.k_src < 1 or self.k_dst < 1:
            raise ValueError(f"k must be positive, got k={k}, k_dst={k_dst}")
        if not (float(lam) >= 0 and float(lam) < float("inf")):
            raise ValueError(f"lam must be a finite non-negative weight, got {lam}")
        self.lam = float(lam)

    def forward(self, feat, ops, pairs):
        require_fields(ops, self.fields, "FunctionalMap")
        check_x(feat, ops, "FunctionalMap")
        K = ops.evecs.shape[1]
        if max(self.k_src, self.k_dst) > K:
            raise ValueError(f"FunctionalMap: k = {(self.k_src, self.k_dst)} exceeds the bundles' K = {K}")
        p = _as_pairs(pairs, ops.n_meshes, feat.device)
        coeffs = F.to_spectral(feat.to(ops.evecs.dtype), ops)  # (B, K, C)
        es, ed = scaled_evals(ops, self.k_src, self.k_dst, p)
        A, B = coeffs[p[:, 0], : self.k_src], coeffs[p[:, 1], : self.k_dst]
        return fmap_solve(A, B, es.to(A.dtype), ed.to(A.dtype), self.lam)

    def extra_repr(self) -> str:
        return f"k_src={self.k_src}, k_dst={self.k_dst}, lam={self.lam}"


def fmap_from_matches(evecs_src, evecs_dst, src_ids, dst_ids, weights=None):
    """(k_dst, k_src) ground-truth map from matched points ``src_ids[n] <-> dst_ids[n]`` (least squares).

    ``argmin_C sum_n w_n ||Phi_dst[dst_ids[n]] C - Phi_src[src_ids[n]]||^2``: the pull-back of every basis
    function of ``src`` fitted at the matched points. ``weights=None`` gives the pseudo-inverse form
    ``C = pinv(Phi_dst[dst_ids]) Phi_src[src_ids]`` of GeomFmaps (used for FAUST's ``.vts`` samples); with
    ``weights = M_dst`` and ``dst_ids`` every vertex once it equals ``Phi_dst^T M_dst Phi_src[p2p]``
    (``analysis.functional_maps.p2p_to_fmap``). evecs (V, k) tensors; ids (N,) long; weights (N,) or None.
    """
    src_ids, dst_ids = check_matches(
        src_ids, dst_ids, evecs_src.shape[0], evecs_dst.shape[0], "fmap_from_matches", evecs_src.device
    )
    if src_ids.numel() < evecs_dst.shape[1]:
        raise ValueError(
            f"{src_ids.numel()} matches cannot determine a map with k_dst = {evecs_dst.shape[1]} rows"
        )
    X, Y = evecs_dst[dst_ids], evecs_src[src_ids]
    if weights is not None:
        w = torch.as_tensor(weights, dtype=X.dtype, device=X.device)
        if w.shape != dst_ids.shape or bool((w < 0).any()):
            raise ValueError(f"weights must be (N,) = {tuple(dst_ids.shape)} and non-negative")
        X, Y = X * w.sqrt()[:, None], Y * w.sqrt()[:, None]
    return torch.linalg.lstsq(X, Y).solution


def fmap_loss(C, C_gt):
    """Supervised functional-map loss: ``||C - C_gt||_F^2`` summed over entries, averaged over pairs.

    C, C_gt : (P, k_dst, k_src) or (k_dst, k_src).
    """
    if C.shape != C_gt.shape:
        raise ValueError(f"fmap_loss: C is {tuple(C.shape)} but C_gt is {tuple(C_gt.shape)}")
    d = (C - C_gt.to(C.dtype)) ** 2
    return d.sum() / (d.shape[0] if d.ndim == 3 else 1)
