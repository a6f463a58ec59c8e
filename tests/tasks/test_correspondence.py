"""The correspondence task: the error curve, the geodesic metric against hand-computed distances, the loss
on an isometric pair, evaluation and prediction files, a tiny training run, bad configs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from manifoldnet import shapes
from manifoldnet.analysis.metrics import geodesic_errors
from manifoldnet.data import generated as g
from manifoldnet.data.transforms import center_and_scale, normalized_xyz
from manifoldnet.mesh import Mesh
from manifoldnet.nn import MODELS
from manifoldnet.nn.base import OperatorModule
from manifoldnet.nn.fmap import FunctionalMap, fmap_from_matches
from manifoldnet.operators import compute_operators
from manifoldnet.tasks import config_from_dict, make_task
from manifoldnet.tasks.config import ConfigError, config_to_dict
from manifoldnet.tasks.correspondence import GeodesicRows, cumulative_error_curve
from manifoldnet.tasks.datasets import RawSample


def _config(train=None, **options):
    return config_from_dict(
        {
            "task": "correspondence",
            "features": ["hks"],
            "data": {"name": "faust_5k"},  # not read: the tests build their samples
            "model": {"name": "diffusionnet", "width": 16, "n_blocks": 2, "dropout": 0.0},
            "operators": {"k": 40, "n_hks": 8, "dtype": "float64"},
            "train": {"batch_size": 2, **(train or {})},
            "task_options": {"dim": 16, "k": 10, **options},
        }
    )


def _sample(task, spec, name, mesh, corres):
    bundle = compute_operators(center_and_scale(mesh), spec=spec)
    return task.make_sample(RawSample(name, mesh, corres=np.asarray(corres)), bundle)


def _permuted_pair(task, spec, mesh, seed=0):
    """(X, Y): ``mesh`` and a copy with its vertices permuted; every vertex matched."""
    perm = np.random.default_rng(seed).permutation(mesh.n_verts)  # Y vertex j is X vertex perm[j]
    inv = np.argsort(perm)
    copy = Mesh(mesh.verts[perm], inv[mesh.faces])
    ids = np.arange(mesh.n_verts)
    return _sample(task, spec, "x", mesh, ids), _sample(task, spec, "y", copy, inv[ids]), perm


class XYZ(OperatorModule):
    """A fixed 'network': each vertex's normalized position (exact descriptors for a permuted copy)."""

    def forward(self, x, ops):
        return normalized_xyz(ops)


class Scaled(OperatorModule):
    """:class:`XYZ` times a constant factor (the same descriptors at another output scale)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x, ops):
        return normalized_xyz(ops) * self.factor


def test_cumulative_error_curve():
    x, y = cumulative_error_curve([0.0, 0.1, 0.1, 0.3], x_max=0.25, n=6)
    np.testing.assert_allclose(x, [0, 0.05, 0.1, 0.15, 0.2, 0.25])
    np.testing.assert_allclose(y, [0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
    e = np.random.default_rng(0).uniform(0, 0.2, 1000)
    x, y = cumulative_error_curve(e)
    assert x[0] == 0 and x[-1] == 0.25 and np.all(np.diff(y) >= 0) and y[-1] == 1.0
    with pytest.raises(ValueError, match="non-negative"):
        cumulative_error_curve([-0.1, 0.2])


def test_geodesic_errors_on_a_flat_square_are_euclidean():
    """On a flat unit square (area 1) geodesic = Euclidean distance: the metric's errors are checked against
    hand-computed distances between predicted and true vertices."""
    n = 25
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    verts = np.column_stack([u.ravel(), v.ravel(), np.zeros(n * n)])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    mesh = Mesh(verts, np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]))
    rng = np.random.default_rng(1)
    gt, pred = rng.integers(0, n * n, 40), rng.integers(0, n * n, 40)
    rows = GeodesicRows(mesh, gt)
    assert rows.area == pytest.approx(1.0)
    err = geodesic_errors(rows, pred, gt, rows.area)
    hand = np.linalg.norm(verts[pred] - verts[gt], axis=1)
    far = hand > 0.2
    np.testing.assert_allclose(err[far], hand[far], rtol=0.05)
    assert np.all(err[~far] < 0.3) and np.all(err[pred == gt] == 0)
    with pytest.raises(ValueError, match="not one of the precomputed sources"):
        rows.distances([int(np.setdiff1d(np.arange(n * n), gt)[0])])


def test_loss_is_zero_on_an_isometric_pair_with_exact_descriptors():
    task = make_task(_config(w_match=0.0))
    spec = task.operator_spec(task.build_model())
    X, Y, _ = _permuted_pair(task, spec, shapes.noisy_sphere(2, noise=0.05, seed=3))
    batch = task.collate([X, Y], torch.device("cpu"))
    assert batch["pairs"].tolist() == [[0, 1], [1, 0]]
    evx = X["ops"].evecs[:, :10]
    desc = evx @ np.random.default_rng(0).normal(size=(10, 16))
    perm_y = np.argsort(Y["corres"])  # Y vertex j is X vertex perm_y[j] (all vertices matched)
    feat = torch.tensor(np.concatenate([desc, desc[perm_y]]))
    loss, stats = task.loss(feat, batch)
    assert float(loss) < 1e-16 and stats["meshes"] == 2
    # the pair order matters: the same loss with the matches shuffled is large
    bad = dict(batch, corres=[batch["corres"][0], batch["corres"][1].roll(7)])
    assert float(task.loss(feat, bad)[0]) > 1.0


def test_loss_equals_fmap_loss_per_pair_for_three_meshes():
    task = make_task(_config(w_match=0.5, match_samples=100))
    spec = task.operator_spec(task.build_model())
    shp = [g.generate_shape("star", s, 200) for s in range(3)]
    samples = [_sample(task, spec, s.name, s.mesh, s.template_to_vertex()) for s in shp]
    batch = task.collate(samples, torch.device("cpu"))
    assert len(batch["pairs"]) == 6
    feat = torch.randn(batch["ops"].n_verts, 16, dtype=torch.float64)
    task.options.w_match = 0.0
    loss, _ = task.loss(feat, batch)
    C = FunctionalMap(k=10, lam=task.options.lam)(feat, batch["ops"], batch["pairs"])
    ev = [torch.tensor(np.array(s["ops"].evecs[:, :10])) for s in samples]
    ref = np.mean(
        [
            float(
                (
                    (C[p] - fmap_from_matches(ev[s], ev[d], samples[s]["corres"], samples[d]["corres"])) ** 2
                ).sum()
            )
            for p, (s, d) in enumerate(batch["pairs"].tolist())
        ]
    )
    assert float(loss) == pytest.approx(ref, rel=1e-10)


def test_fmap_unit_makes_the_fmap_blind_to_descriptor_scale():
    """task_options.fmap_unit: the layer reads unit-length descriptors, so scaling each vertex's descriptor
    by any positive factor leaves the loss and the evaluated maps unchanged; without it they change (the
    network's output scale would set how much lam weighs)."""
    shp = [g.generate_shape("star", s, 200) for s in range(2)]
    losses, maps = {}, {}
    for unit in (True, False):
        rng = np.random.default_rng(2)  # the same descriptors and scales in both rounds
        task = make_task(_config(w_match=0.0, fmap_unit=unit))
        spec = task.operator_spec(task.build_model())
        samples = [_sample(task, spec, x.name, x.mesh, x.template_to_vertex()) for x in shp]
        batch = task.collate(samples, torch.device("cpu"))
        feat = torch.tensor(rng.normal(size=(batch["ops"].n_verts, 16)))
        scale = torch.tensor(rng.uniform(0.01, 100.0, size=(batch["ops"].n_verts, 1)))
        unit_feat = torch.nn.functional.normalize(feat, dim=-1)
        losses[unit] = [float(task.loss(f, batch)[0]) for f in (feat, feat * scale, unit_feat)]

        maps[unit] = [task._descriptors(Scaled(f), samples, torch.device("cpu"))[2] for f in (1.0, 1e-3)]
    assert losses[True][0] == pytest.approx(losses[True][1], rel=1e-9)
    assert losses[True][0] == pytest.approx(losses[False][2], rel=1e-9)  # = the plain layer on unit rows
    assert abs(losses[False][0] - losses[False][1]) > 1e-3 * losses[False][0]
    np.testing.assert_allclose(maps[True][0], maps[True][1], atol=1e-9)
    assert np.abs(maps[False][0] - maps[False][1]).max() > 1e-3


def test_evaluate_and_predictions_on_a_permuted_copy(tmp_path):
    task = make_task(_config(k=10, zoomout_k=30, zoomout_step=5, method="zoomout"))
    spec = task.operator_spec(task.build_model())
    X, Y, perm = _permuted_pair(task, spec, g.generate_shape("star", 0, 300).mesh)
    X["path"], Y["path"] = "x.off", "y.off"
    metrics = task.evaluate(XYZ(), [X, Y], torch.device("cpu"))
    assert metrics["pairs"] == 2
    assert metrics["geodesic_error_nn"] == 0.0  # identical positions: the exact permutation
    assert metrics["geodesic_error_zoomout"] < 0.02
    assert metrics["geodesic_error"] == metrics["geodesic_error_zoomout"]
    paths = task.write_predictions(XYZ(), [X, Y], tmp_path, torch.device("cpu"))
    assert all(p.is_file() for p in paths)
    m = np.loadtxt(tmp_path / "maps" / "nn" / "x__y.txt", dtype=np.int64)
    np.testing.assert_array_equal(m, np.argsort(perm))  # X vertex i is Y vertex inv[i]
    data = json.loads((tmp_path / "curves.json").read_text())
    for y in data["curves"].values():
        assert np.all(np.diff(y) >= 0) and 0 <= y[0] <= y[-1] <= 1
    assert data["curves"]["nn"][-1] == 1.0 and data["pairs"] == [["x", "y"], ["y", "x"]]
    view = (tmp_path / "view.txt").read_text().splitlines()
    assert len(view) == 2 and view[0].startswith("manifoldnet view x.off --correspondence y.off")
    truth = np.loadtxt(tmp_path / "truth" / "y.vts", dtype=np.int64)
    np.testing.assert_array_equal(truth - 1, Y["corres"])


def test_sharded_evaluation_covers_the_whole_split():
    """Under DDP each process gets a shard of the split; pairs need both shapes, so every process evaluates
    all ordered pairs of the split the shard comes from."""
    from manifoldnet.tasks.base import Splits

    task = make_task(_config())
    spec = task.operator_spec(task.build_model())
    X, Y, _ = _permuted_pair(task, spec, g.generate_shape("star", 1, 250).mesh)
    task._splits = Splits(train=[], val=[X, Y], test=[])
    whole = task.evaluate(XYZ(), [X, Y], torch.device("cpu"))
    shard = task.evaluate(XYZ(), [Y], torch.device("cpu"), reduce=lambda totals: totals)
    assert shard == whole and whole["pairs"] == 2


def test_tiny_training_run_lowers_loss_and_error():
    """Generated 'star' shapes (one family: a shared parametrization gives exact ground truth) of different
    triangulations: 30 Adam steps on random pairs lower the loss and the held-out fmap error."""
    torch.manual_seed(0)
    task = make_task(_config(w_match=0.5, match_samples=200))
    model = task.build_model().double()
    spec = task.operator_spec(model)
    shp = [
        g.generate_shape("star", s, int(n))
        for s, n in zip(range(6), (250, 300, 280, 320, 260, 300), strict=True)
    ]
    samples = [_sample(task, spec, s.name, s.mesh, s.template_to_vertex()) for s in shp]
    train, test = samples[:4], samples[4:]
    cpu = torch.device("cpu")
    before = task.evaluate(model, test, cpu)["geodesic_error_fmap"]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    rng = np.random.default_rng(0)
    for _ in range(30):
        model.train()
        i, j = rng.choice(4, 2, replace=False)
        batch = task.collate([train[i], train[j]], cpu)
        loss, _ = task.loss(task.forward(model, batch), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    after = task.evaluate(model, test, cpu)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert after["geodesic_error_fmap"] < before
    assert np.isfinite(after["geodesic_error_nn"])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_family_trains_descriptors(name):
    """Per-vertex descriptors from any registered network: one step gives finite gradients everywhere."""
    cfg = config_to_dict(_config(w_match=0.5, match_samples=64))
    cfg["model"] = {"name": name, "width": 8, "n_blocks": 1, "dropout": 0.0}
    task = make_task(config_from_dict(cfg))
    model = task.build_model().double()
    spec = task.operator_spec(model)
    shp = [g.generate_shape("star", s, 150) for s in range(2)]
    batch = task.collate(
        [_sample(task, spec, s.name, s.mesh, s.template_to_vertex()) for s in shp], torch.device("cpu")
    )
    loss, _ = task.loss(task.forward(model, batch), batch)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert torch.isfinite(loss) and all(gr is not None and torch.isfinite(gr).all() for gr in grads)


def test_bad_configs():
    with pytest.raises(ConfigError, match="batch_size must be >= 2"):
        make_task(_config(train={"batch_size": 1}))
    with pytest.raises(ConfigError, match="method"):
        make_task(_config(method="magic"))
    with pytest.raises(ConfigError, match="zoomout_k > 0"):
        make_task(_config(method="zoomout"))
    with pytest.raises(ConfigError, match="operators.k"):
        make_task(_config(k=50))
    with pytest.raises(ConfigError, match="task_options.unknown"):
        make_task(_config(unknown=1))
    with pytest.raises(ConfigError, match="faust_5k"):
        make_task(config_from_dict({**config_to_dict(_config()), "data": {"name": "generated"}}))
    task = make_task(_config())
    with pytest.raises(ConfigError, match="no ground-truth correspondence"):
        task.make_sample(RawSample("m", shapes.icosphere(1)), None)
