"""DiffusionNet (Sharp, Attaiki, Crane, Ovsjanikov 2022): learned diffusion, spatial gradient features and a
per-vertex MLP in residual blocks.

Block: ``x_d = diffuse(x)`` (one learned time per channel), ``g = tanh(Re(conj(grad x_d) * A grad x_d))``
(rotation-invariant gradient features), ``x + MLP([x, x_d, g])``. The reference configuration is width 128,
4 blocks, MLP hidden sizes (128, 128), dropout 0.5, spectral diffusion with 128 eigenpairs.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from . import functional as F
from .base import OperatorModule
from .dropout import Dropout
from .heads import BlockNetwork
from .spectral import LearnedDiffusion

__all__ = ["DiffusionNet", "DiffusionNetBlock", "SpatialGradientFeatures"]


class SpatialGradientFeatures(OperatorModule):
    """(V, C) -> (V, C): ``tanh(Re(conj(g) * (A g)))`` with ``g`` the tangent gradient of each channel and
    ``A`` a learned complex (C, C) matrix (real only when ``with_rotations=False``). Invariant to the choice
    of gauge at every vertex (a rotation of g by ``exp(1j a)`` cancels in ``conj(g) A g``)."""

    fields = ("gradient",)

    def __init__(self, channels: int, with_rotations: bool = True):
        super().__init__()
        self.channels, self.with_rotations = channels, with_rotations
        bound = 1.0 / math.sqrt(channels)
        self.weight_re = nn.Parameter(_uniform(channels, bound))
        self.weight_im = nn.Parameter(_uniform(channels, bound)) if with_rotations else None

    def forward(self, x, ops):
        w_im = self.weight_im if self.weight_im is not None else self.weight_re.new_zeros(())
        return F.gradient_features(x, ops, self.weight_re, w_im.expand_as(self.weight_re))


def _uniform(n: int, bound: float):
    """(n, n) uniform in [-bound, bound] (nn.Linear's default initialization)."""
    return torch.empty(n, n).uniform_(-bound, bound)


def _mlp(sizes, dropout: float) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLU between them and dropout before every layer but the first."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        if dropout > 0 and i > 0:
            layers.append(Dropout(dropout))
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DiffusionNetBlock(OperatorModule):
    """One DiffusionNet block, (V, C) -> (V, C): ``x + MLP([x, d, gradient_features(d)])``, d = diffuse(x)."""

    def __init__(
        self,
        width: int,
        mlp_hidden=None,
        dropout: float = 0.5,
        diffusion: str = "spectral",
        with_gradient_features: bool = True,
        with_gradient_rotations: bool = True,
    ):
        super().__init__()
        hidden = tuple(mlp_hidden) if mlp_hidden is not None else (width, width)
        self.diffusion = LearnedDiffusion(width, method=diffusion)
        self.gradient_features = (
            SpatialGradientFeatures(width, with_gradient_rotations) if with_gradient_features else None
        )
        n_in = (3 if with_gradient_features else 2) * width
        self.mlp = _mlp((n_in, *hidden, width), dropout)

    def forward(self, x, ops):
        xd = self.diffusion(x, ops)
        parts = [x, xd.to(x.dtype)]
        if self.gradient_features is not None:
            parts.append(self.gradient_features(xd, ops).to(x.dtype))
        return x + self.mlp(torch.cat(parts, dim=-1))


class DiffusionNet(BlockNetwork):
    """DiffusionNet: ``Linear(in, width)``, ``n_blocks`` :class:`DiffusionNetBlock`, an :class:`OutputHead`.

    Parameters
    ----------
    in_channels, out_channels : C_in, C_out.
    width : channels inside the blocks (128).
    n_blocks : number of blocks (4).
    diffusion : ``"spectral"`` (needs the eigenbasis) or ``"implicit"`` (sparse solves; any mesh size).
    outputs : ``"vertices"``, ``"faces"`` or ``"global"`` (see :class:`OutputHead`).
    dropout : in the blocks' MLPs (0.5).
    last_activation : None, ``"log_softmax"``, ``"softmax"``, ``"normalize"`` or a callable.
    mlp_hidden : hidden sizes of each block's MLP (default ``(width, width)``).
    with_gradient_features, with_gradient_rotations : DiffusionNet's ablation switches.

    ``forward(x, ops)``: x (V, C_in) -> (V | F | B, C_out). ``required_fields`` lists the bundle fields.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 128,
        n_blocks: int = 4,
        diffusion: str = "spectral",
        outputs: str = "vertices",
        dropout: float = 0.5,
        last_activation=None,
        mlp_hidden=None,
        with_gradient_features: bool = True,
        with_gradient_rotations: bool = True,
    ):
        blocks = [
            DiffusionNetBlock(
                width, mlp_hidden, dropout, diffusion, with_gradient_features, with_gradient_rotations
            )
            for _ in range(n_blocks)
        ]
        super().__init__(in_channels, out_channels, width, blocks, outputs, last_activation)
