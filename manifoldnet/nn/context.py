"""Global context: every vertex hears a summary of its whole mesh.

The patch and gauge convolutions see a few rings per layer, so what a part is (which family of shapes, how
far along a limb) can lie beyond a small network's receptive field; DiffusionNet's learned diffusion times
reach the whole surface, these layers do not. :class:`GlobalContext` adds, to each vertex's features, a
learned map of its mesh's area-weighted mean feature (the global feature that PointNet and DGCNN
concatenate to every point for segmentation)::

    y_v = x_v + W relu(mean_M(x)) + b        mean_M(x) = sum_u m_u x_u / sum_u m_u over v's mesh M

(m: the lumped mass). The mean is one sparse (B, V) product (:func:`~manifoldnet.nn.functional.mesh_mean`),
the broadcast back to the vertices one (V, B) indicator product. It is invariant to vertex relabelling, rigid
motions and gauges (the mean of scalars), a batch equals each mesh alone, and it keeps a scalar channel a
scalar: a gauge-equivariant network may apply it to its ``rho_0`` channels.
"""

from __future__ import annotations

import torch
from torch import nn

from ..operators.torch_ops import sparse_csr
from . import functional as F
from .base import OperatorModule
from .checks import check_x
from .sparse import per_tensor, spmm

__all__ = ["GlobalContext", "broadcast_to_vertices"]


def broadcast_to_vertices(g: torch.Tensor, ops) -> torch.Tensor:
    """(B, C) per-mesh values -> (V, C), each vertex given its mesh's row (one sparse product; built once
    per batch)."""
    if g.ndim != 2 or g.shape[0] != ops.n_meshes:
        raise ValueError(
            f"broadcast_to_vertices: expected ({ops.n_meshes}, C) per-mesh values, got {tuple(g.shape)}"
        )

    def build(batch):
        V = batch.shape[0]
        ones = torch.ones(V, dtype=g.dtype, device=batch.device)
        crow = torch.arange(V + 1, device=batch.device)
        return sparse_csr(crow, batch, ones, (V, ops.n_meshes))

    return spmm(per_tensor(f"mesh broadcast {g.dtype} {ops.n_meshes}", ops.batch, build), g)


class GlobalContext(OperatorModule):
    """(V, C) -> (V, C): ``x + Linear(relu(mesh_mean(x)))`` broadcast to each mesh's vertices.

    channels : C. Reads the ``mass`` field.
    """

    fields = ("mass",)

    def __init__(self, channels: int):
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        self.channels = channels
        self.linear = nn.Linear(channels, channels)

    def forward(self, x, ops):
        check_x(x, ops, "GlobalContext")
        if x.shape[1] != self.channels:
            raise ValueError(
                f"GlobalContext: x has {x.shape[1]} channels, the layer was built for {self.channels}"
            )
        g = self.linear(torch.relu(F.mesh_mean(x, ops).to(x.dtype)))
        return x + broadcast_to_vertices(g, ops)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"
