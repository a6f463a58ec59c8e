"""``benchmarks/gpu_check.py`` on a machine without a usable GPU: it says so and exits 0; a GPU that
nvidia-smi lists but torch cannot use is an error pointing at the README (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def _run(env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120)


def test_no_gpu_says_so_and_exits_0():
    out = _run({"CUDA_VISIBLE_DEVICES": ""})  # hides any GPU, so this path runs on every machine
    assert out.returncode == 0, out.stderr
    assert "no CUDA GPU on this machine (CUDA_VISIBLE_DEVICES hides them); nothing to check" in out.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a torch without a usable CUDA")
@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for nvidia-smi")
def test_gpu_that_torch_cannot_use_is_an_error(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA Stand-in (UUID: GPU-0000)'\n")
    fake.chmod(0o755)
    out = _run({"PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert out.returncode == 1
    assert "nvidia-smi lists 1 GPU(s) (GPU 0: NVIDIA Stand-in" in out.stdout
    assert "install a CUDA build of torch" in out.stdout and "README" in out.stdout
