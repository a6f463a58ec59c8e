"""Training and evaluation: the jobs a user runs (segmentation, classification, correspondence) on top of
the layers, with one loop for all of them (``manifoldnet train`` / ``manifoldnet eval``).

- :mod:`~manifoldnet.tasks.config`: the typed config (YAML or TOML file + ``key=value`` overrides);
- :mod:`~manifoldnet.tasks.base`: the :class:`Task` interface and the ``TASKS`` registry (how tasks plug in);
- :mod:`~manifoldnet.tasks.datasets`: the splits named by the config and their cached operator bundles.
"""

from __future__ import annotations

from .base import (
    TASK_MODULES,
    TASKS,
    NoOptions,
    Splits,
    Task,
    feature_channels,
    get_task,
    make_task,
    register_task,
)
from .config import (
    Config,
    ConfigError,
    config_from_dict,
    load_config,
    parse_overrides,
    resolve_config,
    save_config,
)
from .datasets import RawSample, load_bundles, read_splits

__all__ = [
    "TASKS",
    "TASK_MODULES",
    "Config",
    "ConfigError",
    "NoOptions",
    "RawSample",
    "Splits",
    "Task",
    "config_from_dict",
    "feature_channels",
    "get_task",
    "load_bundles",
    "load_config",
    "make_task",
    "parse_overrides",
    "read_splits",
    "register_task",
    "resolve_config",
    "save_config",
]
