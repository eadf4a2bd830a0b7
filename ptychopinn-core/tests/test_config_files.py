"""Configuration files (TOML/YAML): strict keys, validation messages, backend options untouched, migration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ptychopinn.config.files import RunConfig, config_to_mapping, dump_toml, load_config
from ptychopinn.config.migrate import migrate_mapping
from ptychopinn.errors import ConfigError

TOML = """
backend = "torch"

[model]
N = 128
gridsize = 2
object_big = false

[training]
epochs = 7
learning_rate = 5e-4

[inference]
batch_size = 64

[backend_options]
accelerator = "cpu"
precision = "16-mixed"
[backend_options.strategy]
name = "ddp"
devices = 2
"""


def test_toml_round_trip_and_backend_options_passed_through(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(TOML)
    cfg = load_config(path)
    assert cfg.backend == "torch" and cfg.training_backend == "torch" and cfg.inference_backend == "torch"
    assert cfg.model.N == 128 and cfg.model.gridsize == 2 and cfg.model.object_big is False
    assert cfg.training.epochs == 7 and cfg.training.learning_rate == 5e-4 and cfg.inference.batch_size == 64
    assert cfg.backend_options == {"accelerator": "cpu", "precision": "16-mixed",
                                   "strategy": {"name": "ddp", "devices": 2}}
    again = tmp_path / "again.toml"
    again.write_text(dump_toml(config_to_mapping(cfg)))
    assert load_config(again) == RunConfig(**{**cfg.__dict__, "source": str(again)})


def test_yaml_with_numeric_strings(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("model:\n  gridsize: 2\ntraining:\n  learning_rate: 1e-3\n  epochs: 4\n")
    cfg = load_config(path)
    assert cfg.training.learning_rate == pytest.approx(1e-3) and cfg.model.gridsize == 2


@pytest.mark.parametrize(
    ("text", "key"),
    [("[model]\nNN = 64\n", "model.NN"), ("[training]\nnepochs = 3\n", "training.nepochs"),
     ("gridsize = 2\n", "gridsize"), ("[modle]\nN = 64\n", "modle")],
)
def test_unknown_key_names_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"'{key}'" in str(info.value) and str(path) in str(info.value)


def test_did_you_mean_for_a_misspelt_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[training]\nepoch = 3\n")
    with pytest.raises(ConfigError, match="Did you mean 'epochs'"):
        load_config(path)


def test_invalid_value_names_field_and_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  N: 100\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "ModelConfig.N" in str(info.value) and str(path) in str(info.value)


def test_unparseable_and_unsupported_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[model\nN=")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(broken)
    other = tmp_path / "cfg.json"
    other.write_text("{}")
    with pytest.raises(ConfigError, match="unsupported"):
        load_config(other)
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.toml")


LEGACY = {
    "model": {"N": 64, "gridsize": 2, "object.big": True, "probe.big": False, "amp_activation": "silu"},
    "probe.mask": True,
    "probe.trainable": True,
    "intensity_scale.trainable": True,
    "n_images": 512,
    "nepochs": 30,
    "nphotons": 1e9,
    "mae_weight": 0.0,
    "nll_weight": 1.0,
    "probe_scale": 4.0,
    "tv_weight": 0.1,
    "train_data_file": "train.npz",
    "backend": "pytorch",
    "torch_loss_mode": "poisson",
    "mystery": 1,
}


def test_migrate_maps_legacy_names_and_reports_every_key() -> None:
    report = migrate_mapping(LEGACY)
    cfg = report.config
    assert cfg.model.gridsize == 2 and cfg.model.object_big is True and cfg.model.probe_big is False
    assert cfg.model.probe_mask is True and cfg.model.intensity_scale_trainable is True
    assert cfg.model.amp_activation == "swish"
    assert cfg.training.n_groups == 512 and cfg.training.epochs == 30 and cfg.training.nphotons == 1e9
    assert cfg.backend == "pytorch"
    by_key = {c.legacy_key: c for c in report.changes}
    assert by_key["model.object.big"].new_key == "model.object_big"
    assert by_key["n_images"].action == "renamed" and by_key["n_images"].new_key == "training.n_groups"
    assert by_key["nepochs"].new_key == "training.epochs"
    for dropped in ("probe.trainable", "probe_scale", "tv_weight", "train_data_file", "torch_loss_mode", "mystery"):
        assert by_key[dropped].action == "dropped" and by_key[dropped].new_key is None, dropped
    assert "reference_transmission" in by_key["probe_scale"].note
    assert len(report.changes) == len(LEGACY) - 1 + len(LEGACY["model"])
    text = dump_toml(config_to_mapping(cfg, only_changed=True))
    assert tomllib.loads(text)["training"]["epochs"] == 30


def test_migrate_conflicting_aliases_and_invalid_values() -> None:
    with pytest.raises(ConfigError, match="'n_images' and 'n_groups'"):
        migrate_mapping({"n_images": 10, "n_groups": 20})
    with pytest.raises(ConfigError, match="nepochs"):
        migrate_mapping({"nepochs": 0})
