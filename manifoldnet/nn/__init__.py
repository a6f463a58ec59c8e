"""PyTorch side: layers, models and solvers that run on the device of their inputs (never reads files).

Every layer follows one convention: ``forward(x, ops)`` with ``x`` (V, C) over all vertices of a batch and
``ops`` a :class:`~manifoldnet.operators.TorchOperators`; ``model.required_fields`` names the bundle fields
to compute. Pure functions live in :mod:`manifoldnet.nn.functional`.
"""

from __future__ import annotations

from . import functional
from .base import OperatorModule
from .context import GlobalContext
from .diffusionnet import DiffusionNet, DiffusionNetBlock, SpatialGradientFeatures
from .field_types import FieldType
from .gem import GemConv, NormNonlinearity, RegularNonlinearity
from .heads import BlockNetwork, OutputHead
from .heat_method import TorchHeatMethod
from .intrinsic import GeodesicConv, MoNetConv
from .models import GCNN, MODELS, GEMNet, MoNet, build_model
from .spectral import ChebConv, LearnedDiffusion, SpectralConv

__all__ = [
    "MODELS",
    "BlockNetwork",
    "ChebConv",
    "DiffusionNet",
    "DiffusionNetBlock",
    "FieldType",
    "GCNN",
    "GEMNet",
    "GemConv",
    "GeodesicConv",
    "GlobalContext",
    "LearnedDiffusion",
    "MoNet",
    "MoNetConv",
    "NormNonlinearity",
    "OperatorModule",
    "OutputHead",
    "RegularNonlinearity",
    "SpatialGradientFeatures",
    "SpectralConv",
    "TorchHeatMethod",
    "build_model",
    "functional",
]
