"""Training and evaluation end to end on tiny generated data: the files of a run, eval metrics against the
prediction files and hand-computed values, losses against per-mesh references, per-face labels and
classification."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manifoldnet import cli, load_mesh
from manifoldnet.data.generated import generated_benchmark, write_benchmark
from manifoldnet.tasks import config_from_dict, load_config, make_task
from manifoldnet.tasks.checkpoint import load_checkpoint
from manifoldnet.tasks.loop import train, write_curves
from manifoldnet.tasks.segmentation import confusion_summary, segmentation_metrics
from tests.tasks.helpers_tasks import small_config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-epoch run (8 generated training meshes, 2 of them for validation, 4 test)."""
    tmp = tmp_path_factory.mktemp("run")
    cfg = config_from_dict(small_config(tmp, data={"val_fraction": 0.25}, model={"dropout": 0.0}))
    return cfg, train(cfg)


def test_a_run_writes_checkpoints_curves_config_and_test_metrics(run):
    cfg, result = run
    out = result.out
    for name in ("config.yaml", "last.pt", "history.json", "curves.png", "test_metrics.json"):
        assert (out / name).is_file(), name
    assert load_config(out / "config.yaml") == cfg
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert {"train_loss", "train_accuracy", "val_accuracy", "val_area_accuracy", "val_mean_iou"} <= set(
        history[0]
    )
    assert history[1]["train_loss"] < history[0]["train_loss"]
    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == 2 and state["history"] == history
    assert {"torch", "numpy", "python"} <= set(state["rng"])
    best = max(history, key=lambda h: h["val_accuracy"])
    assert state["best"] == best["val_accuracy"] and state["best_epoch"] == best["epoch"]
    assert json.loads((out / "test_metrics.json").read_text())["accuracy"] == pytest.approx(
        result.test["accuracy"]
    )


def test_eval_metrics_match_the_prediction_files(run, tmp_path):
    _, result = run
    assert cli.main(["eval", str(result.out / "last.pt"), "test", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    index = json.loads((tmp_path / "predictions" / "predictions.json").read_text())
    assert len(index) == 4
    from manifoldnet_viewer.inputs import load_labels, load_predictions

    correct = total = 0
    for row in index:
        mesh = load_mesh(row["mesh"])
        pred = load_predictions(row["pred"], mesh).labels
        truth = load_labels(row["truth"], mesh)
        assert pred.shape == truth.shape == (mesh.n_verts,)
        assert row["accuracy"] == pytest.approx(np.mean(pred == truth))
        correct, total = correct + int((pred == truth).sum()), total + pred.size
    assert metrics["accuracy"] == pytest.approx(correct / total)
    assert metrics["elements"] == total


def test_metrics_from_a_confusion_matrix_by_hand():
    # labels 0 0 1 1 2, predictions 0 1 1 1 0
    c = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    m = segmentation_metrics(c, area_correct=0.3, area=0.5)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["area_accuracy"] == pytest.approx(0.6)
    assert m["iou"] == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert m["mean_iou"] == pytest.approx(1 / 3)
    assert m["most_confused"] == [
        {"true": 0, "pred": 1, "count": 1, "share": 0.5},
        {"true": 2, "pred": 0, "count": 1, "share": 1.0},
    ]
    # a class never labelled nor predicted has no IoU and does not enter the mean
    m4 = segmentation_metrics(np.pad(c, ((0, 1), (0, 1))), 0.3, 0.5)
    assert m4["iou"][3] is None and m4["mean_iou"] == pytest.approx(1 / 3)
    assert confusion_summary(np.eye(3)) == []


@pytest.fixture(scope="module")
def seg_task(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seg")
    task = make_task(config_from_dict(small_config(tmp, data={"limit": 2})))
    splits = task.build(task.operator_spec(task.build_model()), progress=False)
    return task, splits.train


def test_eval_stats_of_chosen_predictions_by_hand(seg_task):
    task, samples = seg_task
    n = task.head()["out_channels"]
    batch = task.collate(samples, "cpu")
    y = batch["labels"].numpy()
    rng = np.random.default_rng(0)
    pred = np.where(rng.random(y.size) < 0.6, y, rng.integers(0, n, y.size))
    out = torch.log(torch.nn.functional.one_hot(torch.as_tensor(pred), n).double() * 0.9 + 0.1 / n)
    stats = task.eval_stats(out, batch)
    metrics = task.eval_metrics({k: torch.as_tensor(v) for k, v in stats.items()})
    # area weights: each vertex's mass as a share of its mesh's area, so both meshes weigh the same
    share = np.concatenate([s["ops"].mass / s["ops"].mass.astype(np.float64).sum() for s in samples])
    ok = pred == y
    assert metrics["accuracy"] == pytest.approx(ok.mean())
    assert metrics["area_accuracy"] == pytest.approx((share * ok).sum() / len(samples), rel=1e-6)
    for k in range(n):
        tp = np.sum(ok & (y == k))
        union = np.sum((y == k) | (pred == k))
        assert metrics["iou"][k] == (None if union == 0 else pytest.approx(tp / union))


def test_loss_is_the_mean_of_per_mesh_means_and_skips_unlabelled(seg_task):
    task, samples = seg_task
    n = task.head()["out_channels"]
    samples = [dict(s) for s in samples]
    samples[0]["labels"] = samples[0]["labels"].copy()
    samples[0]["labels"][:10] = -1  # unlabelled
    g = torch.Generator().manual_seed(0)
    outs = [
        torch.log_softmax(torch.randn(s["ops"].n_verts, n, generator=g, dtype=torch.float64), 1)
        for s in samples
    ]
    loss, stats = task.loss(torch.cat(outs), task.collate(samples, "cpu"))
    ref = []
    for o, s in zip(outs, samples, strict=True):
        y = s["labels"]
        keep = y >= 0
        ref.append(-o.numpy()[np.flatnonzero(keep), y[keep]].mean())
    assert float(loss) == pytest.approx(np.mean(ref), rel=1e-12)
    assert stats["meshes"] == 2 and stats["count"] == sum(s["labels"].size for s in samples) - 10
    single = [float(task.loss(o, task.collate([s], "cpu"))[0]) for o, s in zip(outs, samples, strict=True)]
    assert float(loss) == pytest.approx(np.mean(single), rel=1e-12)


def test_per_face_labels_train_a_face_model(tmp_path):
    bench = generated_benchmark(n_per_family=2, families=("blob", "torus"), n_verts=(150, 200))
    root = write_benchmark(bench, tmp_path / "data")
    for s in bench:  # per-face labels: the label of each face's first vertex
        np.savetxt(root / "labels" / f"{s.name}.txt", s.global_labels[s.mesh.faces[:, 0]], fmt="%d")
    cfg = small_config(
        tmp_path, data={"name": "folder", "root": str(root), "test_split": None, "n_classes": 21}
    )
    task = make_task(config_from_dict(cfg))
    assert task.head()["outputs"] == "faces"
    result = train(config_from_dict(cfg))
    assert len(result.history) == 2 and np.isfinite(result.history[-1]["train_loss"])


def test_classification_of_generated_families(tmp_path):
    cfg = config_from_dict(small_config(tmp_path, task="classification", data={"val_fraction": 0.25}))
    task = make_task(cfg)
    assert task.classes == ["blob", "body", "star", "torus"] and task.head()["outputs"] == "global"
    result = train(cfg)
    assert set(result.test) >= {"accuracy", "mean_class_accuracy", "class_accuracy", "most_confused"}
    assert result.test["meshes"] == 4


def test_unit_radius_normalization():
    from manifoldnet import shapes
    from manifoldnet.tasks.datasets import unit_radius

    mesh = shapes.ellipsoid(2.0, 1.0, 0.5)
    mesh = mesh.with_verts(mesh.verts * 7.0 + [3.0, -1.0, 2.0])
    out = unit_radius(mesh)
    A = out.face_areas
    centroid = (A[:, None] * out.verts[out.faces].mean(axis=1)).sum(0) / A.sum()
    np.testing.assert_allclose(centroid, 0.0, atol=1e-12)
    assert np.linalg.norm(out.verts, axis=1).max() == pytest.approx(1.0)
    # the ellipsoid is centred at the offset and its farthest vertex is 2 x 7 = 14 away
    np.testing.assert_allclose(out.verts, (mesh.verts - [3.0, -1.0, 2.0]) / 14.0, atol=1e-9)


def test_eval_of_a_folder_of_meshes_with_the_trained_classes(run, tmp_path):
    _, result = run
    bench = generated_benchmark(n_per_family=1, families=("star",), n_verts=(150, 180), seed=5)
    root = write_benchmark(bench, tmp_path / "data")
    assert cli.main(["eval", str(result.out / "last.pt"), str(root), "--out", str(tmp_path / "ev")]) == 0
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert len(metrics["iou"]) == 21  # the checkpoint's classes, though this folder holds star parts only
    assert metrics["elements"] == bench[0].mesh.n_verts


def test_classification_metrics_by_hand(tmp_path):
    task = make_task(config_from_dict(small_config(tmp_path, task="classification")))
    # classes blob, body, star, torus; 5 meshes: blob->blob, body->blob, star->star, star->torus, torus->torus
    c = torch.zeros(4, 4, dtype=torch.float64)
    for t, p in ((0, 0), (1, 0), (2, 2), (2, 3), (3, 3)):
        c[t, p] += 1
    m = task.eval_metrics({"confusion": c})
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["class_accuracy"] == {"blob": 1.0, "body": 0.0, "star": 0.5, "torus": 1.0}
    assert m["mean_class_accuracy"] == pytest.approx(2.5 / 4)
    assert m["most_confused"][0] == {"true": "body", "pred": "blob", "count": 1, "share": 1.0}


def test_curves_of_epochs_without_validation_or_accuracy(tmp_path):
    """A correspondence run validating every 10th epoch has, at first, only losses: the curves are written
    (JSON with every figure, the PNG) without a warning about an empty legend; a validation later adds its
    line."""
    pytest.importorskip("matplotlib")
    import warnings

    history = [{"epoch": 1, "train_loss": 3.0}, {"epoch": 2, "train_loss": 2.5}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_curves(history, tmp_path, "geodesic_error")
        history.append({"epoch": 3, "train_loss": 2.0, "val_geodesic_error": 0.05})
        write_curves(history, tmp_path, "geodesic_error")
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert (tmp_path / "curves.png").stat().st_size > 1000
