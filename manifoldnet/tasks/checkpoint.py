"""Checkpoints: everything a resumed run needs to continue exactly where the checkpoint was written.

A checkpoint (``torch.save`` of a dict, written atomically: a killed writer leaves the previous file) holds
the resolved config, ``model``, ``optimizer`` and ``scheduler`` state dicts, the epoch it ends, the best
monitored value and its epoch, the history of per-epoch figures, and the random states: torch (CPU and
every CUDA device), numpy and Python's ``random``. The order of the training samples is not a random state
to save: each epoch draws it from a generator seeded by ``(seed, epoch)`` (and augmentation from ``(seed,
epoch, sample)``), so epoch ``e`` sees the same data whether the run was interrupted before it or not.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from ..atomic import atomic_write

__all__ = ["load_checkpoint", "restore_rng", "rng_state", "save_checkpoint"]


def rng_state() -> dict:
    """The random states of torch (CPU, CUDA), numpy and ``random``."""
    import torch

    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": np.random.get_state(),  # noqa: NPY002 - the global state is what code may draw from
        "python": random.getstate(),
    }


def restore_rng(state: dict) -> None:
    """Set the random states saved by :func:`rng_state`."""
    import torch

    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
    np.random.set_state(state["numpy"])  # noqa: NPY002 - see rng_state
    random.setstate(state["python"])


def save_checkpoint(path, state: dict) -> Path:
    """Write ``state`` (see the module docstring) to ``path`` atomically."""
    import torch

    return atomic_write(path, lambda fh: torch.save(state, fh))


def load_checkpoint(path, map_location="cpu") -> dict:
    """The dict :func:`save_checkpoint` wrote (``FileNotFoundError`` naming the path when absent;
    ``ValueError`` when it is not a checkpoint of ours)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise ValueError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise ValueError(f"{path}: not a manifoldnet checkpoint (no model state and config)")
    return state
