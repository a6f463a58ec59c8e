"""Output heads shared by every model family: a linear map from the backbone's width to the task's channels,
read out at vertices, faces or per mesh, with an optional last activation.

- segmentation: ``OutputHead(width, n_classes, outputs="vertices" | "faces", last_activation="log_softmax")``
- correspondence: ``OutputHead(width, dim, last_activation="normalize")`` (unit per-vertex embeddings)
- classification: ``OutputHead(width, n_classes, outputs="global", last_activation="log_softmax")``
"""

from __future__ import annotations

import torch
from torch import nn

from . import functional as F
from .base import OperatorModule

__all__ = ["OUTPUTS", "BlockNetwork", "OutputHead"]

OUTPUTS = ("vertices", "faces", "global")
_ACTIVATIONS = (None, "log_softmax", "softmax", "normalize")


class OutputHead(OperatorModule):
    """``Linear(in_channels, out_channels)`` then the read-out and the last activation.

    outputs : ``"vertices"`` (V, C_out), ``"faces"`` (F, C_out; the mean of the three vertex values) or
        ``"global"`` (B, C_out; the mass-weighted mean over each mesh).
    last_activation : None, ``"log_softmax"``, ``"softmax"`` (over channels), ``"normalize"`` (unit L2 norm
        per row), or any callable.
    """

    def __init__(self, in_channels: int, out_channels: int, outputs: str = "vertices", last_activation=None):
        super().__init__()
        if outputs not in OUTPUTS:
            raise ValueError(f"outputs must be one of {list(OUTPUTS)}, got {outputs!r}")
        if not (callable(last_activation) or last_activation in _ACTIVATIONS):
            raise ValueError(
                f"last_activation must be a callable or one of {list(_ACTIVATIONS)}, got {last_activation!r}"
            )
        self.outputs, self.last_activation = outputs, last_activation
        self.fields = {"vertices": (), "faces": ("faces",), "global": ("mass",)}[outputs]
        self.linear = nn.Linear(in_channels, out_channels)

    def forward(self, x, ops):
        y = self.linear(x)
        if self.outputs == "faces":
            y = F.vertices_to_faces(y, ops)
        elif self.outputs == "global":
            y = F.mesh_mean(y, ops)
        act = self.last_activation
        if act == "log_softmax":
            return torch.log_softmax(y, dim=-1)
        if act == "softmax":
            return torch.softmax(y, dim=-1)
        if act == "normalize":
            return nn.functional.normalize(y, dim=-1)
        return act(y) if callable(act) else y

    def extra_repr(self) -> str:
        return f"outputs={self.outputs!r}, last_activation={self.last_activation!r}"


class BlockNetwork(OperatorModule):
    """The shape every model of the library shares: ``Linear(in_channels, width)``, residual ``blocks``
    (each (V, width) -> (V, width), called as ``block(x, ops)``), then an :class:`OutputHead`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int,
        blocks,
        outputs="vertices",
        last_activation=None,
    ):
        super().__init__()
        self.lin_in = nn.Linear(in_channels, width)
        self.blocks = nn.ModuleList(blocks)
        self.head = OutputHead(width, out_channels, outputs, last_activation)

    def forward(self, x, ops):
        x = self.lin_in(x)
        for block in self.blocks:
            x = block(x, ops)
        return self.head(x, ops)
