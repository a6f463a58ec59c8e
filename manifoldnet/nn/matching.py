"""Descriptor-level correspondence loss: learned per-vertex descriptors that match by nearest neighbour.

For matched points ``src_ids[n] <-> dst_ids[n]`` of two shapes, the soft nearest-neighbour (InfoNCE) loss
treats each target point's descriptor as a query against every source vertex:

    loss = mean_n  -log softmax_v( <f_dst[dst_ids[n]], f_src[v]> / tau )[src_ids[n]]

It is minimal when each target point's nearest source descriptor (by inner product; by distance for unit
descriptors, ``last_activation="normalize"``) is its true partner, which is how the map is read at test time
(``analysis.functional_maps.nearest_rows``). The functional-map loss (:func:`manifoldnet.nn.fmap.fmap_loss`)
constrains only the low frequencies; this one sharpens the descriptors point by point.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["check_matches", "soft_match_loss"]


def check_matches(src_ids, dst_ids, n_src: int, n_dst: int, who: str, device=None):
    """``(src_ids, dst_ids)`` as (N,) long tensors on ``device``, N >= 1, every id a vertex of its shape
    (``n_src`` / ``n_dst`` vertices); a ValueError naming ``who`` and the first bad entry otherwise."""
    src_ids, dst_ids = (
        torch.as_tensor(np.array(i, dtype=np.int64) if isinstance(i, np.ndarray) else i, device=device).long()
        for i in (src_ids, dst_ids)
    )
    if src_ids.ndim != 1 or src_ids.shape != dst_ids.shape or src_ids.numel() == 0:
        raise ValueError(
            f"{who}: src_ids and dst_ids must be non-empty (N,) of one length, got "
            f"{tuple(src_ids.shape)} and {tuple(dst_ids.shape)}"
        )
    for name, ids, n in (("src_ids", src_ids, n_src), ("dst_ids", dst_ids, n_dst)):
        bad = (ids < 0) | (ids >= n)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise ValueError(f"{who}: {name}[{i}] = {int(ids[i])} is not one of the {n} vertices")
    return src_ids, dst_ids


def soft_match_loss(
    f_src, f_dst, src_ids, dst_ids, tau: float = 0.07, n_samples: int | None = 1024, generator=None
):
    """The module docstring's loss (a scalar) over ``n_samples`` random matches (all when None).

    f_src (V_src, C), f_dst (V_dst, C) : descriptors. src_ids, dst_ids (N,) : matched vertices.
    tau : temperature (> 0). generator : torch.Generator for the subsample (on the descriptors' device).
    """
    if f_src.ndim != 2 or f_dst.ndim != 2 or f_src.shape[1] != f_dst.shape[1]:
        raise ValueError(
            f"soft_match_loss: f_src (V_src, C) and f_dst (V_dst, C) must share C, got {tuple(f_src.shape)} "
            f"and {tuple(f_dst.shape)}"
        )
    src_ids, dst_ids = check_matches(
        src_ids, dst_ids, f_src.shape[0], f_dst.shape[0], "soft_match_loss", f_src.device
    )
    if not tau > 0:
        raise ValueError(f"soft_match_loss: tau must be positive, got {tau}")
    if n_samples is not None and n_samples < src_ids.numel():
        dev = generator.device if generator is not None else src_ids.device
        sel = torch.randperm(src_ids.numel(), generator=generator, device=dev)[:n_samples].to(src_ids.device)
        src_ids, dst_ids = src_ids[sel], dst_ids[sel]
    logits = (f_dst[dst_ids] @ f_src.T) / tau  # (N, V_src)
    return torch.nn.functional.cross_entropy(logits, src_ids)
