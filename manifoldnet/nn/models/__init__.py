"""Whole networks, found by name: ``build_model("diffusionnet", in_channels, out_channels, **options)``.

Every model takes ``(in_channels, out_channels)`` then keyword options (``width``, ``n_blocks``, ``dropout``,
``outputs``, ``last_activation``, and its family's own), and reports ``required_fields``.
"""

from __future__ import annotations

from ..diffusionnet import DiffusionNet
from .blocks import ConvBlock
from .gem_net import GEMNet
from .intrinsic_nets import GCNN, MoNet
from .spectral_nets import ChebNet, SpectralNet

__all__ = ["GCNN", "GEMNet", "MODELS", "ChebNet", "ConvBlock", "MoNet", "SpectralNet", "build_model"]

MODELS = {
    "diffusionnet": DiffusionNet,
    "spectral": SpectralNet,
    "chebnet": ChebNet,
    "gcnn": GCNN,
    "monet": MoNet,
    "gem": GEMNet,
}


def build_model(name: str, in_channels: int, out_channels: int, **options):
    """The model registered as ``name`` (see ``MODELS``); unknown names and options raise ValueError."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    try:
        return MODELS[name](in_channels, out_channels, **options)
    except TypeError as exc:
        raise ValueError(f"model {name!r}: {exc}") from None
