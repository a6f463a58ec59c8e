"""Whole networks of the intrinsic (patch) family: ``GCNN`` (GeodesicConv blocks) and ``MoNet`` (MoNetConv
blocks), built like DiffusionNet and the spectral networks so the tasks can swap them by name.

Block: ``x + MLP([x, conv(x)])`` (:class:`~manifoldnet.nn.models.blocks.ConvBlock`); with
``global_context=True`` each block then adds a map of its mesh's mean feature
(:class:`~manifoldnet.nn.context.GlobalContext`, not in the published architectures: a few one-ring layers
see a few rings, and part segmentation often needs the whole shape; it reads ``mass``). Fields: the
``logmap`` field for ``neighbourhood="one_ring"``, the ``patches`` field (with ``OperatorSpec(patch_k=...)``,
``patch_radius=...`` or ``patch_rings=...``) for ``"patches"``; ``required_fields`` says which.
"""

from __future__ import annotations

from ..heads import BlockNetwork
from ..intrinsic import GeodesicConv, MoNetConv
from .blocks import conv_blocks

__all__ = ["GCNN", "MoNet"]


class GCNN(BlockNetwork):
    """``Linear(in, width)``, ``n_blocks`` residual :class:`~manifoldnet.nn.GeodesicConv` blocks
    (``n_radial`` x ``n_angular`` soft polar bins, angular max pooling: gauge-invariant), a head;
    ``global_context`` adds a :class:`~manifoldnet.nn.context.GlobalContext` after each block."""

    def __init__(
        self,
        in_channels,
        out_channels,
        width=64,
        n_blocks=4,
        n_radial=2,
        n_angular=8,
        neighbourhood="one_ring",
        radius=None,
        dropout=0.5,
        outputs="vertices",
        last_activation=None,
        global_context=False,
    ):
        make_conv = lambda: GeodesicConv(width, width, n_radial, n_angular, neighbourhood, radius)
        blocks = conv_blocks(make_conv, width, n_blocks, dropout, global_context)
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)


class MoNet(BlockNetwork):
    """``Linear(in, width)``, ``n_blocks`` residual :class:`~manifoldnet.nn.MoNetConv` blocks (``n_kernels``
    learned Gaussian kernels, ``orientation="gauge"`` or ``"pooled"`` over ``n_rotations``), a head;
    ``global_context`` adds a :class:`~manifoldnet.nn.context.GlobalContext` after each block."""

    def __init__(
        self,
        in_channels,
        out_channels,
        width=64,
        n_blocks=4,
        n_kernels=8,
        orientation="gauge",
        n_rotations=8,
        neighbourhood="one_ring",
        radius=None,
        dropout=0.5,
        outputs="vertices",
        last_activation=None,
        global_context=False,
    ):
        conv_options = (n_kernels, orientation, n_rotations, neighbourhood, radius)
        make_conv = lambda: MoNetConv(width, width, *conv_options)
        blocks = conv_blocks(make_conv, width, n_blocks, dropout, global_context)
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)
