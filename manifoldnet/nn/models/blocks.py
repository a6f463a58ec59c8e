"""The residual block the spectral and intrinsic networks share: ``x + MLP([x, conv(x)])`` (MLP
``2C -> C -> C`` with ReLU and dropout), and a stack of them around any C -> C convolution."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..base import OperatorModule
from ..dropout import Dropout

__all__ = ["ConvBlock", "conv_blocks"]


class ConvBlock(OperatorModule):
    """(V, C) -> (V, C): ``x + MLP([x, conv(x, ops)])`` for any ``conv`` mapping C -> C channels."""

    def __init__(self, conv: OperatorModule, width: int, dropout: float = 0.5):
        super().__init__()
        self.conv = conv
        self.mlp = nn.Sequential(
            nn.Linear(2 * width, width), nn.ReLU(), Dropout(dropout), nn.Linear(width, width)
        )

    def forward(self, x, ops):
        return x + self.mlp(torch.cat([x, self.conv(x, ops).to(x.dtype)], dim=-1))


def conv_blocks(make_conv: Callable[[], OperatorModule], width: int, n_blocks: int, dropout: float) -> list:
    """``n_blocks`` :class:`ConvBlock` s, each around a new ``make_conv()``: the blocks of a BlockNetwork."""
    return [ConvBlock(make_conv(), width, dropout) for _ in range(n_blocks)]
