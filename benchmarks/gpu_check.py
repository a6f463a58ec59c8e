"""One prepared check for a machine with a CUDA GPU (issue 17): tests, layers and the heat method on ``cuda``.

Run it with the Python of an environment built as the README's Install section says for GPU users (a CUDA
build of torch, then ``make test`` or ``pip install -e ".[test]"``); it installs nothing itself::

    .venv/bin/python benchmarks/gpu_check.py          # at most 7.5 minutes: each step has a time limit

Steps (each a subprocess with a time limit, so one hang cannot eat the others' time; all together < 8 min):

1. environment: torch and its CUDA version, the GPU.
2. the device-parametrized tests (the ``device`` fixture of ``tests/nn/layer_fixtures.py``) on ``cuda`` only:
   ``pytest tests -k cuda`` (test ids end in ``[cuda]`` / ``[cuda-...]``).
3. ``benchmarks/layers.py`` children: a DiffusionNet training step (16 -> 260, width 128) on CPU (all cores)
   and on CUDA side by side, spectral (ours and the reference layers) and implicit; FAUST (``tr_reg_000``)
   when the real data is there, else a generated 20k-vertex torus.
4. the CUDA heat method (:class:`manifoldnet.nn.TorchHeatMethod`): distances from 16 sources on CPU and CUDA
   (CHOLMOD and CG), each against the scipy solver.

It prints one table and exits 0 when every step passed, 1 otherwise. Where no CUDA GPU is visible it says so
and exits 0 (a GPU that ``nvidia-smi`` lists but this torch cannot use is a failure: install a CUDA build).
``--device cpu`` rehearses the same steps on the CPU (``--tests`` picks the tests then), so the script itself
can be checked on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"environment": 30, "tests": 180, "layers": 150, "heat": 90}  # seconds; 450 in all


def _gpu_names() -> list[str]:
    """GPUs nvidia-smi lists (none without the tool or a driver)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.splitlines() if line.startswith("GPU")]


def _hidden() -> bool:
    return os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")


def _run(cmd: list[str], limit: float, env: dict | None = None) -> tuple[int | None, str, float]:
    """(exit code or None on timeout, stdout + stderr, seconds)."""
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        return None, text or "", time.perf_counter() - t0
    return out.returncode, out.stdout + out.stderr, time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------ steps
def environment(device: str) -> dict:
    """Child: torch, CUDA and the device's name."""
    import torch

    import manifoldnet

    name = torch.cuda.get_device_name(0) if device == "cuda" else f"{os.cpu_count()} CPU cores"
    return {
        "result": f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
        f"manifoldnet {manifoldnet.__version__}, {name}",
        "ok": device != "cuda" or torch.cuda.is_available(),
    }


def tests_step(device: str, select: str, limit: float) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-k", select]
    rc, text, seconds = _run([*cmd, "tests"], limit)
    counts = dict(
        (word, int(n)) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", text)
    )
    summary = ", ".join(f"{counts.get(w, 0)} {w}" for w in ("passed", "failed", "skipped"))
    if counts.get("error") or counts.get("errors"):
        summary += f", {counts.get('error', 0) + counts.get('errors', 0)} errors"
    if rc is None:
        return {"result": f"timed out after {limit:.0f} s", "ok": False, "seconds": seconds}
    failed = [ln for ln in text.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    ok = rc == 0 and counts.get("passed", 0) > 0
    return {"result": summary, "ok": ok, "seconds": seconds, "detail": failed[:10]}


def _layers_module():
    spec = importlib.util.spec_from_file_location(
        "manifoldnet_bench_layers", ROOT / "benchmarks" / "layers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layers_rows(device: str, limit: float) -> list[dict]:
    from manifoldnet.paths import data_root

    layers = _layers_module()
    case = "faust" if (data_root() / "faust_5k" / "off" / "tr_reg_000.off").exists() else "torus20k"
    threads = min(os.cpu_count() or 1, 16)
    plan = dict.fromkeys(  # (with --device cpu the duplicates go)
        [
            ("spectral", "ours", "cpu"),
            ("spectral", "ours", device),
            ("spectral", "ref", device),
            ("implicit", "ours", "cpu"),
            ("implicit", "ours", device),
        ]
    )
    deadline = time.perf_counter() + limit
    rows = []
    for diffusion, impl, dev in plan:
        left = deadline - time.perf_counter()
        what = f"layers {case} {diffusion} {impl}"
        if left < 5:
            rows.append({"step": what, "device": dev, "result": "not run: out of time", "ok": False})
            continue
        cfg = {"case": case, "diffusion": diffusion, "threads": threads, "impl": impl, "steps": 3, "warm": 1}
        t0 = time.perf_counter()
        r = layers._spawn({**cfg, "device": dev}, timeout=left)
        row = {"step": what, "device": dev, "seconds": time.perf_counter() - t0}
        if "error" in r:
            row.update(result=r["error"][:70], ok=False)
        else:
            row.update(
                result=f"step {r['step_ms']:.1f} ms (fwd {r['forward_ms']:.1f}, bwd {r['backward_ms']:.1f}), "
                f"peak {r['peak_rss_mb']:.0f} MB, {threads if dev == 'cpu' else 1} thr",
                ok=True,
            )
        rows.append(row)
    return rows


def heat(device: str) -> list[dict]:
    """Child: TorchHeatMethod (CHOLMOD and CG) on the CPU and on ``device``: one row each, 16 sources, the
    time of one batched call and the largest difference from the scipy solver (relative to the largest
    distance)."""
    import numpy as np
    import torch

    import manifoldnet as mn
    from manifoldnet.geometry import HeatMethodSolver
    from manifoldnet.nn import TorchHeatMethod
    from manifoldnet.paths import data_root

    path = data_root() / "faust_5k" / "off" / "tr_reg_000.off"
    mesh = mn.load_mesh(path) if path.exists() else mn.shapes.icosphere(6)
    sources = [[int(i)] for i in np.linspace(0, mesh.n_verts - 1, 16).astype(int)]
    t0 = time.perf_counter()
    solver = HeatMethodSolver(mesh)
    reference = np.stack([solver.distance(s) for s in sources])
    setup = time.perf_counter() - t0
    rows = []

    def timed(hm, dev):
        hm.distances(sources[:2], device=dev)  # factorization / transfer, not timed
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t = time.perf_counter()
        d = hm.distances(sources, device=dev)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return d.cpu().numpy(), time.perf_counter() - t

    scale = float(np.max(reference[np.isfinite(reference)]))
    for backend in ("cholmod", "cg"):
        for dev in dict.fromkeys(("cpu", device)):
            row = {"step": f"heat method {backend}, {mesh.n_verts} v", "device": dev}
            try:
                d, seconds = timed(TorchHeatMethod(solver, backend=backend), torch.device(dev))
            except Exception as exc:  # noqa: BLE001 - reported in the table; the other rows still run
                rows.append({**row, "result": f"{type(exc).__name__}: {exc}"[:90], "ok": False})
                continue
            err = float(np.max(np.abs(d - reference))) / scale
            result = f"16 sources {seconds * 1e3:.0f} ms (scipy setup {setup:.1f} s); vs scipy {err:.1e}"
            rows.append({**row, "result": result, "ok": bool(err < 1e-4), "seconds": seconds})
    return rows


# ------------------------------------------------------------------------------------------------ main
def _child(step: str, device: str, limit: float):
    rc, text, seconds = _run([sys.executable, __file__, "--child", step, "--device", device], limit)
    if rc is None:
        return {"result": f"timed out after {limit:.0f} s", "ok": False, "seconds": seconds}
    lines = text.strip().splitlines()
    if rc != 0 or not lines:
        return {"result": f"failed: {lines[-1] if lines else rc}"[:90], "ok": False, "seconds": seconds}
    result = json.loads(lines[-1])
    return {**result, "seconds": seconds} if isinstance(result, dict) else result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default); cpu rehearses the steps without a GPU")
    ap.add_argument("--tests", default=None, help="pytest -k expression (default: the device's name)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps({"environment": environment, "heat": heat}[args.child](args.device)))
        return 0

    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            gpus = [] if _hidden() else _gpu_names()
            if gpus:
                print(
                    f"gpu_check: nvidia-smi lists {len(gpus)} GPU(s) ({gpus[0]}) but torch "
                    f"{torch.__version__} (CUDA {torch.version.cuda}) cannot use them: install a CUDA "
                    "build of torch into this environment as the README's Install section says, then rerun."
                )
                return 1
            why = "CUDA_VISIBLE_DEVICES hides them" if _hidden() else "no NVIDIA driver or GPU found"
            print(f"gpu_check: no CUDA GPU on this machine ({why}); nothing to check. Exit 0.")
            return 0

    t_start = time.perf_counter()
    env = _child("environment", args.device, LIMITS["environment"])
    rows = [{"step": "environment", "device": args.device, **env}]
    test = tests_step(args.device, args.tests or args.device, LIMITS["tests"])
    rows.append({"step": f"tests -k {args.tests or args.device!r}", "device": args.device, **test})
    rows += layers_rows(args.device, LIMITS["layers"])
    heat_rows = _child("heat", args.device, LIMITS["heat"])
    if isinstance(heat_rows, dict):  # the child failed or timed out: one row says so
        heat_rows = [{"step": "heat method", "device": args.device, **heat_rows}]
    rows += heat_rows
    total = time.perf_counter() - t_start

    width = max(len(r["step"]) for r in rows)
    print(f"{'step':{width}s}  {'device':8s} {'status':6s} {'seconds':>7s}  result")
    for r in rows:
        secs = f"{r['seconds']:7.1f}" if "seconds" in r else f"{'':7s}"
        status = "ok" if r["ok"] else "FAIL"
        print(f"{r['step']:{width}s}  {r['device']:8s} {status:6s} {secs}  {r['result']}")
        for line in r.get("detail") or []:
            print(f"{'':{width}s}  {line}")
    ok = all(r["ok"] for r in rows)
    print(f"{'total':{width}s}  {'':8s} {'ok' if ok else 'FAIL':6s} {total:7.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
