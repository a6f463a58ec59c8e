"""Configs and subprocess helpers shared by the tests of manifoldnet.tasks (imported, not a conftest)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def small_config(tmp_path, **sections) -> dict:
    """A config dict for a seconds-long run on 12 generated shapes (8 train, 4 test) of ~250 vertices;
    ``sections`` update the config's sections (``train={"epochs": 3}``)."""
    cfg = {
        "task": "segmentation",
        "features": ["xyz", "hks"],
        "data": {"name": "generated", "n_per_family": 3, "n_verts": [200, 260]},
        "model": {"name": "diffusionnet", "width": 16, "n_blocks": 1, "dropout": 0.5},
        "operators": {"k": 16, "n_hks": 8, "workers": 1, "cache": str(tmp_path / "cache")},
        "optim": {"name": "adam", "lr": 0.01},
        "train": {"epochs": 2, "batch_size": 2, "seed": 0, "threads": 1, "out": str(tmp_path / "run")},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


def write_config(cfg: dict, path) -> Path:
    path = Path(path)
    path.write_text(yaml.safe_dump(cfg))
    return path


def cli_env(**extra) -> dict:
    """The environment of a ``manifoldnet`` subprocess: one thread, the project importable."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def cli(*args) -> list[str]:
    """The command line running ``manifoldnet ARGS`` with this interpreter."""
    return [sys.executable, "-m", "manifoldnet.cli", *map(str, args)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
