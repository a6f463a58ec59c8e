"""The residual block the spectral and intrinsic networks share: ``x + MLP([x, conv(x)])`` (MLP
``2C -> C -> C`` with ReLU and dropout), optionally followed by a
:class:`~manifoldnet.nn.context.GlobalContext`, and a stack of them around any C -> C convolution."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..base import OperatorModule
from ..context import GlobalContext
from ..dropout import Dropout

__all__ = ["ConvBlock", "conv_blocks"]


class ConvBlock(OperatorModule):
    """(V, C) -> (V, C): ``x + MLP([x, conv(x, ops)])`` for any ``conv`` mapping C -> C channels, then, with
    ``global_context``, :class:`~manifoldnet.nn.context.GlobalContext` (each vertex adds a map of its mesh's
    mean feature; reads ``mass``)."""

    def __init__(self, conv: OperatorModule, width: int, dropout: float = 0.5, global_context: bool = False):
        super().__init__()
        self.conv = conv
        self.mlp = nn.Sequential(
            nn.Linear(2 * width, width), nn.ReLU(), Dropout(dropout), nn.Linear(width, width)
        )
        self.context = GlobalContext(width) if global_context else None

    def forward(self, x, ops):
        x = x + self.mlp(torch.cat([x, self.conv(x, ops).to(x.dtype)], dim=-1))
        return x if self.context is None else self.context(x, ops)


def conv_blocks(
    make_conv: Callable[[], OperatorModule],
    width: int,
    n_blocks: int,
    dropout: float,
    global_context: bool = False,
) -> list:
    """``n_blocks`` :class:`ConvBlock` s, each around a new ``make_conv()``: the blocks of a BlockNetwork."""
    return [ConvBlock(make_conv(), width, dropout, global_context) for _ in range(n_blocks)]
