"""``manifoldnet eval CHECKPOINT DATA``: the metrics of a trained model, and its predictions as files.

DATA is a split of the run's own data (``train``, ``val``, ``test``), a dataset by name (``rna``,
``faust_5k``, ``generated``: its test split) or a folder (meshes in ``DATA/off`` or ``DATA`` itself, labels
in ``DATA/labels``). The checkpoint holds its resolved config, so the task, the model and the operators are
the ones it was trained with. Writes ``metrics.json`` and the prediction files (``predictions.json`` lists
them with the ``manifoldnet view`` command that shows each) into ``--out`` (default: beside the checkpoint,
``eval_<DATA>``), and prints the metrics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..tasks.base import make_task
from ..tasks.checkpoint import load_checkpoint
from ..tasks.config import config_from_dict, config_to_dict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="a checkpoint of manifoldnet train (last.pt, best.pt)"
    )
    parser.add_argument(
        "data", metavar="DATA", help="train | val | test | rna | faust_5k | generated | a folder"
    )
    parser.add_argument("--out", help="folder for metrics.json and the predictions")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: the run's train.device)")
    parser.add_argument("--no-predictions", action="store_true", help="metrics only")


def _data_config(config, data: str):
    """(data config overrides, split) for the DATA argument."""
    if data in ("train", "val", "test"):
        return {}, data
    if data in ("rna", "faust_5k", "generated"):
        return {"name": data, "val_fraction": 0.0, "limit": None}, "test"
    folder = Path(data)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"data folder not found: {folder} "
            "(DATA is train, val, test, rna, faust_5k, generated or a folder)"
        )
    meshes = "off" if (folder / "off").is_dir() else "."
    return {
        "name": "folder",
        "root": str(folder),
        "meshes": meshes,
        "labels": "labels" if (folder / "labels").is_dir() else None,
        "train_split": None,
        "test_split": None,
        "val_fraction": 0.0,
        "limit": None,
    }, "train"


def run(args: argparse.Namespace) -> int:
    import torch

    state = load_checkpoint(args.checkpoint)
    data, split = _data_config(state["config"], args.data)
    raw = config_to_dict(config_from_dict(state["config"]))
    raw["data"].update(data)
    if raw["task"] == "segmentation" and "head" in state:  # the trained classes, whatever DATA holds
        raw["data"]["n_classes"] = state["head"]["out_channels"]
    if args.device:
        raw["train"]["device"] = args.device
    config = config_from_dict(raw)
    torch.set_num_threads(config.train.threads)
    device = torch.device(config.train.device)
    task = make_task(config)
    model = task.build_model()
    model.load_state_dict(state["model"])
    model.to(device)
    spec = task.operator_spec(model)
    samples = task.build(spec)[split]
    if not samples:
        raise ValueError(f"{args.data}: no meshes in split {split!r} of this run's data")
    metrics = task.evaluate(model, samples, device)
    out = (
        Path(args.out)
        if args.out
        else Path(args.checkpoint).resolve().parent / f"eval_{Path(args.data).name}"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(
        json.dumps(
            {"checkpoint": str(args.checkpoint), "epoch": state.get("epoch"), "data": args.data, **metrics},
            indent=1,
        )
    )
    if not args.no_predictions:
        task.write_predictions(model, samples, out / "predictions", device)
    print(f"{task.name}, {len(samples)} meshes of {args.data} (checkpoint epoch {state.get('epoch')}):")
    for k, v in metrics.items():
        if isinstance(v, float):
            print(f"  {k:16s} {v:.4f}")
        elif isinstance(v, int):
            print(f"  {k:16s} {v}")
    for row in metrics.get("most_confused", []):
        print(
            f"  confused: {row['true']} -> {row['pred']}: {row['count']} "
            f"({row['share']:.1%} of {row['true']})"
        )
    print(f"wrote {out / 'metrics.json'}" + ("" if args.no_predictions else f" and {out / 'predictions'}/"))
    return 0
