"""Whole networks of the spectral family besides DiffusionNet: ``SpectralNet`` (SpectralConv blocks) and
``ChebNet`` (ChebConv blocks), built like DiffusionNet so the tasks can swap them by name.

Block: ``x + MLP([x, conv(x)])`` (:class:`~manifoldnet.nn.models.blocks.ConvBlock`).
"""

from __future__ import annotations

from ..heads import BlockNetwork
from ..spectral import ChebConv, SpectralConv
from .blocks import conv_blocks

__all__ = ["ChebNet", "SpectralNet"]


class SpectralNet(BlockNetwork):
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
        blocks = conv_blocks(lambda: SpectralConv(width, width, n_basis=n_basis), width, n_blocks, dropout)
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)


class ChebNet(BlockNetwork):
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
        make_conv = lambda: ChebConv(width, width, order=order, lambda_max=lambda_max)
        blocks = conv_blocks(make_conv, width, n_blocks, dropout)
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)
