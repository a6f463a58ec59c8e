"""One training loop for every task: plain PyTorch, with torch's own DistributedDataParallel.

Why not Lightning (or Fabric, or Accelerate): what the loop needs (optimizer, schedule, checkpoints with
every random state, resume, DDP with a sampler over a list of meshes, curves) is a page of plain torch,
where each of those frameworks is a heavy dependency with its own checkpoint format and its own ideas about
batches (meshes of different sizes collated into block-diagonal operators are not a tensor batch). DDP from
``torch.distributed`` is the engine that scales; nothing home-made sits between it and the model.

:func:`train` runs ``config`` (:class:`~manifoldnet.tasks.config.Config`):

- **Data order.** Epoch ``e`` shuffles the training samples with a generator seeded by ``(seed, e)``;
  under DDP the order is padded to a multiple of the world size and process ``r`` takes every
  ``world``-th sample from ``r`` (as ``torch.utils.data.DistributedSampler``), in batches of
  ``train.batch_size`` meshes. Augmentation is seeded per sample by ``(seed, e, sample)``.
- **Each epoch** ends with the validation metrics (when there is a validation split; sharded and summed
  over processes), a line of figures, and (process 0 only) a checkpoint ``last.pt`` (and ``best.pt`` when
  the monitored metric improved), ``history.json``, ``curves.png`` and TensorBoard events when
  ``torch.utils.tensorboard`` can be imported. Losses and accuracies are summed over processes.
- **Resume** (``resume=True``) loads ``last.pt`` of the run folder: model, optimizer, scheduler, random
  states, epoch, best value, history; the next epoch is then exactly the one the interrupted run was in.
- **DDP**: under ``torchrun --nproc_per_node N`` (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` set), the
  process group uses gloo on CPU and nccl on CUDA (process ``r`` on ``cuda:LOCAL_RANK``). Only process 0
  writes files; the random states saved are process 0's.
- At the end the best checkpoint (the last one without a validation split) is evaluated on the test split:
  ``test_metrics.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..progress import progress_bar, show_progress
from .base import make_task
from .checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from .config import Config, ConfigError, config_to_dict, save_config

__all__ = ["Distributed", "RunResult", "epoch_order", "sample_seed", "shard", "train"]


@dataclass
class RunResult:
    """What :func:`train` returns: the run folder, per-epoch ``history``, ``best`` (value, epoch), the test
    metrics (None without a test split), the trained ``model`` (the last epoch's weights, or the best
    ones when a test split was evaluated), the ``task`` and its ``splits``."""

    out: Path
    model: object = None
    history: list = field(default_factory=list)
    best: tuple = (None, None)
    test: dict | None = None
    task: object = None
    splits: object = None


class Distributed:
    """The process group of a ``torchrun`` launch (or a single process when ``WORLD_SIZE`` is unset or 1)."""

    def __init__(self, device: str):
        import torch

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ConfigError(
                f"device {device!r} (config key 'train.device' or --device): use cpu, cuda or cuda:N"
            ) from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} (config key 'train.device'): this torch has no CUDA")
        if dev.type == "cuda" and self.world > 1:
            dev = torch.device("cuda", self.local_rank)
        if dev.type == "cuda" and dev.index is not None:
            torch.cuda.set_device(dev)
        self.device = dev
        self.active = self.world > 1
        if self.active and not torch.distributed.is_initialized():
            backend = "nccl" if dev.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend, rank=self.rank, world_size=self.world)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            import torch

            torch.distributed.barrier()

    def sum(self, totals: dict) -> dict:
        """Sums of ``totals`` (name -> number or tensor) over processes (float64 tensors)."""
        import torch

        out = {}
        for k in sorted(totals):
            t = torch.as_tensor(totals[k], dtype=torch.float64).clone()
            if self.active:
                t = t.to(self.device)
                torch.distributed.all_reduce(t)
            out[k] = t.cpu()
        return out

    def close(self) -> None:
        import torch

        if self.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The order of ``n`` training samples in ``epoch``: a permutation drawn from ``(seed, epoch)`` alone."""
    import torch

    g = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
    return torch.randperm(n, generator=g).tolist()


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of training sample ``index`` in ``epoch``."""
    return int(np.random.SeedSequence([seed, epoch, index, 1]).generate_state(1)[0])


def shard(order: list[int], rank: int, world: int) -> list[int]:
    """Process ``rank``'s share of ``order``: padded (by repeating from the start) to a multiple of
    ``world``, then every ``world``-th entry from ``rank`` (``DistributedSampler``'s rule)."""
    if world <= 1:
        return list(order)
    total = math.ceil(len(order) / world) * world
    padded = (order * math.ceil(total / max(len(order), 1)))[:total]
    return padded[rank:total:world]


def _optimizer(config: Config, params):
    import torch

    o = config.optim
    if o.name == "adam":
        return torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
    if o.name == "adamw":
        return torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    if o.name == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    raise ConfigError(f"unknown optimizer {o.name!r} (config key 'optim.name'); choose from adam, adamw, sgd")


def _scheduler(config: Config, opt):
    import torch

    s = config.schedule
    if s.name == "none":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    if s.name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(s.step_size, 1), gamma=s.gamma)
    if s.name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=max(config.train.epochs, 1), eta_min=s.min_lr
        )
    raise ConfigError(
        f"unknown schedule {s.name!r} (config key 'schedule.name'); choose from none, step, cosine"
    )


def _check(config: Config) -> None:
    t = config.train
    for key, value in (
        ("train.epochs", t.epochs),
        ("train.batch_size", t.batch_size),
        ("train.threads", t.threads),
    ):
        if value < 1:
            raise ConfigError(f"config key {key!r} must be >= 1, got {value}")
    if t.augment_rotation not in ("so3", "z", "none"):
        raise ConfigError(
            f"config key 'train.augment_rotation' must be so3, z or none, got {t.augment_rotation!r}"
        )
    if t.augment_scale and len(t.augment_scale) != 2:
        raise ConfigError(f"config key 'train.augment_scale' must be [lo, hi] or [], got {t.augment_scale}")


def _scalars(metrics: dict, prefix: str) -> dict:
    return {
        f"{prefix}{k}": v
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def write_curves(history: list, out: Path, monitor: str) -> None:
    """``history.json`` and ``curves.png`` (loss, accuracy / the monitored metric per epoch)."""
    (out / "history.json").write_text(json.dumps(history, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the PNG is optional; the JSON holds every figure
        return
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].plot(epochs, [h.get("train_loss") for h in history], label="train loss")
    if any("val_loss" in h for h in history):
        axes[0].plot(epochs, [h.get("val_loss") for h in history], label="val loss")
    axes[0].set_xlabel("epoch")
    axes[0].legend()
    for key, label in (("train_accuracy", "train accuracy"), (f"val_{monitor}", f"val {monitor}")):
        if any(key in h for h in history):
            axes[1].plot(epochs, [h.get(key, float("nan")) for h in history], label=label)
    axes[1].set_xlabel("epoch")
    if axes[1].get_legend_handles_labels()[0]:  # empty before the first validation of a task without accuracy
        axes[1].legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional: TensorBoard logs only when the package is installed
        return None
    return SummaryWriter(str(out / "tensorboard"))


def _better(value, best, mode: str) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return best is None or (value > best if mode == "max" else value < best)


def train(config: Config, resume: bool = False, log=None) -> RunResult:
    """Run ``config`` (module docstring); returns a :class:`RunResult` (on every process)."""
    import torch

    _check(config)
    t = config.train
    log = log or (lambda s: print(s, flush=True))
    dist = Distributed(t.device)
    say = log if dist.main else (lambda s: None)
    torch.set_num_threads(t.threads)
    out = Path(t.out)
    try:
        task = make_task(config)
        torch.manual_seed(t.seed)
        np.random.seed(t.seed % 2**32)  # noqa: NPY002 - seeds code that draws from the global state
        model = task.build_model()
        spec = task.operator_spec(model)
        opt = _optimizer(config, model.parameters())  # bad names fail here, before any bundle is computed
        sched = _scheduler(config, opt)
        last = out / "last.pt"
        if dist.main:
            if last.exists() and not resume:
                raise ConfigError(
                    f"run folder {out} already holds a checkpoint: pass --resume to continue it, "
                    "or choose another train.out"
                )
            if resume and not last.exists():
                raise FileNotFoundError(f"--resume: no checkpoint {last} to resume (config key 'train.out')")
            out.mkdir(parents=True, exist_ok=True)
            save_config(config, out / "config.yaml")
        # process 0 computes the missing bundles; the others then read them all from the cache
        say(
            f"{task.name}: reading data {config.data.name!r} and its operator bundles "
            f"({', '.join(spec.fields)}, k={spec.k}; missing ones computed by {config.operators.workers} "
            "worker(s) into the cache)"
        )
        if dist.main:
            splits = task.build(spec, progress=t.progress)
        dist.barrier()
        if not dist.main:
            splits = task.build(spec, progress=False)
        say(
            f"{task.name}: {len(splits.train)} train, {len(splits.val)} val, {len(splits.test)} test meshes; "
            f"model {config.model.name} ({sum(p.numel() for p in model.parameters())} parameters), "
            f"fields {', '.join(spec.fields)}, k={spec.k}; device {dist.device}, {dist.world} process(es)"
        )
        model.to(dist.device)
        start, best, best_epoch, history = 1, None, None, []
        if resume:
            state = load_checkpoint(last)  # on the CPU: the random states must stay there; the weights
            # and the optimizer's moments are copied to the model's device by load_state_dict
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            restore_rng(state["rng"])
            start, best, best_epoch, history = (
                state["epoch"] + 1,
                state["best"],
                state["best_epoch"],
                state["history"],
            )
            say(f"resumed from {last} at epoch {state['epoch']}")
        net = model
        if dist.active:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(
                model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None
            )
        writer = _tensorboard(out) if dist.main else None
        bars = dist.main and show_progress(t.progress)
        drawn = -math.inf
        val_shard = splits.val[dist.rank :: dist.world] if len(splits.val) >= dist.world else None
        for epoch in range(start, t.epochs + 1):
            t0 = time.perf_counter()
            model.train()
            mine = shard(epoch_order(len(splits.train), t.seed, epoch), dist.rank, dist.world)
            steps = [mine[i : i + t.batch_size] for i in range(0, len(mine), t.batch_size)]
            totals: dict = {}
            with progress_bar(len(steps), f"epoch {epoch}/{t.epochs}", bars, unit="step") as bar:
                for step, idx in enumerate(steps, 1):
                    seeds = [sample_seed(t.seed, epoch, i) for i in idx]
                    batch = task.collate([splits.train[i] for i in idx], dist.device, seeds)
                    loss, stats = task.loss(task.forward(net, batch), batch)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if config.optim.grad_clip > 0:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
                    opt.step()
                    for k, v in stats.items():
                        totals[k] = totals.get(k, 0.0) + float(v)
                    now = task.summarize(totals)
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4f}" for k, v in now.items()}, refresh=False)
                    if not bars and t.log_every and step % t.log_every == 0:
                        say(
                            f"epoch {epoch}/{t.epochs} step {step}/{len(steps)} "
                            + " ".join(f"{k} {v:.4f}" for k, v in now.items())
                        )
            sched.step()
            row = {"epoch": epoch, "lr": opt.param_groups[0]["lr"]}
            row.update(_scalars(task.summarize({k: float(v) for k, v in dist.sum(totals).items()}), "train_"))
            row["train_seconds"] = time.perf_counter() - t0
            if splits.val and epoch % t.eval_every == 0:
                metrics = _evaluate(task, model, splits.val, val_shard, dist)
                row.update(_scalars(metrics, "val_"))
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            value = row.get(f"val_{task.monitor}")
            improved = _better(value, best, task.monitor_mode)
            if improved:
                best, best_epoch = value, epoch
            say(_epoch_line(row, t.epochs, task.monitor, best, best_epoch))
            if dist.main:
                state = {
                    "config": config_to_dict(config),
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "rng": rng_state(),
                    "epoch": epoch,
                    "best": best,
                    "best_epoch": best_epoch,
                    "history": history,
                    "spec": spec.to_dict(),
                    "head": task.head(),
                    "data_order": {"seed": t.seed, "rule": "epoch_order(n, seed, epoch)"},
                }
                save_checkpoint(last, state)
                if improved:
                    save_checkpoint(out / "best.pt", state)
                if epoch == t.epochs or time.monotonic() - drawn > 30:  # the PNG at most every 30 s
                    write_curves(history, out, task.monitor)
                    drawn = time.monotonic()
                else:
                    (out / "history.json").write_text(json.dumps(history, indent=1))
                if writer is not None:
                    for k, v in row.items():
                        if k != "epoch":
                            writer.add_scalar(k, v, epoch)
                    writer.flush()
        result = RunResult(out, model, history, (best, best_epoch), task=task, splits=splits)
        if splits.test:
            if best_epoch is not None and (out / "best.pt").exists() and dist.main:
                model.load_state_dict(load_checkpoint(out / "best.pt")["model"])
            if dist.active:  # every process evaluates process 0's chosen weights
                for p in model.state_dict().values():
                    torch.distributed.broadcast(p, 0)
            test_shard = splits.test[dist.rank :: dist.world] if len(splits.test) >= dist.world else None
            result.test = _evaluate(task, model, splits.test, test_shard, dist)
            if dist.main:
                which = f"best epoch {best_epoch}" if best_epoch is not None else "last epoch"
                (out / "test_metrics.json").write_text(
                    json.dumps({"checkpoint": which, **result.test}, indent=1)
                )
                say(f"test ({which}): " + _figures(_scalars(result.test, "")))
        if writer is not None:
            writer.close()
        return result
    finally:
        dist.close()


def _evaluate(task, model, samples, mine, dist: Distributed) -> dict:
    """Metrics of ``samples``: sharded over processes (``mine``) and summed; when there are fewer samples
    than processes, process 0 evaluates them all and sends the metrics to the others."""
    if not dist.active:
        return task.evaluate(model, samples, dist.device)
    if mine is not None:
        return task.evaluate(model, mine, dist.device, reduce=dist.sum)
    import torch

    box = [task.evaluate(model, samples, dist.device) if dist.main else None]
    torch.distributed.broadcast_object_list(box, 0)
    return box[0]


def _figures(values: dict) -> str:
    return "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())


def _epoch_line(row: dict, epochs: int, monitor: str, best, best_epoch) -> str:
    parts = [f"epoch {row['epoch']}/{epochs}"]
    shown = {  # the figures; counts (val_elements, ...) stay in history.json
        k: v
        for k, v in row.items()
        if k.startswith(("train_", "val_")) and isinstance(v, float) and "seconds" not in k
    }
    parts.append(_figures(shown))
    if best is not None:
        parts.append(f"best val {monitor} {best:.4f} @ {best_epoch}")
    parts.append(f"lr {row['lr']:.2e}  {row['seconds']:.1f} s")
    return "  ".join(parts)
