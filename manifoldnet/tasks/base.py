"""The task interface: how a job (segmentation, classification, correspondence) plugs into the one loop.

A task is a subclass of :class:`Task` decorated with :func:`register_task`, in its own module
(``manifoldnet/tasks/<name>.py``, listed in :data:`TASK_MODULES` so it is imported on first use). It says
what the data are and what the network must output; the loop (:mod:`manifoldnet.tasks.loop`) does the rest,
the same for every task (optimizer, schedule, epochs, checkpoints, resume, DDP, curves). The loop calls:

1. ``task = make_task(config)``: the class registered as ``config.task``; ``config.task_options`` is checked
   against the task's ``Options`` dataclass (unknown keys are a :class:`ConfigError`) into ``task.options``.
2. ``model = task.build_model()``: ``manifoldnet.nn.MODELS[config.model.name]`` with the input channels of
   the features and the head of :meth:`Task.head` (output channels, ``outputs=``, last activation).
3. ``spec = task.operator_spec(model)``: the bundle fields the model declares, plus the input features',
   plus :attr:`Task.extra_fields`; nothing else is computed.
4. ``splits = task.build(spec)``: :class:`Splits` ``(train, val, test)``, each a list of *samples* (dicts).
   The default reads ``config.data`` (:func:`manifoldnet.tasks.datasets.read_splits`), computes missing
   bundles in worker processes (:func:`manifoldnet.data.preprocess`), and turns each mesh into a sample with
   :meth:`Task.make_sample` (``name``, ``ops`` (an :class:`~manifoldnet.operators.OperatorBundle``), the
   task's targets). A correspondence task can override it to return pairs.
5. Each step: ``batch = task.collate(samples, device, augment_seeds)`` (a dict holding at least ``"x"`` and
   ``"ops"``), ``outputs = task.forward(model, batch)``, ``loss, stats = task.loss(outputs, batch)``.
   ``stats`` are *additive* totals (floats): the loop sums them over steps and processes, then
   :meth:`Task.summarize` turns the sums into the epoch's figures (``loss``, ``accuracy``, ...).
6. Each epoch and in ``manifoldnet eval``: ``task.evaluate(model, samples, device, reduce)``: sums
   :meth:`Task.eval_stats` (additive tensors, e.g. a confusion matrix) over batches, ``reduce`` sums them
   over processes, :meth:`Task.eval_metrics` makes the metrics dict. ``task.monitor`` names the metric that
   picks the best checkpoint (``monitor_mode`` ``"max"`` or ``"min"``).
7. ``task.write_predictions(model, samples, folder, device)``: files ``manifoldnet view`` reads.

Losses average per mesh (each mesh of a batch weighs the same) so that the mean over processes of the
per-process losses is the loss of the global batch: DDP then takes exactly the step one process would take
on the whole batch. Augmentation is drawn per sample from ``augment_seeds`` (the loop derives them from
``(seed, epoch, sample index)``), so it does not depend on how samples are sharded or on an interrupted run.
"""

from __future__ import annotations

import dataclasses
import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from ..data import collate
from ..data.transforms import FEATURE_KINDS, feature_fields, input_features, random_rotations
from ..operators import OperatorSpec
from .config import Config, ConfigError, config_from_dict
from .datasets import load_bundles, read_splits

__all__ = [
    "TASKS",
    "TASK_MODULES",
    "NoOptions",
    "Splits",
    "Task",
    "feature_channels",
    "get_task",
    "make_task",
    "register_task",
]

# task name -> the module that registers it (imported on first use)
TASK_MODULES = {
    "segmentation": "manifoldnet.tasks.segmentation",
    "classification": "manifoldnet.tasks.classification",
    "correspondence": "manifoldnet.tasks.correspondence",
}
TASKS: dict[str, type[Task]] = {}


def register_task(cls):
    """Class decorator: ``TASKS[cls.name] = cls``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    TASKS[cls.name] = cls
    return cls


def get_task(name: str) -> type[Task]:
    """The task class registered as ``name`` (its module imported on first use)."""
    if name not in TASKS and name in TASK_MODULES:
        try:
            importlib.import_module(TASK_MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name != TASK_MODULES[name]:
                raise
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r} (config key 'task'); choose from {sorted(TASK_MODULES)}")
    return TASKS[name]


def make_task(config: Config | dict) -> Task:
    """The task of ``config`` (``config.task``), with its options checked."""
    if isinstance(config, dict):
        config = config_from_dict(config)
    return get_task(config.task)(config)


@dataclass
class NoOptions:
    """A task without options of its own."""


@dataclass
class Splits:
    """Samples of the three splits (lists of dicts, see :class:`Task`); ``val`` may be empty."""

    train: list
    val: list
    test: list

    def __getitem__(self, name: str) -> list:
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {name!r}")
        return getattr(self, name)


def feature_channels(features, operators) -> int:
    """Input channels of the features by name (``xyz`` 3, ``normals`` 3, ``hks`` ``operators.n_hks``, ...)."""
    sizes = {"xyz": 3, "normals": 3, "hks": operators.n_hks, "wks": operators.n_wks}
    bad = [f for f in features if f not in FEATURE_KINDS]
    if bad:
        raise ConfigError(
            f"unknown feature {bad[0]!r} (config key 'features'); choose from {list(FEATURE_KINDS)}"
        )
    if not features:
        raise ConfigError("config key 'features' is empty: name at least one input feature")
    return sum(sizes[f] for f in features)


class Task(ABC):
    """Base of every task (module docstring). Subclasses set ``name`` and implement :meth:`head`,
    :meth:`make_sample`, :meth:`loss` and :meth:`write_predictions`; either :meth:`eval_stats` and
    :meth:`eval_metrics` (the default :meth:`evaluate` sums the first and reads the second) or their own
    :meth:`evaluate`."""

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    monitor: ClassVar[str] = "accuracy"
    monitor_mode: ClassVar[str] = "max"
    extra_fields: ClassVar[tuple[str, ...]] = ("mass",)

    def __init__(self, config: Config):
        self.config = config
        opts = dict(config.task_options or {})
        valid = [f.name for f in dataclasses.fields(self.Options)]
        for key in opts:
            if key not in valid:
                raise ConfigError(
                    f"unknown config key 'task_options.{key}' for task {self.name!r}; "
                    f"valid keys: {', '.join(valid) or '(none)'}"
                )
        self.options = self.Options(**opts)
        self.in_channels = feature_channels(config.features, config.operators)

    # ------------------------------------------------------------------------------------- model
    @abstractmethod
    def head(self) -> dict:
        """Keyword arguments of the model's head: ``out_channels``, ``outputs``, ``last_activation``."""

    def build_model(self):
        """The network ``config.model.name`` from :data:`manifoldnet.nn.MODELS`, with this task's head."""
        from ..nn.models import MODELS, build_model  # lazy: torch, as everywhere in tasks

        m = self.config.model
        if m.name not in MODELS:
            raise ConfigError(
                f"unknown model {m.name!r} (config key 'model.name'); choose from {sorted(MODELS)}"
            )
        head = self.head()
        options = {"width": m.width, "n_blocks": m.n_blocks, "dropout": m.dropout, **m.options}
        options.update(outputs=head["outputs"], last_activation=head["last_activation"])
        try:
            return build_model(m.name, self.in_channels, head["out_channels"], **options)
        except ValueError as exc:
            raise ConfigError(f"{exc} (config section 'model')") from None

    def operator_spec(self, model):
        """The :class:`~manifoldnet.operators.OperatorSpec` holding exactly what the model, the features
        and the task read."""
        o = self.config.operators
        fields = (
            set(model.required_fields) | set(feature_fields(self.config.features)) | set(self.extra_fields)
        )
        try:
            return OperatorSpec(
                fields=tuple(sorted(fields)),
                k=o.k,
                n_hks=o.n_hks,
                n_wks=o.n_wks,
                laplacian=o.laplacian,
                dtype=o.dtype,
                patch_k=o.patch_k,
                patch_radius=o.patch_radius,
                patch_rings=o.patch_rings,
                gauge=o.gauge,
            )
        except ValueError as exc:
            raise ConfigError(f"{exc} (config section 'operators')") from None

    # -------------------------------------------------------------------------------------- data
    def read_splits(self):
        """Raw samples ``(train, val, test)`` (:class:`~manifoldnet.tasks.datasets.RawSample`: ``name``,
        ``mesh``, ``labels``, ...), read once and kept (a task's :meth:`head` may need the labels)."""
        if getattr(self, "_raw_splits", None) is None:
            self._raw_splits = read_splits(self.config.data)
        return self._raw_splits

    def build(self, spec, progress: bool | None = None) -> Splits:
        """The three splits as samples with their operator bundles (module docstring, step 4)."""
        raw = self.read_splits()
        loaded = load_bundles(raw, spec, self.config.operators, progress=progress)
        self._raw_splits = None  # the meshes are not needed any more: samples hold their bundles
        return Splits(
            *[
                [self.make_sample(s, b) for s, b in zip(part, bundles, strict=True)]
                for part, bundles in loaded
            ]
        )

    @abstractmethod
    def make_sample(self, raw, bundle) -> dict:
        """One sample (a dict with ``name`` and ``ops``) from a raw dataset sample and its bundle."""

    # ----------------------------------------------------------------------------------- batches
    def collate(self, samples, device, augment_seeds=None) -> dict:
        """One batch: :func:`manifoldnet.data.collate` of the samples' arrays (``ops`` to ``device``), and
        ``"x"``, the input features; with ``augment_seeds`` (one int per sample) each sample's xyz/normals
        are rotated and its xyz scaled as ``config.train`` says, drawn from a generator seeded by its seed."""
        batch = collate(samples, device=device)
        batch["x"] = self.features(batch["ops"], augment_seeds)
        return batch

    def features(self, ops, augment_seeds=None):
        """(V, C) input features of a batch (see :meth:`collate`)."""
        import torch

        kinds = tuple(self.config.features)
        t = self.config.train
        R = s = None
        if augment_seeds is not None and any(k in ("xyz", "normals") for k in kinds):
            gens = [torch.Generator().manual_seed(int(seed)) for seed in augment_seeds]
            if t.augment_rotation != "none":
                axis = {"so3": None, "z": (0.0, 0.0, 1.0)}[t.augment_rotation]
                R = torch.cat([random_rotations(1, g, axis=axis) for g in gens])
            if t.augment_scale:
                lo, hi = t.augment_scale
                s = torch.cat(
                    [lo + (hi - lo) * torch.rand(1, generator=g, dtype=torch.float64) for g in gens]
                )
        return input_features(ops, kinds, rotations=R, scales=s)

    def forward(self, model, batch):
        """The model's outputs on a batch (default ``model(batch["x"], batch["ops"])``)."""
        return model(batch["x"], batch["ops"])

    @abstractmethod
    def loss(self, outputs, batch) -> tuple[Any, dict]:
        """``(loss, stats)``: a scalar tensor (mean over the batch's meshes) and additive totals."""

    def summarize(self, totals: dict) -> dict:
        """Epoch figures from summed ``stats``: ``loss`` = loss_sum / meshes, ``accuracy`` = correct /
        count when the task reports them."""
        out = {}
        if totals.get("meshes"):
            out["loss"] = totals["loss_sum"] / totals["meshes"]
        if totals.get("count"):
            out["accuracy"] = totals["correct"] / totals["count"]
        return out

    # -------------------------------------------------------------------------------- evaluation
    def eval_stats(self, outputs, batch) -> dict:
        """Additive tensors of one batch (summed over batches and processes by :meth:`evaluate`)."""
        raise NotImplementedError(
            f"{type(self).__name__} keeps the default evaluate(), which needs eval_stats(): "
            "define it, or override evaluate()"
        )

    def eval_metrics(self, totals: dict) -> dict:
        """The metrics (plain Python numbers, lists and dicts) from the summed :meth:`eval_stats`."""
        raise NotImplementedError(
            f"{type(self).__name__} keeps the default evaluate(), which needs eval_metrics(): "
            "define it, or override evaluate()"
        )

    def evaluate(self, model, samples, device, reduce=None, batch_size: int | None = None) -> dict:
        """Metrics of ``model`` on ``samples`` (module docstring, step 6); ``reduce(totals) -> totals`` sums
        over processes under DDP. ``model`` is put in eval mode and left there."""
        import torch

        model.eval()
        bs = batch_size or max(self.config.train.batch_size, 1)
        totals: dict = {}
        with torch.no_grad():
            for i in range(0, len(samples), bs):
                batch = self.collate(samples[i : i + bs], device)
                for k, v in self.eval_stats(self.forward(model, batch), batch).items():
                    v = torch.as_tensor(v, dtype=torch.float64, device=device)
                    totals[k] = totals[k] + v if k in totals else v
        if reduce is not None:
            totals = reduce(totals)
        return self.eval_metrics(totals)

    @abstractmethod
    def write_predictions(self, model, samples, folder, device) -> list:
        """Write one prediction file per sample into ``folder`` (files ``manifoldnet view`` reads); returns
        the paths."""
