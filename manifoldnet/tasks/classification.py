"""Classification: one class per mesh (the model's ``outputs="global"``: a mass-weighted mean over the mesh).

Classes are the meshes' categories (:class:`~manifoldnet.tasks.datasets.RawSample.category`): the family
of a generated shape, or the first folder of a mesh's name in a folder dataset (``chair/chair_0001``), in
sorted order over the training split. Loss: cross entropy averaged over the meshes of the batch.

Metrics: ``accuracy`` (share of meshes whose argmax is their class), ``class_accuracy`` (per class, None
for a class without test meshes), ``mean_class_accuracy``, and the most confused pairs as in segmentation.
Predictions: ``predictions.json`` (per mesh: name, true and predicted class names, class probabilities).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import Task, register_task
from .config import ConfigError
from .segmentation import confusion_summary

__all__ = ["Classification", "ClassificationOptions"]


@dataclass
class ClassificationOptions:
    """``label_smoothing`` of the cross entropy; ``n_confused``: pairs in the confusion summary."""

    label_smoothing: float = 0.0
    n_confused: int = 5


@register_task
class Classification(Task):
    """One class per mesh (module docstring)."""

    name = "classification"
    Options = ClassificationOptions

    @property
    def classes(self) -> list[str]:
        """The class names, sorted (index = class id)."""
        if getattr(self, "_classes", None) is None:
            train, val, test = self.read_splits()
            missing = [s.name for s in train + val + test if s.category is None]
            if missing:
                raise ConfigError(
                    f"classification needs a class per mesh: {missing[0]!r} has none (meshes in one "
                    "folder per class, or data.name generated)"
                )
            self._classes = sorted({s.category for s in train})
            unseen = sorted({s.category for s in val + test} - set(self._classes))
            if unseen:
                raise ConfigError(f"classes {unseen} have no training mesh")
        return self._classes

    def head(self) -> dict:
        return {"out_channels": len(self.classes), "outputs": "global", "last_activation": "log_softmax"}

    def make_sample(self, raw, bundle) -> dict:
        return {"name": raw.name, "ops": bundle, "target": self.classes.index(raw.category)}

    def collate(self, samples, device, augment_seeds=None) -> dict:
        import torch

        batch = super().collate(
            [{k: v for k, v in s.items() if k != "target"} for s in samples], device, augment_seeds
        )
        batch["target"] = torch.tensor([s["target"] for s in samples], dtype=torch.long, device=device)
        return batch

    def loss(self, outputs, batch):
        import torch

        y = batch["target"]
        loss = torch.nn.functional.nll_loss(outputs, y)
        eps = self.options.label_smoothing
        if eps:
            loss = (1 - eps) * loss - eps * outputs.mean()
        correct = float((outputs.argmax(1) == y).sum())
        stats = {"loss_sum": float(loss.detach()) * len(y), "meshes": float(len(y)), "correct": correct}
        stats["count"] = float(len(y))
        return loss, stats

    def eval_stats(self, outputs, batch) -> dict:
        import torch

        n = len(self.classes)
        y, pred = batch["target"], outputs.argmax(1)
        return {"confusion": torch.bincount(y * n + pred, minlength=n * n).reshape(n, n)}

    def eval_metrics(self, totals: dict) -> dict:
        c = totals["confusion"].cpu().numpy().astype(np.float64)
        rows = c.sum(1)
        per_class = [float(c[i, i] / rows[i]) if rows[i] else None for i in range(len(rows))]
        present = [a for a in per_class if a is not None]
        return {
            "accuracy": float(np.trace(c) / c.sum()) if c.sum() else float("nan"),
            "mean_class_accuracy": float(np.mean(present)) if present else float("nan"),
            "class_accuracy": dict(zip(self.classes, per_class, strict=True)),
            "most_confused": [
                {**r, "true": self.classes[r["true"]], "pred": self.classes[r["pred"]]}
                for r in confusion_summary(c, self.options.n_confused)
            ],
            "meshes": int(c.sum()),
        }

    def write_predictions(self, model, samples, folder, device) -> list:
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        model.eval()
        rows = []
        with torch.no_grad():
            for i in range(0, len(samples), 8):
                chunk = samples[i : i + 8]
                probs = self.forward(model, self.collate(chunk, device)).exp().cpu().numpy()
                for s, p in zip(chunk, probs, strict=True):
                    rows.append(
                        {
                            "name": s["name"],
                            "true": self.classes[s["target"]],
                            "pred": self.classes[int(p.argmax())],
                            "probabilities": dict(
                                zip(self.classes, p.astype(float).round(6).tolist(), strict=True)
                            ),
                        }
                    )
        path = folder / "predictions.json"
        path.write_text(json.dumps(rows, indent=1))
        return [path]
