"""``manifoldnet train`` / ``eval`` refuse bad configs with one line on stderr and exit code 2."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from manifoldnet import cli
from manifoldnet.data.generated import generated_benchmark, write_benchmark
from tests.tasks.helpers_tasks import small_config, write_config


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder dataset (off/, labels/, train.txt, test.txt) of 6 small generated meshes."""
    bench = generated_benchmark(n_per_family=3, families=("blob", "torus"), n_verts=(120, 150))
    return write_benchmark(bench, tmp_path_factory.mktemp("folder") / "data")


def _train(tmp_path, capsys, cfg, *overrides):
    path = write_config(cfg, tmp_path / "c.yaml")
    code = cli.main(["train", str(path), *overrides])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["model.name=unet"], ["unknown model 'unet'", "diffusionnet"]),
        (["features=[xyz,curvature]"], ["unknown feature 'curvature'", "hks"]),
        (["model.widht=3"], ["unknown config key 'model.widht'", "did you mean 'width'"]),
        (["task=segmentaion"], ["unknown task 'segmentaion'"]),
        (["optim.name=adagrad"], ["unknown optimizer 'adagrad'", "optim.name"]),
        (["train.epochs=0"], ["'train.epochs' must be >= 1"]),
        (["model.options.heads=3"], ["model 'diffusionnet'", "heads"]),
        (["--device", "gpu9", "train.epochs=1"], ["device 'gpu9'", "cpu, cuda or cuda:N"]),  # options first
    ],
)
def test_bad_names_and_keys(tmp_path, capsys, folder, overrides, words):
    cfg = small_config(tmp_path, data={"name": "folder", "root": str(folder)})
    code, err = _train(tmp_path, capsys, cfg, *overrides)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("manifoldnet train: error: ")
    for w in words:
        assert w in err
    assert not (tmp_path / "run" / "last.pt").exists()


def test_label_file_of_the_wrong_length(tmp_path, capsys, folder):
    name = (folder / "train.txt").read_text().split()[1]
    labels = folder / "labels" / f"{name}.txt"
    good = labels.read_text()
    try:
        np.savetxt(labels, np.zeros(7, dtype=int), fmt="%d")
        code, err = _train(
            tmp_path, capsys, small_config(tmp_path, data={"name": "folder", "root": str(folder)})
        )
    finally:
        labels.write_text(good)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{name}.txt: 7 labels match neither" in err


def test_missing_data_folder(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, err = _train(
        tmp_path, capsys, small_config(tmp_path, data={"name": "folder", "root": str(missing)})
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"data folder not found: {missing}" in err
    code, err = _train(tmp_path, capsys, small_config(tmp_path, data={"name": "rna", "root": str(missing)}))
    assert code == 2 and "RNA segmentation (rna) data not found" in err


def test_resume_without_a_checkpoint_and_a_rerun_over_one(tmp_path, capsys, folder):
    cfg = small_config(tmp_path, data={"name": "folder", "root": str(folder)}, train={"epochs": 1})
    code, err = _train(tmp_path, capsys, cfg, "--resume")
    assert code == 2 and "--resume: no checkpoint" in err
    assert _train(tmp_path, capsys, cfg)[0] == 0
    code, err = _train(tmp_path, capsys, cfg)
    assert code == 2 and "already holds a checkpoint: pass --resume" in err


def test_eval_errors(tmp_path, capsys):
    assert cli.main(["eval", str(tmp_path / "none.pt"), "test"]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    assert cli.main(["eval", str(tmp_path / "junk.pt"), "test"]) == 2
    err = capsys.readouterr().err
    assert "not a readable checkpoint" in err and len(err.strip().splitlines()) == 1
