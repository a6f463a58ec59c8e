"""``manifoldnet train CONFIG [key=value ...]``: train a model for a task (segmentation, classification,
correspondence) with the one loop of :mod:`manifoldnet.tasks.loop`.

The same command runs under ``torchrun --nproc_per_node N`` (DistributedDataParallel). A bad config (an
unknown key, model or feature, a label file of the wrong length, a missing data folder) is one line and
exit code 2, like every error of the command line.
"""

from __future__ import annotations

import argparse

from ..tasks.config import load_config
from ..tasks.loop import train

INTERMIXED = True  # overrides may come after the options: train CONFIG --resume train.epochs=300


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="CONFIG", help="config file (.yaml, .yml or .toml)")
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, dotted keys (train.epochs=5)"
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in train.out from last.pt")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (overrides train.device)")
    parser.add_argument("--out", help="run folder (overrides train.out)")


def run(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.device:
        overrides.append(f"train.device={args.device}")
    if args.out:
        overrides.append(f"train.out={args.out}")
    config = load_config(args.config, overrides)
    train(config, resume=args.resume)
    return 0
