"""Segmentation: a class per vertex or per face (the labels' kind decides the model's ``outputs=``).

Loss: cross entropy of the model's log-probabilities, averaged over each mesh's labelled elements, then
over the meshes of the batch (every mesh weighs the same, whatever its size). Labels below 0 are unlabelled:
no loss, not scored.

Metrics (:meth:`Segmentation.eval_metrics`), over all labelled elements of the evaluated meshes, all read
from one confusion matrix (a ``torch.bincount``; it is also what DDP sums over processes, so torchmetrics
would add a dependency and nothing else) and the area of the correct elements:

- ``accuracy``: the share of elements whose predicted class (argmax) is the label;
- ``area_accuracy``: the same weighted by area (vertex: lumped mass; face: face area) as a share of its
  mesh's area, so a finely triangulated region does not count more than a coarse one and each mesh weighs
  the same, whatever its size;
- ``iou``: per class ``TP / (TP + FP + FN)`` (None for a class neither in the labels nor predicted), and
  ``mean_iou`` over the classes present in the labels;
- ``most_confused``: the largest off-diagonal entries of the confusion matrix: label ``true`` predicted
  as ``pred`` on ``count`` elements, ``share`` of that label's elements.

Predictions (:meth:`Segmentation.write_predictions`): ``<name>.pred.npy`` (predicted classes) and
``<name>.truth.txt`` (labels, in the same class space) per mesh, and ``predictions.json`` listing each mesh
with its accuracy and the command that shows it: ``manifoldnet view MESH --labels truth.txt --predictions
pred.npy`` (truth | prediction side by side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.generated import N_CLASSES
from ..io import save_mesh
from ..mesh import Mesh
from .base import Task, register_task
from .config import ConfigError

__all__ = ["Segmentation", "SegmentationOptions", "confusion_summary", "per_mesh_mean"]

_KNOWN_CLASSES = {"rna": 260}


@dataclass
class SegmentationOptions:
    """``label_smoothing`` of the cross entropy; ``n_confused``: pairs in the confusion summary."""

    label_smoothing: float = 0.0
    n_confused: int = 5


def per_mesh_mean(values, offsets):
    """(B,) mean of ``values`` (N,) over each mesh's contiguous block ``offsets[b]:offsets[b+1]`` (an empty
    block gives 0), from one cumulative sum (float64)."""
    import torch

    c = torch.cat([values.new_zeros(1, dtype=torch.float64), values.double().cumsum(0)])
    n = (offsets[1:] - offsets[:-1]).clamp(min=1).double()
    return ((c[offsets[1:]] - c[offsets[:-1]]) / n).to(values.dtype)


def confusion_summary(confusion: np.ndarray, n: int = 5) -> list[dict]:
    """The ``n`` largest off-diagonal entries of ``confusion`` (rows: labels, columns: predictions) as
    ``{"true", "pred", "count", "share"}`` (share of the label's elements), largest first; zero entries
    are left out."""
    c = np.asarray(confusion, dtype=np.float64)
    off = c.copy()
    np.fill_diagonal(off, 0.0)
    flat = np.argsort(-off, axis=None, kind="stable")[:n]
    rows = c.sum(1)
    out = []
    for t, p in zip(*np.unravel_index(flat, c.shape), strict=True):
        if off[t, p] > 0:
            out.append(
                {"true": int(t), "pred": int(p), "count": int(off[t, p]), "share": float(off[t, p] / rows[t])}
            )
    return out


def segmentation_metrics(
    confusion: np.ndarray, area_correct: float, area: float, n_confused: int = 5
) -> dict:
    """The metrics of the module docstring from a confusion matrix (rows labels, columns predictions) and
    the area of the correctly labelled elements over the total labelled area."""
    c = np.asarray(confusion, dtype=np.float64)
    total = c.sum()
    tp = np.diag(c)
    union = c.sum(0) + c.sum(1) - tp
    iou = [float(tp[i] / union[i]) if union[i] > 0 else None for i in range(c.shape[0])]
    present = c.sum(1) > 0
    return {
        "accuracy": float(tp.sum() / total) if total else float("nan"),
        "area_accuracy": float(area_correct / area) if area else float("nan"),
        "mean_iou": float(np.mean(tp[present] / union[present])) if present.any() else float("nan"),
        "iou": iou,
        "most_confused": confusion_summary(c, n_confused),
        "elements": int(total),
    }


@register_task
class Segmentation(Task):
    """Per-vertex or per-face classes (module docstring)."""

    name = "segmentation"
    Options = SegmentationOptions

    # ---------------------------------------------------------------------------------- data
    def _label_info(self) -> tuple[str, int]:
        """(label kind, number of classes), from the config or the training labels."""
        if getattr(self, "_info", None) is None:
            train, val, test = self.read_splits()
            d = self.config.data
            kinds = {s.label_kind for s in train + val + test}
            if None in kinds:
                name = next(s.name for s in train + val + test if s.labels is None)
                raise ConfigError(
                    f"segmentation needs labels: mesh {name!r} has none (config key 'data.labels')"
                )
            if len(kinds) > 1:
                raise ConfigError(
                    "the label files mix per-vertex and per-face labels; set config key 'data.label_kind'"
                )
            n = d.n_classes or _KNOWN_CLASSES.get(d.name)
            if n is None:
                n = (
                    N_CLASSES
                    if d.name == "generated"
                    else 1 + max(int(s.labels.max()) for s in train + val + test)
                )
            top = max(int(s.labels.max()) for s in train + val + test)
            if top >= n:
                raise ConfigError(
                    f"a label is {top}, but data.n_classes is {n}: labels must lie in [0, n_classes)"
                )
            self._info = (kinds.pop(), int(n))
        return self._info

    def head(self) -> dict:
        kind, n = self._label_info()
        return {
            "out_channels": n,
            "outputs": "vertices" if kind == "vertex" else "faces",
            "last_activation": "log_softmax",
        }

    def make_sample(self, raw, bundle) -> dict:
        return {
            "name": raw.name,
            "ops": bundle,
            "labels": np.asarray(raw.labels, dtype=np.int64),
            "path": raw.path,
        }

    # ---------------------------------------------------------------------------------- steps
    def _offsets(self, ops):
        return ops.offsets if self._label_info()[0] == "vertex" else ops.face_offsets

    def loss(self, outputs, batch):
        import torch

        y = batch["labels"]
        valid = y >= 0
        nll = torch.nn.functional.nll_loss(
            outputs, y.clamp(min=0), reduction="none"
        )  # label smoothing below, on the same rows
        eps = self.options.label_smoothing
        if eps:
            nll = (1 - eps) * nll - eps * outputs.mean(dim=1)
        nll = nll * valid
        offsets = self._offsets(batch["ops"])
        counts = (offsets[1:] - offsets[:-1]).clamp(min=1)
        labelled = per_mesh_mean(valid.to(nll.dtype), offsets) * counts
        per_mesh = per_mesh_mean(nll, offsets) * counts / labelled.clamp(min=1)
        loss = per_mesh.mean()
        with torch.no_grad():
            correct = ((outputs.argmax(1) == y) & valid).sum()
        stats = {
            "loss_sum": float(per_mesh.detach().sum()),
            "meshes": float(per_mesh.shape[0]),
            "correct": float(correct),
            "count": float(valid.sum()),
        }
        return loss, stats

    def _areas(self, ops):
        """(N,) area of each labelled element (vertex: mass; face: face area) over its mesh's total area."""
        import torch

        if self._label_info()[0] == "vertex":
            a = ops.mass.double()
        else:
            v, f = ops.verts.double(), ops.faces
            a = 0.5 * torch.linalg.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]).norm(dim=1)
        offsets = self._offsets(ops)
        counts = offsets[1:] - offsets[:-1]
        total = per_mesh_mean(a, offsets) * counts
        return a / torch.repeat_interleave(total, counts)

    def eval_stats(self, outputs, batch) -> dict:
        import torch

        n = self._label_info()[1]
        y = batch["labels"]
        valid = y >= 0
        pred = outputs.argmax(1)
        conf = torch.bincount((y * n + pred)[valid], minlength=n * n).reshape(n, n)
        a = self._areas(batch["ops"])[valid]
        return {
            "confusion": conf,
            "area_correct": (a * (pred[valid] == y[valid])).sum(),
            "area": a.sum(),
        }

    def eval_metrics(self, totals: dict) -> dict:
        return segmentation_metrics(
            totals["confusion"].cpu().numpy(),
            float(totals["area_correct"]),
            float(totals["area"]),
            self.options.n_confused,
        )

    # ---------------------------------------------------------------------------- predictions
    def write_predictions(self, model, samples, folder, device) -> list:
        import torch

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        model.eval()
        index, paths = [], []
        with torch.no_grad():
            for s in samples:
                batch = self.collate([s], device)
                pred = self.forward(model, batch).argmax(1).cpu().numpy().astype(np.int64)
                stem = s["name"].replace("/", "__")
                pred_path, truth_path = folder / f"{stem}.pred.npy", folder / f"{stem}.truth.txt"
                np.save(pred_path, pred)
                np.savetxt(truth_path, s["labels"], fmt="%d")
                mesh_path = s.get("path")
                if mesh_path is None:  # a generated mesh: write it beside its predictions
                    mesh_path = folder / f"{stem}.off"
                    save_mesh(mesh_path, Mesh(s["ops"].verts.astype(np.float64), s["ops"].faces))
                valid = s["labels"] >= 0
                acc = float(np.mean(pred[valid] == s["labels"][valid])) if valid.any() else float("nan")
                index.append(
                    {
                        "name": s["name"],
                        "mesh": str(mesh_path),
                        "pred": str(pred_path),
                        "truth": str(truth_path),
                        "accuracy": acc,
                        "view": f"manifoldnet view {mesh_path} --labels {truth_path} "
                        f"--predictions {pred_path}",
                    }
                )
                paths += [pred_path, truth_path]
        (folder / "predictions.json").write_text(json.dumps(index, indent=1))
        return paths
