"""``GEMNet``: a gauge-equivariant network of :class:`~manifoldnet.nn.gem.GemConv` residual blocks.

Scalar inputs enter as ``rho_0`` (``in_type`` may add ``rho_1`` tangent inputs, laid out as a
:class:`~manifoldnet.nn.field_types.FieldType`); the hidden features carry ``m`` copies of each order
``0 .. max_order`` (about ``width`` channels); the last convolution maps to scalars (gauge invariant), which
the usual :class:`~manifoldnet.nn.heads.OutputHead` reads, or, with ``outputs="vectors"``, to
``out_channels`` ``rho_1`` fields returned as world vectors (V, out_channels, 3) that the viewer draws.

Block: ``x + GemConv(act(x))`` with ``act`` the norm (exact) or regular (approximate) nonlinearity; with
``global_context=True`` each block's ``rho_0`` channels then add a map of their mesh's mean
(:class:`~manifoldnet.nn.context.GlobalContext`: a scalar stays a scalar, so the network stays exactly
equivariant; not in the published architecture).
"""

from __future__ import annotations

import torch
from torch import nn

from ..base import OperatorModule
from ..context import GlobalContext
from ..dropout import Dropout
from ..field_types import FieldType
from ..gem import GemConv, NormNonlinearity, RegularNonlinearity
from ..heads import OutputHead

__all__ = ["GEMNet", "GemBlock"]

_NONLINEARITIES = ("norm", "regular")


def _nonlinearity(kind: str, field_type: FieldType, n_samples: int):
    if kind == "norm":
        return NormNonlinearity(field_type)
    if kind == "regular":
        return RegularNonlinearity(field_type, n_samples=n_samples)
    raise ValueError(f"nonlinearity must be one of {list(_NONLINEARITIES)}, got {kind!r}")


class GemBlock(OperatorModule):
    """(V, C) -> (V, C) of one field type: ``x + conv(act(x))``, then with ``global_context`` a
    :class:`~manifoldnet.nn.context.GlobalContext` on the ``rho_0`` channels (the first ``m_0``)."""

    def __init__(self, field_type, nonlinearity="norm", n_samples=8, global_context=False, **conv_options):
        super().__init__()
        field_type = FieldType(field_type)
        self.act = _nonlinearity(nonlinearity, field_type, n_samples)
        self.conv = GemConv(field_type, field_type, **conv_options)
        self.n_scalars = field_type.multiplicities[0]
        self.context = GlobalContext(self.n_scalars) if global_context and self.n_scalars else None

    def forward(self, x, ops):
        x = x + self.conv(self.act(x, ops), ops)
        if self.context is None:
            return x
        m = self.n_scalars
        return torch.cat([self.context(x[:, :m], ops), x[:, m:]], dim=1)


class GEMNet(OperatorModule):
    """Gauge-equivariant mesh CNN (de Haan et al. 2021) with the library's model interface.

    Parameters
    ----------
    in_channels, out_channels : C_in (``in_type.size``), C_out.
    width : about the channels of the hidden features (80): ``FieldType([m] * (max_order + 1))`` with
        ``m = max(1, round(width / (2 max_order + 1)))`` copies of each order: ``m (2 max_order + 1)``
        channels.
    n_blocks : residual blocks (4).
    max_order : highest irrep order of the hidden features (2).
    band_limit, n_radial, neighbourhood : passed to every :class:`GemConv` (2, default, ``"edges"``).
    nonlinearity : ``"norm"`` (exactly equivariant) or ``"regular"`` (``n_samples`` angles).
    in_type : the input's :class:`FieldType` (default ``FieldType([in_channels])``: scalars).
    dropout : on the invariant features before the head (0.0).
    global_context : after each block, the ``rho_0`` channels add a map of their mesh's mean (False).
    outputs : ``"vertices"``, ``"faces"``, ``"global"`` (:class:`OutputHead`) or ``"vectors"`` (world
        vectors (V, out_channels, 3); needs the ``frames`` field).
    last_activation : as :class:`OutputHead` (not with ``"vectors"``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int = 80,
        n_blocks: int = 4,
        max_order: int = 2,
        band_limit: int = 2,
        n_radial: int | None = None,
        neighbourhood: str = "edges",
        nonlinearity: str = "norm",
        n_samples: int = 8,
        in_type=None,
        dropout: float = 0.0,
        outputs: str = "vertices",
        last_activation=None,
        global_context: bool = False,
    ):
        super().__init__()
        self.in_type = FieldType([in_channels]) if in_type is None else FieldType(in_type)
        if self.in_type.size != in_channels:
            raise ValueError(
                f"in_type {self.in_type} has {self.in_type.size} channels, in_channels={in_channels}"
            )
        if not isinstance(max_order, int) or max_order < 0:
            raise ValueError(f"max_order must be an integer >= 0, got {max_order!r}")
        copies = max(1, round(width / (2 * max_order + 1)))
        self.hidden_type = FieldType([copies] * (max_order + 1))
        conv = {"band_limit": band_limit, "n_radial": n_radial, "neighbourhood": neighbourhood}
        self.conv_in = GemConv(self.in_type, self.hidden_type, **conv)
        self.blocks = nn.ModuleList(
            GemBlock(self.hidden_type, nonlinearity, n_samples, global_context, **conv)
            for _ in range(n_blocks)
        )
        self.act = _nonlinearity(nonlinearity, self.hidden_type, n_samples)
        self.outputs = outputs
        if outputs == "vectors":
            if last_activation is not None:
                raise ValueError("outputs='vectors' returns world vectors: last_activation must be None")
            self.out_type = FieldType([0, out_channels])
            self.conv_out = GemConv(self.hidden_type, self.out_type, **conv)
            self.head = None
            self.fields = ("frames",)
        else:
            self.out_type = FieldType([self.hidden_type.size])
            self.conv_out = GemConv(self.hidden_type, self.out_type, **conv)
            self.dropout = Dropout(dropout)
            self.head = OutputHead(self.out_type.size, out_channels, outputs, last_activation)

    def features(self, x, ops):
        """The hidden features (V, hidden_type.size) after the last block."""
        x = self.conv_in(x, ops)
        for block in self.blocks:
            x = block(x, ops)
        return x

    def forward(self, x, ops):
        y = self.conv_out(self.act(self.features(x, ops), ops), ops)
        if self.head is None:
            return self.out_type.to_world(y, ops.frames)
        return self.head(self.dropout(nn.functional.relu(y)), ops)
