"""Whole networks of the spectral family besides DiffusionNet: ``SpectralNet`` (SpectralConv blocks) and
``ChebNet`` (ChebConv blocks), built like DiffusionNet so the tasks can swap them by name.

Block: ``x + MLP([x, conv(x)])`` (residual, MLP ``2C -> C -> C`` with ReLU and dropout).
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import OperatorModule
from ..dropout import Dropout
from ..heads import BlockNetwork
from ..spectral import ChebConv, SpectralConv

__all__ = ["ChebNet", "ConvBlock", "SpectralNet"]


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


class _ConvNet(BlockNetwork):
    def __init__(
        self, in_channels, out_channels, width, n_blocks, dropout, outputs, last_activation, make_conv
    ):
        blocks = [ConvBlock(make_conv(), width, dropout) for _ in range(n_blocks)]
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)


class SpectralNet(_ConvNet):
    """``Linear(in, width)``, ``n_blocks`` residual :class:`SpectralConv` blocks, ``n_basis`` splines."""

    def __init__(
        self,
        in_channels,
        out_channels,
        width=128,
        n_blocks=4,
        n_basis=16,
        dropout=0.5,
        outputs="vertices",
        last_activation=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            width,
            n_blocks,
            dropout,
            outputs,
            last_activation,
            lambda: SpectralConv(width, width, n_basis=n_basis),
        )


class ChebNet(_ConvNet):
    """``Linear(in, width)``, ``n_blocks`` residual :class:`ChebConv` blocks of degree ``order``, a head."""

    def __init__(
        self,
        in_channels,
        out_channels,
        width=128,
        n_blocks=4,
        order=3,
        dropout=0.5,
        outputs="vertices",
        last_activation=None,
        lambda_max=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            width,
            n_blocks,
            dropout,
            outputs,
            last_activation,
            lambda: ChebConv(width, width, order=order, lambda_max=lambda_max),
        )
