"""The training config: YAML and TOML files, typed dotted overrides, unknown keys refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifoldnet.tasks import Config, ConfigError, load_config, make_task, parse_overrides, save_config
from manifoldnet.tasks.config import config_to_dict

YAML = """
task: segmentation
features: [xyz, hks]
data: {name: rna, val_fraction: 0.2}
model:
  name: diffusionnet
  width: 64
  options: {diffusion: implicit}
train: {epochs: 7, augment_scale: [0.8, 1.2]}
"""

TOML = """
task = "segmentation"
features = ["xyz", "hks"]
[data]
name = "rna"
val_fraction = 0.2
[model]
name = "diffusionnet"
width = 64
options = {diffusion = "implicit"}
[train]
epochs = 7
augment_scale = [0.8, 1.2]
"""


def test_yaml_and_toml_give_the_same_config(tmp_path):
    a = load_config(_write(tmp_path / "a.yaml", YAML))
    b = load_config(_write(tmp_path / "b.toml", TOML))
    assert a == b
    assert a.model.width == 64 and a.train.epochs == 7 and a.data.val_fraction == 0.2
    assert a.model.options == {"diffusion": "implicit"}
    assert a.optim == Config().optim  # untouched sections keep their defaults


def test_overrides_are_typed_by_their_field(tmp_path):
    c = load_config(
        _write(tmp_path / "a.yaml", YAML),
        [
            "train.epochs=5",
            "model.dropout=0",
            "optim.lr=3e-4",
            "features=xyz,normals",
            "train.augment_scale=[]",
            "data.root=null",
            "train.progress=false",
            "model.options.width_scale=2",
            "data.name=folder",
        ],
    )
    assert c.train.epochs == 5 and isinstance(c.train.epochs, int)
    assert c.model.dropout == 0.0 and isinstance(c.model.dropout, float)
    assert c.optim.lr == pytest.approx(3e-4)
    assert c.features == ["xyz", "normals"]
    assert c.train.augment_scale == []
    assert c.data.root is None and c.train.progress is False
    assert c.model.options == {"diffusion": "implicit", "width_scale": 2}  # merged, not replaced
    assert c.data.name == "folder" and c.data.val_fraction == 0.2
    assert load_config(None, ["features=[hks]"]).features == ["hks"]


@pytest.mark.parametrize(
    "override, words",
    [
        ("model.widht=3", ["'model.widht'", "did you mean 'width'", "name, width, n_blocks"]),
        ("trian.epochs=3", ["'trian'", "did you mean 'train'", "valid keys at the top level"]),
        ("train.epochs=many", ["'train.epochs'", "int", "'many'"]),
        ("train.epochs=2.5", ["'train.epochs'", "int"]),
        ("optim.lr=fast", ["'optim.lr'", "float"]),
        ("train.progress=maybe", ["'train.progress'", "bool"]),
        ("model=3", ["'model'", "mapping"]),
        ("epochs", ["not key=value"]),
    ],
)
def test_bad_keys_and_values_are_named(override, words):
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    for w in words:
        assert w in str(info.value)


def test_file_errors_name_the_file_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'train.epoch'.*did you mean 'epochs'"):
        load_config(_write(tmp_path / "c.yaml", "train: {epoch: 3}\n"))
    with pytest.raises(ConfigError, match=r"c.toml: not valid TOML"):
        load_config(_write(tmp_path / "c.toml", "train = [\n"))
    with pytest.raises(ConfigError, match=r"\.json.*\.yaml, \.yml or \.toml"):
        load_config(_write(tmp_path / "c.json", "{}"))
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


def test_task_model_and_feature_names_are_checked():
    with pytest.raises(ConfigError, match=r"unknown task 'segmentaton'.*'segmentation'"):
        make_task(load_config(None, ["task=segmentaton"]))
    with pytest.raises(ConfigError, match=r"unknown feature 'curvature'.*'features'.*'xyz'"):
        make_task(load_config(None, ["features=[curvature]"]))
    with pytest.raises(ConfigError, match=r"unknown config key 'task_options.smoothing'.*label_smoothing"):
        make_task(load_config(None, ["task_options.smoothing=0.1"]))
    task = make_task(load_config(None, ["model.name=resnet", "data.n_classes=3", "data.name=generated"]))
    with pytest.raises(ConfigError, match=r"unknown model 'resnet'.*'diffusionnet'"):
        task.build_model()


def test_saved_config_loads_back_identical(tmp_path):
    c = load_config(_write(tmp_path / "a.yaml", YAML), ["data.root=/some/where", "train.seed=3"])
    path = save_config(c, tmp_path / "run" / "config.yaml") if (tmp_path / "run").mkdir() is None else None
    assert load_config(path) == c
    assert set(config_to_dict(c)) == {f for f in Config.__dataclass_fields__}


def test_override_parser_nests_dotted_keys():
    assert parse_overrides(["a.b.c=1", "a.b.d=x", "e=[1, 2]"]) == {
        "a": {"b": {"c": 1, "d": "x"}},
        "e": [1, 2],
    }


def _write(path, text):
    path.write_text(text)
    return path


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.*"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_configs_load_make_their_task_and_build_their_model(path):
    """Every config in configs/ parses with its types, makes its task, names a registered model whose options
    it accepts, and asks for operators the spec takes (the data is not read: the head is a stand-in)."""
    torch = pytest.importorskip("torch")
    from manifoldnet.nn import build_model
    from manifoldnet.operators import OperatorSpec

    config = load_config(path)
    task = make_task(config)
    assert task.name == config.task
    m = config.model
    model = build_model(m.name, 3, 4, width=m.width, n_blocks=m.n_blocks, dropout=m.dropout, **m.options)
    assert isinstance(model, torch.nn.Module) and sum(p.numel() for p in model.parameters()) > 0
    spec = task.operator_spec(model)  # every operators key through OperatorSpec's own checks
    assert isinstance(spec, OperatorSpec) and set(model.required_fields) <= set(spec.fields)
    assert (spec.k, spec.gauge) == (config.operators.k, config.operators.gauge)


def test_operators_patch_rings_reach_the_spec():
    """operators.patch_rings asks a patches model for n-ring patches; a bad or a second size is named."""
    pytest.importorskip("torch")
    from manifoldnet.nn import build_model

    model = build_model("monet", 3, 4, neighbourhood="patches")
    path = next(p for p in SHIPPED if p.name == "rna_monet.yaml")
    task = make_task(load_config(path, ["operators.patch_rings=2"]))
    spec = task.operator_spec(model)
    assert spec.patch_rings == 2 and spec.patch_k is None and "patches" in spec.fields
    with pytest.raises(ConfigError, match=r"'operators.patch_rings'.*int"):
        load_config(path, ["operators.patch_rings=1.5"])
    task = make_task(load_config(path, ["operators.patch_rings=2", "operators.patch_k=8"]))
    with pytest.raises(ConfigError, match=r"exactly one of .*patch_rings=.*section 'operators'"):
        task.operator_spec(model)


def test_operators_gauge_reaches_the_spec():
    """operators.gauge orients the log maps a gauge-dependent layer reads; an unknown gauge is named."""
    pytest.importorskip("torch")
    from manifoldnet.nn import build_model

    model = build_model("monet", 3, 4)
    path = next(p for p in SHIPPED if p.name == "rna_monet.yaml")
    assert make_task(load_config(path)).operator_spec(model).gauge == "intrinsic"
    assert make_task(load_config(path, ["operators.gauge=world"])).operator_spec(model).gauge == "world"
    task = make_task(load_config(path, ["operators.gauge=north"]))
    with pytest.raises(ConfigError, match=r"gauge.*north.*section 'operators'"):
        task.operator_spec(model)


def test_shipped_configs_are_found():
    assert {"rna_diffusionnet.yaml", "faust_diffusionnet.yaml", "rna_monet.yaml"} <= {p.name for p in SHIPPED}
