"""The training configuration: a tree of dataclasses, read from YAML or TOML, with ``key=value`` overrides.

A config file holds the sections below (every key optional; the defaults are the dataclasses' own)::

    task: segmentation            # a name in manifoldnet.tasks.TASKS
    features: [hks]               # input features by name (manifoldnet.data.input_features)
    data: {name: rna, val_fraction: 0.15}
    model: {name: diffusionnet, width: 128, n_blocks: 4, dropout: 0.5}
    operators: {k: 128, workers: 2}
    optim: {name: adam, lr: 0.001}
    schedule: {name: step, step_size: 50, gamma: 0.5}
    train: {epochs: 200, batch_size: 1, seed: 0, device: cpu}
    task_options: {}              # the task's own options (its ``Options`` dataclass)

Overrides use dotted keys and are parsed by the type of the field they set (``train.epochs=5``,
``model.dropout=0``, ``features=[xyz,normals]`` or ``features=xyz,normals``, ``data.root=null``). An unknown
key, in a file or an override, is a :class:`ConfigError` (a ``ValueError``) naming the key and the valid ones;
so is a value of the wrong type. ``model.options`` (keyword options of the model family, checked when the
model is built) and ``task_options`` (checked against the task's ``Options`` when the task is made) are the
only open sections.

:func:`save_config` writes the resolved config (every key, defaults included) as YAML; :func:`load_config`
reads it back to the same tree.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write

__all__ = [
    "Config",
    "ConfigError",
    "DataConfig",
    "ModelConfig",
    "OperatorsConfig",
    "OptimConfig",
    "ScheduleConfig",
    "TrainConfig",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_overrides",
    "resolve_config",
    "save_config",
]


class ConfigError(ValueError):
    """A config that cannot be used: unknown key, wrong type, bad value. The message names the key."""


@dataclass
class DataConfig:
    """Where the meshes come from.

    name : ``"generated"`` (:func:`manifoldnet.data.generated_benchmark`, nothing to download), ``"rna"``,
        ``"faust_5k"`` (read under ``root`` or the data root, :func:`manifoldnet.paths.data_root`), or
        ``"folder"``: meshes in ``root/meshes`` with labels in ``root/labels`` and the split files
        ``root/train_split`` / ``root/test_split`` (one mesh name per line; no split file: all meshes).
    val_fraction : share of the training meshes held out for validation (model selection), drawn with
        ``split_seed``; the test split is never used to choose anything.
    limit : use only the first ``limit`` meshes of each split (smoke runs); None: all.
    seed, n_per_family, n_verts, train_fraction : the generated benchmark's seed, shapes per family, vertex
        range and the share of each family in its training split (the rest is its test split).
    """

    name: str = "generated"
    root: str | None = None
    meshes: str = "off"
    labels: str | None = "labels"
    label_kind: str = "auto"
    label_offset: int = 0
    n_classes: int | None = None
    train_split: str | None = "train.txt"
    test_split: str | None = "test.txt"
    val_fraction: float = 0.0
    split_seed: int = 0
    limit: int | None = None
    seed: int = 0
    n_per_family: int = 75
    n_verts: list[int] = field(default_factory=lambda: [500, 1200])
    train_fraction: float = 0.8


@dataclass
class ModelConfig:
    """The network by name (:data:`manifoldnet.nn.MODELS`); ``options`` go to its constructor as keywords."""

    name: str = "diffusionnet"
    width: int = 128
    n_blocks: int = 4
    dropout: float = 0.5
    options: dict = field(default_factory=dict)


@dataclass
class OperatorsConfig:
    """Operator bundles (the fields come from the model and the features). ``normalize``: each mesh is
    moved to its area-weighted centroid and scaled before its operators are built: ``"area"`` (total area
    1, :func:`manifoldnet.data.center_and_scale`), ``"radius"`` (farthest vertex at distance 1, the
    reference DiffusionNet's convention) or ``"none"``. ``cache``: folder (None: the default cache,
    ``$MANIFOLDNET_CACHE``); ``workers``: processes that compute missing bundles. ``patch_k`` /
    ``patch_radius`` / ``patch_rings``: geodesic patches (the k nearest, within a radius, within n edges),
    for a model that reads the ``patches`` field (exactly one). ``gauge``: the vertex frames that orient
    log maps, patches and gradients (``"intrinsic"``, ``"world"``, ``"principal"``:
    :func:`manifoldnet.geometry.vertex_frames`): a gauge-dependent layer (MoNet, GCNN without pooling)
    matches features across shapes only where the gauge is consistent across them, e.g. ``"world"`` on
    aligned shapes."""

    k: int = 128
    n_hks: int = 16
    n_wks: int = 16
    laplacian: str = "cotan"
    dtype: str = "float32"
    normalize: str = "area"
    patch_k: int | None = None
    patch_radius: float | None = None
    patch_rings: int | None = None
    gauge: str = "intrinsic"
    cache: str | None = None
    workers: int = 2


@dataclass
class OptimConfig:
    """``name``: ``"adam"``, ``"adamw"`` or ``"sgd"``; ``grad_clip`` (max gradient norm) 0 = none."""

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    grad_clip: float = 0.0


@dataclass
class ScheduleConfig:
    """Learning-rate schedule, stepped once per epoch: ``"none"``, ``"step"`` (times ``gamma`` every
    ``step_size`` epochs) or ``"cosine"`` (to ``min_lr`` at the last epoch)."""

    name: str = "step"
    step_size: int = 50
    gamma: float = 0.5
    min_lr: float = 0.0


@dataclass
class TrainConfig:
    """The loop. ``batch_size``: meshes per step and per process (under torchrun the global batch is
    ``batch_size x world size``). ``augment_rotation``: ``"so3"``, ``"z"`` or ``"none"`` (xyz and normal
    features only); ``augment_scale``: ``[lo, hi]`` or empty. ``log_every``: a log line every N steps when
    no progress bar is drawn (0: per epoch only). ``out``: run folder (checkpoints, curves, config)."""

    epochs: int = 100
    batch_size: int = 1
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    augment_rotation: str = "so3"
    augment_scale: list[float] = field(default_factory=lambda: [0.9, 1.1])
    eval_every: int = 1
    log_every: int = 0
    progress: bool | None = None
    out: str = "runs/run"


@dataclass
class Config:
    """The whole run (module docstring)."""

    task: str = "segmentation"
    features: list[str] = field(default_factory=lambda: ["hks"])
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    operators: OperatorsConfig = field(default_factory=OperatorsConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    task_options: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- typing
def _unwrap_optional(tp) -> tuple[Any, bool]:
    """``(inner type, optional)`` for ``X | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _type_name(tp) -> str:
    inner, optional = _unwrap_optional(tp)
    origin = typing.get_origin(inner)
    name = (
        f"list of {_type_name(typing.get_args(inner)[0])}"
        if origin is list
        else getattr(inner, "__name__", str(inner))
    )
    return f"{name} or null" if optional else name


def _coerce(value, tp, key: str):
    """``value`` (from YAML/TOML, or an override already parsed) as type ``tp``; ConfigError otherwise."""
    inner, optional = _unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config key {key!r} must be {_type_name(tp)}, got null")
    origin = typing.get_origin(inner)
    if origin is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {key!r} must be {_type_name(tp)}, got {value!r}")
        (item,) = typing.get_args(inner)
        return [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if inner is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key!r} must be a mapping, got {value!r}")
        return dict(value)
    if inner is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
    elif inner is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif inner is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 3e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif inner is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"config key {key!r} must be {_type_name(tp)}, got {value!r}")


def _hints(cls) -> dict:
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def _unknown(key: str, section: str, valid) -> ConfigError:
    where = f"in {section!r}" if section else "at the top level"
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(valid), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown config key {key!r}{hint}; valid keys {where}: {', '.join(valid)}")


def _build(cls, data, prefix: str = ""):
    if not isinstance(data, dict):
        raise ConfigError(
            f"config section {prefix.rstrip('.') or 'top level'!r} must be a mapping, got {data!r}"
        )
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in hints:
            raise _unknown(full, prefix.rstrip("."), names)
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value if value is not None else {}, f"{full}.")
        else:
            kwargs[key] = _coerce(value, tp, full)
    return cls(**kwargs)


def config_from_dict(data: dict) -> Config:
    """A :class:`Config` from nested dicts (unknown keys and wrong types raise :class:`ConfigError`)."""
    return _build(Config, data or {})


def config_to_dict(config: Config) -> dict:
    """Nested plain dicts (every key), the form :func:`save_config` writes."""
    return dataclasses.asdict(config)


# ------------------------------------------------------------------------------------------ files
def _read_file(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    suffix = path.suffix.lower()
    text = path.read_text()
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config file holds a mapping of sections, got {type(data).__name__}")
        return data
    raise ConfigError(f"{path}: config files are .yaml, .yml or .toml, got {suffix or 'no suffix'!r}")


def parse_overrides(items) -> dict:
    """``["train.epochs=5", "features=[xyz]"]`` -> nested dict; values parsed as YAML scalars or lists
    (``5`` int, ``1e-3`` float, ``true``, ``null``, ``[a, b]``) then typed by the field they set."""
    import yaml

    out: dict = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value (e.g. train.epochs=5)")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        if (
            isinstance(value, float)
            and not isinstance(value, bool)
            and text.strip().lower() in ("nan", ".nan")
        ):
            value = text
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(
                    f"override {item!r} sets inside {p!r}, which another override set to a value"
                )
        node[parts[-1]] = value
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path=None, overrides=()) -> Config:
    """The config of file ``path`` (YAML or TOML; None: defaults only) with ``key=value`` ``overrides``."""
    data = _read_file(Path(path)) if path is not None else {}
    # type-check the file on its own first, so an error names the file's key before any override's
    config_from_dict(data)
    return config_from_dict(_merge(data, parse_overrides(overrides)))


def resolve_config(config: Config | dict | str | Path | None = None, overrides=()) -> Config:
    """A :class:`Config` from a Config, a dict, a file path or None (defaults), with overrides applied."""
    if isinstance(config, Config):
        return config_from_dict(_merge(config_to_dict(config), parse_overrides(overrides)))
    if isinstance(config, dict):
        config_from_dict(config)
        return config_from_dict(_merge(config, parse_overrides(overrides)))
    return load_config(config, overrides)


def save_config(config: Config, path) -> Path:
    """Write the resolved ``config`` (every key) as YAML at ``path`` (atomically); returns the path."""
    import yaml

    text = yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=None)
    return atomic_write(path, lambda fh: fh.write(text.encode()))
