"""DiffusionNet training steps: manifoldnet against the reference implementation, side by side in one run.

Reference configuration (issue 13): DiffusionNet 16 -> 260 channels, width 128, 4 blocks, dropout 0.5,
log-softmax outputs, Adam; inputs 16 HKS; spectral diffusion with 128 eigenpairs, or implicit (backward
Euler).

The anchor ("ref") is written here, faithful to DiffusionNet's ``layers.py``: learned times clamped >= 1e-8
before
each forward, spectral diffusion through ``evecs^T (mass x)`` and ``evecs``, gradients as two ``torch.mm``
with
sparse COO gradient matrices, gradient features with four complex-linear ``nn.Linear`` maps, ``MiniMLP`` with
``nn.Dropout``, batches of one mesh (a batch of 8 meshes is 8 forward/backward passes, then one Adam step).
Its
implicit mode builds a dense V x V Cholesky per channel (O(C V^3) time, C V^2 memory: 12.8 GB at 5k
vertices), so
it is not run. The two models get identical weights; their outputs are compared in evaluation mode.

Each row runs in its own process (so peak RSS is that configuration's alone) with OMP/MKL/torch threads set:
forward, backward and the Adam step are timed separately (median over the steps after the warm-up steps);
"setup" is the first step's extra cost (the implicit mode's factorizations, cached afterwards).
``--device cuda`` runs the same steps on the GPU (synchronized around each timed phase; peakMB is then the
device's peak allocation); ``benchmarks/gpu_check.py`` runs CPU and CUDA rows side by side.

Run (under the shared benchmark lock; operator bundles come from the cache, computed on first use)::

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/layers.py --quick
    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/layers.py > benchmarks/results/layers.txt 2>&1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("mass", "laplacian", "eigenbasis", "gradient", "hks")
IMPLICIT_FIELDS = ("mass", "laplacian", "gradient")


# ------------------------------------------------------------------------------------------------ cases
def _meshes(case: str):
    """The meshes of a benchmark case (loaded or generated here, never stored in the repo)."""
    import manifoldnet as mn
    from manifoldnet.paths import data_root

    data = data_root()
    if case == "faust":
        return [mn.load_mesh(data / "faust_5k" / "off" / "tr_reg_000.off")]
    if case == "faust8":
        return [mn.load_mesh(data / "faust_5k" / "off" / f"tr_reg_{i:03d}.off") for i in range(8)]
    if case == "rna":
        return [mn.load_mesh(data / "rna" / "off" / "5JUO_D.off")]
    if case == "torus20k":  # generated, for machines without the real data (gpu_check.py)
        return [mn.shapes.torus(1.0, 0.4, n_major=200, n_minor=100)]
    if case == "torus100k":
        return [mn.shapes.torus(1.0, 0.4, n_major=500, n_minor=200)]
    if case == "torus1m":
        return [mn.shapes.torus(1.0, 0.4, n_major=1600, n_minor=625)]
    raise ValueError(case)


def _bundles(case: str, diffusion: str):
    """Bundles from the cache. At 1M vertices the spectral rows use a stand-in basis (random evecs, sorted
    evals): the per-step cost does not depend on the values; the k=128 eigenbasis itself is a precompute."""
    from dataclasses import replace

    import numpy as np

    from manifoldnet.operators import OperatorCache

    cache = OperatorCache()
    spectral = diffusion == "spectral" and case != "torus1m"
    fields = FIELDS if spectral else IMPLICIT_FIELDS
    bundles = [cache.get(m, fields=fields, k=128) for m in _meshes(case)]
    if diffusion == "spectral" and not spectral:
        rng = np.random.default_rng(0)
        bundles = [
            replace(
                b,
                evals=np.sort(rng.uniform(0, 1e3, 128)),
                evecs=rng.normal(size=(b.n_verts, 128)).astype(np.float32),
            )
            for b in bundles
        ]
    return bundles


# Intrinsic patch convolutions at the DiffusionNet block's width (issue 14): name -> (model, options). They
# read the one-ring log map (OperatorSpec gauge "intrinsic"); inputs are random (the cost does not depend on
# them).
PATCH_MODELS = {
    "gcnn": ("gcnn", {}),  # GeodesicConv, 2 x 8 soft polar bins, angular max pooling
    "monet": ("monet", {}),  # MoNetConv, 8 learned Gaussian kernels, oriented by the gauge
    "monet-pooled": ("monet", {"orientation": "pooled", "n_rotations": 8}),
    # GemConv (issue 15): rho_0..rho_2 x 26 copies (130 channels), band limit 2, one ring, norm nonlinearity
    "gem": ("gem", {"dropout": 0.5}),
}
# the pooled MoNet keeps 8 rotations x 8 kernels x 128 channels per vertex for the backward pass of each
# of its 4 layers: ~13 GB at 100k vertices, more than this shared machine can spare
PATCH_SKIP = {"monet-pooled": ("torus100k",)}


def _patch_bundles(case: str, fields):
    from manifoldnet.operators import OperatorCache

    cache = OperatorCache()
    return [cache.get(m, fields=(*fields, "mass")) for m in _meshes(case)]


def _patch_build_ms(conv, ops, clock) -> float:
    """Building the patch operator of a new batch: a cold forward of one layer (structure, coordinates,
    kernels, the stacked CSR) minus a warm one, no gradients."""
    import torch

    x = torch.zeros(ops.n_verts, conv.in_channels, device=ops.device)
    with torch.no_grad():
        t0 = clock()
        conv(x, ops)
        t1 = clock()
        conv(x, ops)
        t2 = clock()
    return 1e3 * ((t1 - t0) - (t2 - t1))


# -------------------------------------------------------------------------------------- the reference
def reference_model(C_in, C_out, width=128, n_blocks=4, dropout=True):
    """DiffusionNet as its reference ``layers.py`` builds it (spectral diffusion)."""
    import torch
    from torch import nn

    class LearnedTimeDiffusionBlock(nn.Module):
        def __init__(self, C):
            super().__init__()
            self.diffusion_time = nn.Parameter(torch.zeros(C))

        def forward(self, x, mass, evals, evecs):
            with torch.no_grad():
                self.diffusion_time.data = torch.clamp(self.diffusion_time, min=1e-8)
            x_spec = evecs.transpose(-2, -1) @ (x * mass.unsqueeze(-1))  # to_basis
            coefs = torch.exp(-evals.unsqueeze(-1) * self.diffusion_time.unsqueeze(0))
            return evecs @ (coefs * x_spec)  # from_basis

    class SpatialGradientFeatures(nn.Module):
        def __init__(self, C):
            super().__init__()
            self.A_re = nn.Linear(C, C, bias=False)
            self.A_im = nn.Linear(C, C, bias=False)

        def forward(self, v):
            re, im = v[..., 0], v[..., 1]
            b_re = self.A_re(re) - self.A_im(im)
            b_im = self.A_re(im) + self.A_im(re)
            return torch.tanh(re * b_re + im * b_im)

    def mini_mlp(sizes):
        layers = []
        for i in range(len(sizes) - 1):
            if dropout and i > 0:
                layers.append(nn.Dropout(p=0.5))
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    class Block(nn.Module):
        def __init__(self, C):
            super().__init__()
            self.diffusion = LearnedTimeDiffusionBlock(C)
            self.gradient_features = SpatialGradientFeatures(C)
            self.mlp = mini_mlp([3 * C, C, C, C])

        def forward(self, x, mass, evals, evecs, gradX, gradY):
            xd = self.diffusion(x, mass, evals, evecs)
            grads = torch.stack((torch.mm(gradX, xd), torch.mm(gradY, xd)), dim=-1)
            g = self.gradient_features(grads)
            return self.mlp(torch.cat((x, xd, g), dim=-1)) + x

    class DiffusionNetRef(nn.Module):
        def __init__(self):
            super().__init__()
            self.first_lin = nn.Linear(C_in, width)
            self.blocks = nn.ModuleList(Block(width) for _ in range(n_blocks))
            self.last_lin = nn.Linear(width, C_out)

        def forward(self, x, mass, evals, evecs, gradX, gradY):
            x = self.first_lin(x)
            for b in self.blocks:
                x = b(x, mass, evals, evecs, gradX, gradY)
            return torch.nn.functional.log_softmax(self.last_lin(x), dim=-1)

    return DiffusionNetRef()


def copy_weights(ours, ref) -> None:
    """Give the reference model the weights (and diffusion times) of ours."""
    import torch

    with torch.no_grad():
        ref.first_lin.load_state_dict(ours.lin_in.state_dict())
        ref.last_lin.load_state_dict(ours.head.linear.state_dict())
        for a, b in zip(ours.blocks, ref.blocks, strict=True):
            b.diffusion.diffusion_time.copy_(a.diffusion.time)
            b.gradient_features.A_re.weight.copy_(a.gradient_features.weight_re)
            b.gradient_features.A_im.weight.copy_(a.gradient_features.weight_im)
            lin_a = [m for m in a.mlp if isinstance(m, torch.nn.Linear)]
            lin_b = [m for m in b.mlp if isinstance(m, torch.nn.Linear)]
            for la, lb in zip(lin_a, lin_b, strict=True):
                lb.load_state_dict(la.state_dict())


def _ref_inputs(bundle):
    """The reference's per-mesh tensors: mass, evals, evecs dense, gradX/gradY sparse COO (float32)."""
    import numpy as np
    import torch

    def coo(m):
        m = m.tocoo()
        idx = torch.from_numpy(np.vstack([m.row, m.col]).astype(np.int64))
        return torch.sparse_coo_tensor(idx, torch.from_numpy(m.data.astype(np.float32)), m.shape).coalesce()

    f = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float32))
    return f(bundle.mass), f(bundle.evals), f(bundle.evecs), coo(bundle.grad_x), coo(bundle.grad_y)


# ------------------------------------------------------------------------------------------ one child
def _set_times(model, areas, seed=0):
    """Realistic learned times: log-uniform in [1e-3, 1e-1] x mesh area (zero times make diffusion free)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    scale = float(sum(areas) / len(areas))
    for m in model.modules():
        if hasattr(m, "time") and isinstance(m.time, torch.nn.Parameter):
            with torch.no_grad():
                m.time.copy_(scale * 10 ** (-3 + 2 * torch.rand(m.time.shape, generator=gen)))


def run_child(cfg: dict) -> dict:
    import resource

    import numpy as np
    import torch

    from manifoldnet.data import collate_operators
    from manifoldnet.nn import DiffusionNet

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    device = torch.device(cfg.get("device", "cpu"))
    cuda = device.type == "cuda"

    def clock():  # CUDA runs asynchronously: wait for the device before reading the clock
        if cuda:
            torch.cuda.synchronize(device)
        return time.perf_counter()

    patch = PATCH_MODELS.get(cfg["impl"])
    if patch is not None:
        from manifoldnet.nn import build_model

        patch_model = build_model(patch[0], 16, 260, width=cfg.get("width", 128), **patch[1])
        bundles = _patch_bundles(cfg["case"], patch_model.required_fields)
    else:
        bundles = _bundles(cfg["case"], cfg["diffusion"])
    areas = [float(np.sum(b.mass)) for b in bundles]
    gen = torch.Generator().manual_seed(1)
    feats = [
        torch.from_numpy(np.array(b.hks)) if b.hks is not None else torch.randn(b.n_verts, 16, generator=gen)
        for b in bundles
    ]
    labels = [torch.randint(0, 260, (b.n_verts,), generator=gen) for b in bundles]
    feats, labels = [f.to(device) for f in feats], [y.to(device) for y in labels]
    width = cfg.get("width", 128)
    ours = None  # the DiffusionNet of this row, or the weights the reference copies
    if patch is None:
        ours = DiffusionNet(16, 260, width=width, diffusion=cfg["diffusion"], last_activation="log_softmax")
        _set_times(ours, areas)
    nll = torch.nn.functional.nll_loss
    build_ms = None
    if patch is not None:
        model = patch_model.to(device)
        ops = collate_operators(bundles, device=device)
        x, y = torch.cat(feats), torch.cat(labels)
        build_ms = _patch_build_ms(model.blocks[0].conv, ops, clock)

        def forward():
            return nll(model(x, ops), y)

        passes = 1
    elif cfg["impl"] == "ours":
        model = ours.to(device)
        ops = collate_operators(bundles, device=device)
        x, y = torch.cat(feats), torch.cat(labels)

        def forward():
            return nll(model(x, ops), y)

        passes = 1
    else:
        model = reference_model(16, 260, width=width)
        copy_weights(ours, model)
        model = model.to(device)
        refs = [tuple(t.to(device) for t in _ref_inputs(b)) for b in bundles]
        passes = len(bundles)
        state = {"i": 0}

        def forward():
            i = state["i"] % passes
            state["i"] += 1
            return nll(model(feats[i], *refs[i]), labels[i])

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    warm = cfg.get("warm", 2)
    times = []
    if cfg.get("infer"):  # evaluation forward without gradients: what fits at 1M vertices and width 128
        model.eval()
        with torch.no_grad():
            for _ in range(cfg["steps"] + warm):
                t0 = clock()
                forward()
                times.append([clock() - t0, 0.0, 0.0])
    for _ in range(0 if cfg.get("infer") else cfg["steps"] + warm):
        t = [0.0, 0.0, 0.0]
        opt.zero_grad()
        for _ in range(passes):  # the reference: one mesh per pass, gradients accumulated
            t0 = clock()
            loss = forward()
            t1 = clock()
            loss.backward()
            t2 = clock()
            t[0] += t1 - t0
            t[1] += t2 - t1
        t0 = clock()
        opt.step()
        t[2] = clock() - t0
        times.append(t)
    arr = np.array(times[warm:]) * 1e3
    first = float(np.sum(times[0]) * 1e3)
    med = np.median(arr, axis=0)
    return {
        "forward_ms": float(med[0]),
        "backward_ms": float(med[1]),
        "adam_ms": float(med[2]),
        "step_ms": float(np.median(arr.sum(1))),
        "setup_ms": max(0.0, first - float(np.median(arr.sum(1)))),
        "peak_rss_mb": torch.cuda.max_memory_allocated(device) / 2**20
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "verts": int(sum(b.n_verts for b in bundles)),
        "build_ms": build_ms,
    }


def compare_outputs() -> dict:
    """Max |ours - ref| / max |ref| of the log-probabilities in evaluation mode, faust, float32, both
    diffusions
    of ours checked against the reference's spectral one (spectral: equal; implicit: a different operator)."""
    import numpy as np
    import torch

    from manifoldnet.nn import DiffusionNet

    b = _bundles("faust", "spectral")[0]
    ours = DiffusionNet(16, 260, last_activation="log_softmax").eval()
    _set_times(ours, [float(np.sum(b.mass))])
    ref = reference_model(16, 260).eval()
    copy_weights(ours, ref)
    x = torch.from_numpy(np.array(b.hks))
    with torch.no_grad():
        a, r = ours(x, b.to()), ref(x, *_ref_inputs(b))
    return {"max_abs_diff": float((a - r).abs().max()), "max_abs_ref": float(r.abs().max())}


# ------------------------------------------------------------------------------------------------ table
def _spawn(cfg: dict, timeout: float | None = None) -> dict:
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(cfg["threads"])
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(cfg)],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="faust only, 3 steps")
    ap.add_argument("--cases", default="faust,rna,faust8,torus100k,torus1m")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--diffusion", default="spectral,implicit", help="DiffusionNet rows: spectral, implicit")
    ap.add_argument(
        "--patch-models",
        default=",".join(PATCH_MODELS),
        help=f"intrinsic patch convolution rows (width 128, not at 1M vertices), from {list(PATCH_MODELS)}",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        cfg = json.loads(args.child)
        print(json.dumps(compare_outputs() if cfg.get("compare") else run_child(cfg)))
        return 0
    cases = ["faust"] if args.quick else args.cases.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    steps = {"faust": 10, "rna": 5, "faust8": 3, "torus20k": 5, "torus100k": 3, "torus1m": 1}
    print(FOOTNOTES.strip())
    print("DiffusionNet 16 -> 260, width 128, 4 blocks, dropout 0.5, Adam; ms per training step (median)")
    print(f"python benchmarks/layers.py {' '.join(argv or sys.argv[1:])}".strip())
    cmp = _spawn({"compare": True, "threads": 1})
    print(
        f"equal outputs (faust, eval, float32): max |ours - ref| = {cmp.get('max_abs_diff', cmp)!s:.9} "
        f"(max |ref| {cmp.get('max_abs_ref', float('nan')):.3g})"
    )
    head = (
        f"{'case':10s} {'V':>8s} {'diffusion':9s} {'width':>5s} {'thr':>3s} {'impl':4s} {'fwd':>8s} "
        f"{'bwd':>8s} {'adam':>6s} {'step':>9s} {'setup':>8s} {'peakMB':>7s} {'ref/ours':>8s}"
    )
    print(head)
    print("-" * len(head))
    dn_step, patch_rows = {}, []
    patch_models = [m for m in args.patch_models.split(",") if m]
    for case in cases:
        for diffusion in args.diffusion.split(","):
            for thr in threads:
                rows = [{"width": 128}]
                if case in BIG:
                    if thr > 1:
                        continue
                    # width 128 training needs ~40 GB at 1M vertices (activations of 4 blocks): forward only
                    # at
                    # width 128, and a training step at width 32
                    rows = [{"width": 128, "infer": True, "warm": 1}, {"width": 32, "warm": 1}]
                for extra in rows:
                    n = 3 if args.quick else steps[case]
                    impls = ("ours", "ref") if diffusion == "spectral" and case not in BIG else ("ours",)
                    res = {}
                    for impl in impls:
                        cfg = {
                            "case": case,
                            "diffusion": diffusion,
                            "threads": thr,
                            "impl": impl,
                            "steps": n,
                            "device": args.device,
                            **extra,
                        }
                        if case == "torus100k" and diffusion == "implicit":
                            cfg.update(steps=1, warm=1)
                        res[impl] = _spawn(cfg)
                    for impl in impls:
                        _print_row(case, diffusion, thr, impl, extra, res)
                    if diffusion == "spectral" and not extra.get("infer") and "step_ms" in res["ours"]:
                        dn_step[(case, thr, extra["width"])] = res["ours"]["step_ms"]
        for thr in threads if case not in BIG else ():
            for name in patch_models:
                if case in PATCH_SKIP.get(name, ()):
                    continue
                n = 3 if args.quick else steps[case]
                cfg = {"case": case, "threads": thr, "impl": name, "steps": n, "device": args.device}
                patch_rows.append((case, thr, name, _spawn({**cfg, "diffusion": "-", "width": 128})))
    if patch_rows:
        _print_patch_rows(patch_rows, dn_step)
    return 0


def _print_patch_rows(rows, dn_step):
    """The intrinsic patch convolutions' table (issue 14): same meshes, same width, same run."""
    print(
        "\nIntrinsic patch convolutions, same shape (16 -> 260, width 128, 4 residual blocks, dropout 0.5,"
        " Adam),\none-ring log map (intrinsic gauge); build = building the patch operator of a new batch (one"
        " layer, cold\nminus warm forward); DN/this = the DiffusionNet spectral step above / this step"
    )
    head = (
        f"{'case':10s} {'V':>8s} {'model':12s} {'thr':>3s} {'fwd':>8s} {'bwd':>8s} {'adam':>6s} {'step':>9s} "
        f"{'setup':>8s} {'build':>7s} {'peakMB':>7s} {'DN/this':>7s}"
    )
    print(head)
    print("-" * len(head))
    for case, thr, name, r in rows:
        if "error" in r:
            print(f"{case:10s} {'':>8s} {name:12s} {thr:3d} error: {r['error']}", flush=True)
            continue
        dn = dn_step.get((case, thr, 128))
        ratio = f"{dn / r['step_ms']:.2f}x" if dn else ""
        print(
            f"{case:10s} {r['verts']:8d} {name:12s} {thr:3d} {r['forward_ms']:8.1f} {r['backward_ms']:8.1f} "
            f"{r['adam_ms']:6.1f} {r['step_ms']:9.1f} {r['setup_ms']:8.0f} {r['build_ms']:7.1f} "
            f"{r['peak_rss_mb']:7.0f} {ratio:>7s}",
            flush=True,
        )


def _print_row(case, diffusion, thr, impl, extra, res):
    r = res[impl]
    mode = f"{extra['width']}{'i' if extra.get('infer') else ''}"
    label = diffusion + ("*" if case in BIG and diffusion == "spectral" else "")
    if "error" in r:
        print(f"{case:10s} {'':>8s} {label:9s} {mode:>5s} {thr:3d} {impl:4s} error: {r['error']}", flush=True)
        return
    ratio = ""
    if impl == "ours" and "ref" in res and "step_ms" in res["ref"]:
        ratio = f"{res['ref']['step_ms'] / r['step_ms']:.2f}x"
    print(
        f"{case:10s} {r['verts']:8d} {label:9s} {mode:>5s} {thr:3d} {impl:4s} {r['forward_ms']:8.1f} "
        f"{r['backward_ms']:8.1f} {r['adam_ms']:6.1f} {r['step_ms']:9.1f} {r['setup_ms']:8.0f} "
        f"{r['peak_rss_mb']:7.0f} {ratio:>8s}",
        flush=True,
    )


BIG = ("torus1m",)
FOOTNOTES = """
width 128i: evaluation forward only (no gradients); * spectral at 1M vertices with a stand-in basis (random
evecs, 512 MB): the per-step cost is real, the k=128 eigenbasis itself is a precompute (see
benchmarks/scale.py).
Reference rows run one mesh per pass (faust8: 8 passes, one Adam step). setup = the first step's extra time.
"""


if __name__ == "__main__":
    sys.exit(main())
