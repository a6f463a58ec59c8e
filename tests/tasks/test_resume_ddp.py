"""The two promises of the loop: a run killed mid-epoch (SIGKILL) and resumed ends with the same parameters
as an uninterrupted run, and 2 DDP processes (gloo) take the step one process takes on the global batch."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from manifoldnet.tasks import config_from_dict, make_task
from manifoldnet.tasks.checkpoint import load_checkpoint
from manifoldnet.tasks.loop import epoch_order, shard, train
from tests.tasks.helpers_tasks import ROOT, cli, cli_env, free_port, small_config, write_config


def _params(path):
    return load_checkpoint(path)["model"]


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_parameters(tmp_path):
    # dropout and random rotations on: a resume that lost a random state would differ
    # 16 training meshes one per step: the kill after step 1 of epoch 2 leaves 15 steps of margin
    sections = {
        "features": ["xyz", "hks"],
        "data": {"n_per_family": 5},
        "model": {"dropout": 0.5, "width": 24},
        "train": {"epochs": 3, "batch_size": 1},
    }
    ref_cfg = small_config(tmp_path / "ref", **sections)
    train(config_from_dict(ref_cfg))

    cfg = small_config(tmp_path / "killed", **sections)
    cfg["train"]["log_every"] = 1
    path = write_config(cfg, tmp_path / "killed.yaml")
    out = tmp_path / "killed" / "run"
    proc = subprocess.Popen(
        cli("train", path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("epoch 2/3 step 1/"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(seen)
    assert load_checkpoint(out / "last.pt")["epoch"] == 1  # killed inside epoch 2

    done = subprocess.run(
        cli("train", path, "--resume"), capture_output=True, text=True, env=cli_env(), cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stdout and "epoch 2/3" in done.stdout
    a, b = _params(tmp_path / "ref" / "run" / "last.pt"), _params(out / "last.pt")
    assert load_checkpoint(out / "last.pt")["epoch"] == 3
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=0, msg=name)


def test_shards_cover_the_epoch_order_like_distributed_sampler():
    order = epoch_order(7, seed=3, epoch=2)
    assert sorted(order) == list(range(7)) and order == epoch_order(7, 3, 2) and order != epoch_order(7, 3, 3)
    parts = [shard(order, r, 3) for r in range(3)]
    assert [len(p) for p in parts] == [3, 3, 3]
    assert sorted(sum(parts, [])) == sorted(order + order[:2])  # padded by repeating from the start


_WORKER = """
import sys, torch
from manifoldnet.tasks import load_config
from manifoldnet.tasks.loop import train
result = train(load_config(sys.argv[1]))
torch.save(result.model.state_dict(), sys.argv[2])
"""


@pytest.mark.timeout(300)
def test_two_gloo_processes_step_like_one_process_on_the_global_batch(tmp_path):
    # 2 training meshes: one step of 2 meshes in one process, or of 1 mesh in each of 2 processes
    sections = {
        "features": ["xyz", "hks"],
        "data": {"limit": 2},
        "model": {"dropout": 0.0},
        "optim": {"name": "sgd", "lr": 0.1, "momentum": 0.0},
        "train": {"epochs": 1},
    }
    single = small_config(tmp_path / "one", **sections)
    single["train"]["batch_size"] = 2
    result = train(config_from_dict(single))
    ref = result.model.state_dict()

    cfg = small_config(tmp_path / "two", **sections)
    cfg["train"]["batch_size"] = 1
    path = write_config(cfg, tmp_path / "two.yaml")
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    port = free_port()
    procs = []
    for rank in range(2):
        env = cli_env(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1")
        env["MASTER_PORT"] = str(port)
        args = [sys.executable, str(script), str(path), str(tmp_path / f"rank{rank}.pt")]
        procs.append(
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        )
    logs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    torch.manual_seed(0)  # the loop's initialisation: seed, then the task's model
    before = make_task(config_from_dict(single)).build_model().state_dict()
    moved = 0
    for name in ref:
        torch.testing.assert_close(
            ranks[1][name], ranks[0][name], rtol=0, atol=0, msg=f"ranks differ: {name}"
        )
        torch.testing.assert_close(
            ranks[0][name], ref[name], rtol=1e-5, atol=1e-6, msg=f"1 vs 2 processes: {name}"
        )
        moved += int(not torch.equal(ref[name], before[name]))
    assert (
        moved > len(ref) // 2
    )  # the step changed the parameters (the comparison is not of untouched weights)
    assert "2 process(es)" in logs[0]
