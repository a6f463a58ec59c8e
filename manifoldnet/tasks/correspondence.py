"""Shape correspondence between meshes of different connectivity (FAUST remeshed, generated families).

The network (any ``MODELS`` family with ``outputs="vertices"``) gives every vertex a learned descriptor
(``task_options.dim`` channels). A batch of B >= 2 meshes is trained on all its B (B - 1) ordered pairs, so
shuffled batches draw random pairs among the training shapes.

Losses (their sum, weighted by ``w_fmap`` and ``w_match``, averaged over pairs):

- ``fmap``: GeomFmaps' supervised loss ``||C - C_gt||_F^2``. ``C`` is the functional-map layer's map
  (:class:`manifoldnet.nn.fmap.FunctionalMap`, descriptor preservation + commutativity, ``k`` and ``lam``);
  ``C_gt`` the least-squares (pseudo-inverse) map of the ground-truth matches,
  ``pinv(Phi_dst[ids_dst]) Phi_src[ids_src]`` (:func:`~manifoldnet.nn.fmap.fmap_from_matches`): FAUST's
  ``.vts`` give 5000 matched samples per shape, not a map of every vertex, so the mass-matrix form
  ``Phi^T M Pi Phi`` would need a full point map that does not exist.
- ``match``: the soft nearest-neighbour loss on unit descriptors
  (:func:`manifoldnet.nn.matching.soft_match_loss`), which trains the descriptors to match point by point
  (the nearest-neighbour map below).

Evaluation (Princeton protocol): for every ordered pair (X, Y) of the evaluated shapes (all X != Y: the error
is measured on the target, so (X, Y) and (Y, X) are two different measurements; FAUST's 20 test shapes give
380 pairs), the point map X -> Y is read three ways: ``nn`` (nearest descriptor of Y for every vertex of
X), ``fmap`` (the layer's map from Y's functions to X's,
:func:`~manifoldnet.analysis.functional_maps.fmap_to_p2p`) and ``zoomout`` (that map refined by
:func:`~manifoldnet.analysis.functional_maps.zoomout` to ``zoomout_k`` eigenfunctions; 0 turns it off).
Point k of the ground truth is ``corres_X[k] -> corres_Y[k]``; its error is
the geodesic distance on Y between the predicted and the true vertex, divided by ``sqrt(area(Y))``
(:func:`~manifoldnet.analysis.metrics.geodesic_errors` with heat-method distances,
:func:`~manifoldnet.geometry.geodesics.all_pairs_distances`). ``geodesic_error`` (the monitored metric) is
the mean error of ``task_options.method``. The cumulative curve is the fraction of points with error <= x
for x in [0, 0.25].

Predictions (:meth:`CorrespondenceTask.write_predictions`): ``maps/<method>/<X>__<Y>.txt`` (V_X lines, the
0-based vertex of Y for each vertex of X), ``truth/<name>.vts`` (1-based ground truth), ``curves.json`` and
``curves.png``, and ``view.txt`` with one ``manifoldnet view X.off --correspondence Y.off MAP --truth X.vts
Y.vts`` command per pair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis import functional_maps as fm
from ..analysis.metrics import geodesic_errors
from ..data import collate_operators
from ..errors import MeshError
from ..geometry.geodesics import all_pairs_distances
from .base import Task, register_task
from .config import ConfigError

__all__ = [
    "CURVE_MAX",
    "METHODS",
    "CorrespondenceOptions",
    "CorrespondenceTask",
    "GeodesicRows",
    "cumulative_error_curve",
    "plot_error_curves",
]

CURVE_MAX = 0.25  # Princeton protocol: normalized geodesic error thresholds in [0, 0.25]
METHODS = ("nn", "fmap", "zoomout")


def cumulative_error_curve(errors, x_max: float = CURVE_MAX, n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``, n points each: ``y[i]`` = fraction of ``errors`` (N,) <= ``x[i]``, x in [0, x_max].

    Non-decreasing; reaches 1 once ``x`` passes the largest error."""
    e = np.sort(np.asarray(errors, dtype=np.float64).ravel())
    if e.size == 0 or not np.isfinite(e).all() or e[0] < 0:
        raise MeshError("cumulative_error_curve needs a non-empty array of finite, non-negative errors")
    x = np.linspace(0.0, float(x_max), int(n))
    return x, np.searchsorted(e, x, side="right") / e.size


def plot_error_curves(curves: dict, path, title: str = "") -> Path:
    """Write the cumulative curves ``{label: (x, y)}`` to the PNG ``path`` (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    for label, (x, y) in curves.items():
        ax.plot(x, y, label=label)
    ax.set_xlabel("geodesic error / sqrt(area)")
    ax.set_ylabel("fraction of correspondences")
    ax.set_xlim(0, max(float(x[-1]) for x, _ in curves.values()))
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


class GeodesicRows:
    """Heat-method geodesic distances on one mesh from the vertices ``sources`` (float32 rows, computed once),
    served through the ``distances(list_of_sources)`` interface that
    :func:`~manifoldnet.analysis.metrics.geodesic_errors` takes (only those sources)."""

    def __init__(self, mesh, sources):
        self.mesh = mesh
        self.sources = np.unique(np.asarray(sources, dtype=np.int64))
        # all pairs (symmetrized, ~3 s for 5k vertices) then keep the rows that are asked for
        self.rows = all_pairs_distances(mesh, progress=False)[self.sources]
        self.area = float(mesh.face_areas.sum())

    def distances(self, sources_list) -> np.ndarray:
        src = np.asarray(sources_list, dtype=np.int64).reshape(-1)
        pos = np.searchsorted(self.sources, src)
        ok = (pos < self.sources.size) & (self.sources[np.minimum(pos, self.sources.size - 1)] == src)
        if not ok.all():
            raise MeshError(f"GeodesicRows: vertex {int(src[~ok][0])} is not one of the precomputed sources")
        return self.rows[pos]


@dataclass
class CorrespondenceOptions:
    """``task_options`` of the correspondence task (module docstring).

    dim : descriptor channels. k, lam : the functional-map layer's basis size and commutativity weight.
    w_fmap, w_match : loss weights; tau, match_samples : the match loss's temperature and matches per pair.
    zoomout_k, zoomout_step : ZoomOut's final basis size (0: off) and step at evaluation.
    method : the map whose mean error is ``geodesic_error`` (``"nn"``, ``"fmap"`` or ``"zoomout"``).
    fmap_unit : descriptors scaled to unit length per vertex before the functional-map layer (in training
        and evaluation), as they already are for the match loss and nearest-neighbour matching: the solve
        then no longer depends on the network's output scale, which otherwise sets how much ``lam`` weighs.
    """

    dim: int = 128
    k: int = 30
    lam: float = 1e-3
    w_fmap: float = 1.0
    w_match: float = 0.0
    tau: float = 0.07
    match_samples: int = 1024
    zoomout_k: int = 0
    zoomout_step: int = 5
    method: str = "fmap"
    fmap_unit: bool = False


@register_task
class CorrespondenceTask(Task):
    """Learned descriptors + functional maps, trained on ground-truth matches (module docstring)."""

    name = "correspondence"
    Options = CorrespondenceOptions
    monitor = "geodesic_error"
    monitor_mode = "min"
    extra_fields = ("mass", "eigenbasis")

    def __init__(self, config):
        super().__init__(config)
        o = self.options
        if o.method not in METHODS:
            raise ConfigError(f"task_options.method must be one of {list(METHODS)}, got {o.method!r}")
        if o.method == "zoomout" and o.zoomout_k <= 0:
            raise ConfigError("task_options.method 'zoomout' needs task_options.zoomout_k > 0")
        if not 1 <= o.k <= config.operators.k or (
            o.zoomout_k and not o.k <= o.zoomout_k <= config.operators.k
        ):
            raise ConfigError(
                f"task_options.k ({o.k}) and zoomout_k ({o.zoomout_k}) must satisfy "
                f"1 <= k <= zoomout_k <= operators.k ({config.operators.k})"
            )
        if o.w_fmap < 0 or o.w_match < 0 or o.w_fmap + o.w_match <= 0:
            raise ConfigError(
                f"task_options.w_fmap, w_match must be >= 0, not both 0; got {o.w_fmap}, {o.w_match}"
            )
        if config.data.name == "generated":
            raise ConfigError(
                "data.name 'generated' holds per-vertex template ids of four shape families, not matched "
                "points of one family: train correspondence on faust_5k"
            )
        if config.train.batch_size < 2:
            raise ConfigError(
                "the correspondence task trains on pairs within a batch: train.batch_size must be >= 2, got "
                f"{config.train.batch_size}"
            )
        from ..nn.fmap import FunctionalMap  # lazy: torch, as everywhere in tasks

        self.fmap = FunctionalMap(k=o.k, lam=o.lam)
        self._geodesics: dict = {}
        self._splits = None
        self._last = None  # (fingerprint, maps) of the last evaluation, reused by write_predictions

    # ------------------------------------------------------------------------------------- model
    def head(self) -> dict:
        return {"out_channels": self.options.dim, "outputs": "vertices", "last_activation": None}

    def build(self, spec, progress: bool | None = None):
        """The base class's splits, remembered: evaluation pairs the shapes of a whole split (see
        :meth:`evaluate`)."""
        self._splits = super().build(spec, progress=progress)
        return self._splits

    def make_sample(self, raw, bundle) -> dict:
        if raw.corres is None:
            raise ConfigError(
                f"mesh {raw.name!r} has no ground-truth correspondence (corres/<name>.vts): the "
                "correspondence task needs one per mesh (data.name faust_5k)"
            )
        return {
            "name": raw.name,
            "ops": bundle,
            "corres": np.asarray(raw.corres, dtype=np.int64),
            "mesh": raw.mesh,
            "path": raw.path,
        }

    # ----------------------------------------------------------------------------------- batches
    def collate(self, samples, device, augment_seeds=None) -> dict:
        """``ops`` and ``x`` of the B meshes, ``pairs`` (B (B - 1), 2) all ordered pairs (source, target),
        ``corres`` a list of (N,) long tensors."""
        import torch

        ops = collate_operators([s["ops"] for s in samples], device=device)
        B = len(samples)
        ij = torch.cartesian_prod(torch.arange(B), torch.arange(B))
        return {
            "ops": ops,
            "x": self.features(ops, augment_seeds),
            "pairs": ij[ij[:, 0] != ij[:, 1]].to(ops.device),
            "corres": [torch.from_numpy(np.array(s["corres"])).to(ops.device) for s in samples],
            "name": [s["name"] for s in samples],
        }

    def loss(self, outputs, batch):
        import torch

        # lazy: torch, as everywhere in tasks
        from ..nn.fmap import fmap_from_matches
        from ..nn.matching import soft_match_loss

        pairs, ops, corres = batch["pairs"], batch["ops"], batch["corres"]
        if pairs.shape[0] == 0:  # a last batch of one mesh (odd split size) has no pair: it adds nothing
            return outputs.sum() * 0.0, {}
        o = self.options
        total = outputs.new_zeros(())
        # unit descriptors: the match loss's, and with fmap_unit the fmap layer's too (normalized once)
        unit = torch.nn.functional.normalize(outputs, dim=-1) if o.w_match > 0 or o.fmap_unit else None
        if o.w_fmap > 0:
            C = self.fmap(unit if o.fmap_unit else outputs, ops, pairs)
            evecs = [e[:, : o.k].double() for e in ops.split(ops.evecs)]
            C_gt = torch.stack(
                [fmap_from_matches(evecs[s], evecs[d], corres[s], corres[d]) for s, d in pairs.tolist()]
            )
            total = total + o.w_fmap * ((C - C_gt.to(C.dtype)) ** 2).sum(dim=(1, 2)).mean()
        if o.w_match > 0:
            f = ops.split(unit)
            m = [
                soft_match_loss(f[s], f[d], corres[s], corres[d], o.tau, o.match_samples)
                for s, d in pairs.tolist()
            ]
            total = total + o.w_match * torch.stack(m).mean()
        P = int(pairs.shape[0])
        return total, {"loss_sum": float(total.detach()) * P, "meshes": P}

    def _fmap_input(self, feats):
        """(V, dim) descriptors as the functional-map layer reads them (``fmap_unit``)."""
        import torch

        return torch.nn.functional.normalize(feats, dim=-1) if self.options.fmap_unit else feats

    # -------------------------------------------------------------------------------- evaluation
    def _geodesic_rows(self, sample) -> GeodesicRows:
        key = (sample["name"], id(sample["mesh"]))
        if key not in self._geodesics:
            self._geodesics[key] = GeodesicRows(sample["mesh"], sample["corres"])
        return self._geodesics[key]

    def _descriptors(self, model, samples, device):
        """Per-sample descriptors (numpy float64) and the functional maps of all ordered pairs."""
        import torch

        model.eval()
        feats = []
        with torch.no_grad():
            for s in samples:
                ops = collate_operators([s["ops"]], device=device)
                feats.append(model(self.features(ops), ops))
            ops = collate_operators([s["ops"] for s in samples], device=device)
            n = len(samples)
            pairs = [(x, y) for x in range(n) for y in range(n) if x != y]  # points of x -> vertices of y
            # the fmap goes from y's functions to x's: the layer's (source, target) = (y, x)
            fm_pairs = torch.tensor([(y, x) for x, y in pairs], dtype=torch.long, device=ops.device)
            C = self.fmap(self._fmap_input(torch.cat(feats)), ops, fm_pairs).double().cpu().numpy()
        return [f.double().cpu().numpy() for f in feats], pairs, C

    def _run_pairs(self, model, samples, device) -> dict:
        """Maps and errors of every ordered pair of ``samples``: ``{"pairs", "maps", "errors", "metrics"}``
        (``maps[m][p]`` (V_x,) and ``errors[m][p]`` (N,) per method ``m`` and pair ``p``). The last result
        is kept, so ``manifoldnet eval``'s evaluate + write_predictions compute the pairs once."""
        if len(samples) < 2:
            raise ValueError(f"correspondence evaluation needs at least 2 meshes, got {len(samples)}")
        o = self.options
        key = (
            id(model),
            tuple(int(p._version) for p in model.parameters()),
            tuple(s["name"] for s in samples),
        )
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        feats, pairs, C = self._descriptors(model, samples, device)
        spectral = [fm.SpectralShape(s["ops"].evals, s["ops"].evecs, s["ops"].mass) for s in samples]
        methods = [m for m in METHODS if m != "zoomout" or o.zoomout_k > 0]
        maps = {m: [] for m in methods}
        errors = {m: [] for m in methods}
        unit = [f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12) for f in feats]
        for (x, y), Cyx in zip(pairs, C, strict=True):
            found = {
                "nn": fm.nearest_rows(unit[y], unit[x]),
                "fmap": fm.fmap_to_p2p(Cyx, spectral[y], spectral[x]),
            }
            if "zoomout" in methods:
                found["zoomout"] = fm.zoomout(
                    Cyx, spectral[y], spectral[x], o.zoomout_k, step=o.zoomout_step, progress=False
                )[1]
            rows = self._geodesic_rows(samples[y])
            for m in methods:
                maps[m].append(found[m])
                errors[m].append(
                    geodesic_errors(rows, found[m][samples[x]["corres"]], samples[y]["corres"], rows.area)
                )
        metrics = {f"geodesic_error_{m}": float(np.concatenate(errors[m]).mean()) for m in methods}
        metrics["geodesic_error"] = metrics[f"geodesic_error_{o.method}"]
        metrics["pairs"] = len(pairs)
        result = {"pairs": pairs, "maps": maps, "errors": errors, "metrics": metrics}
        self._last = (key, result)
        return result

    def evaluate(self, model, samples, device, reduce=None, batch_size=None) -> dict:
        """Mean normalized geodesic errors over all ordered pairs of ``samples`` (module docstring).

        Pairs need both shapes, so under DDP (``reduce`` given, ``samples`` this process's shard) every
        process evaluates the whole split the shard comes from (the same figures on each; ``reduce`` is not
        used): the metric is always over all ordered pairs of the split, whatever the number of processes."""
        if reduce is not None and self._splits is not None:
            names = {s["name"] for s in samples}
            for part in (self._splits.val, self._splits.test, self._splits.train):
                if names <= {s["name"] for s in part}:
                    samples = part
                    break
        return dict(self._run_pairs(model, samples, device)["metrics"])

    def write_predictions(self, model, samples, folder, device) -> list:
        """Maps, ground truth, curves and view commands into ``folder`` (module docstring); returns the
        paths of ``curves.json``, ``curves.png`` and ``view.txt``."""
        folder = Path(folder)
        r = self._run_pairs(model, samples, device)
        for m, maps in r["maps"].items():
            (folder / "maps" / m).mkdir(parents=True, exist_ok=True)
            for (x, y), p2p in zip(r["pairs"], maps, strict=True):
                np.savetxt(
                    folder / "maps" / m / f"{_file(samples[x])}__{_file(samples[y])}.txt", p2p, fmt="%d"
                )
        self._write_curves(folder, samples, r)
        return [folder / "curves.json", folder / "curves.png", folder / "view.txt"]

    def _write_curves(self, folder, samples, r):
        (folder / "truth").mkdir(parents=True, exist_ok=True)
        for s in samples:
            np.savetxt(folder / "truth" / f"{_file(s)}.vts", s["corres"] + 1, fmt="%d")
        metrics, pairs = r["metrics"], r["pairs"]
        curves = {m: cumulative_error_curve(np.concatenate(e)) for m, e in r["errors"].items()}
        out = {
            "protocol": "ordered pairs (X, Y), X != Y; error on Y / sqrt(area Y); curve: fraction <= x",
            "metrics": metrics,
            "x": curves[next(iter(curves))][0].tolist(),
            "curves": {m: y.tolist() for m, (_, y) in curves.items()},
            "pairs": [[samples[x]["name"], samples[y]["name"]] for x, y in pairs],
            "pair_errors": {m: [float(e.mean()) for e in errs] for m, errs in r["errors"].items()},
        }
        (folder / "curves.json").write_text(json.dumps(out, indent=1))
        labelled = {f"{m} ({metrics[f'geodesic_error_{m}']:.4f})": xy for m, xy in curves.items()}
        plot_error_curves(labelled, folder / "curves.png", f"{len(pairs)} ordered pairs")
        lines = []
        for x, y in pairs:
            sx, sy = samples[x], samples[y]
            if sx.get("path") and sy.get("path"):
                nx, ny = _file(sx), _file(sy)
                lines.append(
                    f"manifoldnet view {sx['path']} --correspondence {sy['path']} "
                    f"{folder / 'maps' / self.options.method / f'{nx}__{ny}.txt'} "
                    f"--truth {folder / 'truth' / f'{nx}.vts'} {folder / 'truth' / f'{ny}.vts'}"
                )
        (folder / "view.txt").write_text("".join(line + "\n" for line in lines))


def _file(sample) -> str:
    """A sample's name as a file name (``/`` of nested folder datasets replaced)."""
    return sample["name"].replace("/", "_")
