"""Part segmentation on the generated benchmark: any model of ``manifoldnet.nn.MODELS`` (DiffusionNet, GCNN,
MoNet, ...) or a per-vertex MLP, under a CPU budget.

The generated benchmark (``manifoldnet.data.generated_benchmark``: 4 families, 75 shapes each, 500-1200
vertices, 21 part classes) has exact labels; its test split holds shapes in poses and triangulations never
trained on. Every model sees the same 16 HKS input channels (intrinsic: no rotation augmentation needed) and
trains with Adam (``--lr``, default 1e-3; ``--schedule step`` halves it every 40 epochs, ``--schedule cosine``
anneals it to zero over the CPU budget, step by step) on batches of 8 meshes, until ``--budget``
CPU seconds of training (``time.process_time``, operator precompute not included: it is reported on its own
line) or ``--epochs``. Each model's operators hold the fields it reads (``model.required_fields``), HKS and
the mass; ``--patch-k`` sizes the geodesic patches of models built with ``neighbourhood="patches"`` and
``--gauge`` sets the frames of the log maps. ``--options`` passes constructor options per model (JSON);
``--validation F`` holds out a fraction F of the training shapes and reports on them instead of the test
split (for choosing options without looking at the test split).

Reported: per-vertex test accuracy (plain and area-weighted) after each epoch, the CPU seconds spent, and the
best epoch within the budget; curves go to ``--out`` ``.json`` and ``.png``.

Run (1 thread, under the shared benchmark lock)::

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/train_generated.py --budget 300 \\
        > benchmarks/results/train_generated.txt 2>&1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import torch

from manifoldnet.data import collate_operators, feature_fields, generated_benchmark, input_features
from manifoldnet.data.generated import N_CLASSES
from manifoldnet.nn import MODELS, build_model
from manifoldnet.operators import OperatorCache, OperatorSpec

RESULTS = Path(__file__).resolve().parent / "results"


class PerVertexMLP(torch.nn.Module):
    """The baseline: the same input features, no convolution (each vertex on its own)."""

    def __init__(self, c_in, c_out, width):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(c_in, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.5),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, c_out),
        )

    def forward(self, x, ops):
        return torch.log_softmax(self.net(x), dim=-1)


def load_split(bench, spec, cache, split):
    """[(TorchOperators, labels, areas)] for the shapes of ``split`` (bundles from the cache)."""
    out = []
    for i in bench.indices(split):
        s = bench[i]
        b = cache.get(s.mesh, spec)
        out.append((b, torch.from_numpy(np.asarray(s.global_labels, dtype=np.int64))))
    return out


def evaluate(model, items, kinds):
    model.eval()
    correct = total = 0
    area_ok = area = 0.0
    with torch.no_grad():
        for i in range(0, len(items), 16):
            chunk = items[i : i + 16]
            ops = collate_operators([b for b, _ in chunk])
            y = torch.cat([lab for _, lab in chunk])
            pred = model(input_features(ops, kinds), ops).argmax(1)
            ok = (pred == y).double()
            correct += float(ok.sum())
            total += y.numel()
            area_ok += float((ok * ops.mass.double()).sum())
            area += float(ops.mass.double().sum())
    return correct / total, area_ok / area


def train(name, model, train_items, test_items, kinds, args, log):
    gen = torch.Generator().manual_seed(args.seed)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=40, gamma=0.5) if args.schedule == "step" else None
    curve = []
    cpu0 = time.process_time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_items), generator=gen).tolist()
        losses = []
        for i in range(0, len(order), args.batch):
            chunk = [train_items[j] for j in order[i : i + args.batch]]
            ops = collate_operators([b for b, _ in chunk])
            y = torch.cat([lab for _, lab in chunk])
            if sched is None:  # cosine over the CPU budget: the schedule ends where the budget does
                done = min(1.0, (time.process_time() - cpu0) / args.budget)
                for group in opt.param_groups:
                    group["lr"] = 0.5 * args.lr * (1.0 + math.cos(math.pi * done))
            opt.zero_grad()
            loss = torch.nn.functional.nll_loss(model(input_features(ops, kinds), ops), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        if sched is not None:
            sched.step()
        cpu = time.process_time() - cpu0
        acc, area_acc = evaluate(model, test_items, kinds)
        cpu_eval = time.process_time() - cpu0 - cpu
        cpu0 += cpu_eval  # evaluation is not training time
        curve.append(
            {
                "epoch": epoch,
                "cpu_s": cpu,
                "loss": float(np.mean(losses)),
                "test_acc": acc,
                "test_area_acc": area_acc,
            }
        )
        log(
            f"{name:12s} epoch {epoch:3d}  cpu {cpu:6.1f} s  loss {np.mean(losses):.4f}  "
            f"test acc {acc:.4f}  (area {area_acc:.4f})"
        )
        if cpu > args.budget:
            break
    return curve


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=300.0, help="CPU seconds of training per model")
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (initial)")
    ap.add_argument(
        "--schedule",
        choices=("step", "cosine"),
        default="step",
        help="step: lr halved every 40 epochs; cosine: annealed to 0 over --budget CPU seconds",
    )
    ap.add_argument("--k", type=int, default=64, help="eigenpairs")
    ap.add_argument("--n-per-family", type=int, default=75)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--models",
        default="diffusionnet,mlp",
        help=f"comma-separated: mlp or names in MODELS {sorted(MODELS)}",
    )
    ap.add_argument(
        "--options",
        default="{}",
        help='JSON per model, extra constructor options: \'{"monet": {"orientation": "pooled"}}\'',
    )
    ap.add_argument("--gauge", default="intrinsic", help="OperatorSpec.gauge (vertex frames of the log maps)")
    ap.add_argument("--patch-k", type=int, default=16, help="OperatorSpec.patch_k (models reading 'patches')")
    ap.add_argument(
        "--validation",
        type=float,
        default=0.0,
        help="fraction of the training shapes held out and evaluated instead of the test split (for choices)",
    )
    ap.add_argument("--out", default=str(RESULTS / "train_generated"), help="curves: OUT.json and OUT.png")
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    log = lambda s: print(s, flush=True)  # noqa: E731
    log(f"python benchmarks/train_generated.py {' '.join(argv or sys.argv[1:])}".strip())

    kinds = ("hks",)
    options = json.loads(args.options)
    names = args.models.split(",")
    unknown = [n for n in [*names, *options] if n != "mlp" and n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}: choose mlp or from {sorted(MODELS)}")

    def make(name):
        if name == "mlp":
            return PerVertexMLP(16, N_CLASSES, args.width)
        kw = {"width": args.width, "n_blocks": args.blocks, "last_activation": "log_softmax"}
        return build_model(name, 16, N_CLASSES, **{**kw, **options.get(name, {})})

    def spec_of(model):
        # each model gets the fields it reads (model.required_fields), the input features and the mass (for
        # the area-weighted accuracy); the patch size and the gauge only where its fields use them, so the
        # other models' cache entries stay valid
        fields = (*getattr(model, "required_fields", ()), *feature_fields(kinds), "mass")
        extra = {"patch_k": args.patch_k} if "patches" in fields else {}
        if {"logmap", "patches"} & set(fields):
            extra["gauge"] = args.gauge
        return OperatorSpec(fields=fields, k=args.k, n_hks=16, **extra)

    bench = generated_benchmark(n_per_family=args.n_per_family, seed=args.seed)
    cache = OperatorCache()
    splits = {}
    results = {"args": vars(args), "specs": {}, "threads": torch.get_num_threads(), "curves": {}}
    for name in names:
        torch.manual_seed(args.seed)
        model = make(name)
        spec = spec_of(model)
        if spec not in splits:
            t0, c0 = time.perf_counter(), time.process_time()
            train_items = load_split(bench, spec, cache, "train")
            test_items = load_split(bench, spec, cache, "test")
            log(
                f"operators ({', '.join(spec.fields)}; k={args.k}, gauge={spec.gauge}, "
                f"patch_k={spec.patch_k}): "
                f"{len(train_items)} train + {len(test_items)} test meshes, "
                f"{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU "
                "(cached after the first run)"
            )
            splits[spec] = ([(b.to(), y) for b, y in train_items], [(b.to(), y) for b, y in test_items])
        train_items, test_items = splits[spec]
        if args.validation > 0:  # choices are made on shapes carved from the training split, never on test
            order = np.random.default_rng(args.seed).permutation(len(train_items))
            n_val = int(round(args.validation * len(train_items)))
            test_items = [train_items[i] for i in order[:n_val]]
            train_items = [train_items[i] for i in order[n_val:]]
            log(f"validation: {len(train_items)} training shapes, {n_val} held out (reported as 'test')")
        results["specs"][name] = spec.to_dict()
        n_params = sum(p.numel() for p in model.parameters())
        log(f"{name}: {n_params} parameters, options {options.get(name, {})}")
        curve = train(name, model, train_items, test_items, kinds, args, log)
        results["curves"][name] = curve
        best = max(curve, key=lambda r: r["test_acc"])
        last = curve[-1]
        log(
            f"{name}: final test accuracy {last['test_acc']:.4f} "
            f"(area-weighted {last['test_area_acc']:.4f}) after "
            f"{last['epoch']} epochs, {last['cpu_s']:.0f} CPU s; "
            f"best {best['test_acc']:.4f} at epoch {best['epoch']} "
            f"({best['cpu_s']:.0f} CPU s)"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, curve in results["curves"].items():
            ax.plot([r["cpu_s"] for r in curve], [r["test_acc"] for r in curve], label=name)
        ax.axhline(0.95, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("training CPU seconds (1 thread)")
        ax.set_ylabel("per-vertex test accuracy")
        ax.set_title("generated benchmark, part segmentation (21 classes)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out.with_suffix(".png"), dpi=100)
    except ImportError:
        log("matplotlib not installed: no PNG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
