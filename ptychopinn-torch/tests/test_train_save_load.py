"""Tiny end-to-end runs: train (pinn, supervised), save -> load -> infer, refusal of bad bundles."""

from __future__ import annotations

import dataclasses
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import training_data

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import BundleError
from ptychopinn_torch import _plugin
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.weights import expected_shapes

OPTS = TorchOptions(accelerator="cpu", num_threads=1, enable_progress_bar=False)


@pytest.fixture(scope="module")
def trained(small_scan):
    data = training_data(small_scan, 1)
    model = _plugin.ptychopinn_train(
        data=data,
        model_config=ModelConfig(n_filters_scale=1, intensity_scale_trainable=True),
        training_config=TrainingConfig(epochs=3, batch_size=8, early_stopping_patience=None),
        options=OPTS,
    )
    return model, data


def test_train_returns_canonical_model_and_history(trained) -> None:
    model, data = trained
    assert model.backend == "pytorch" and model.backend_version
    want = expected_shapes(model.model_config)
    assert {k: v.shape for k, v in model.weights.items()} == want
    assert all(v.dtype == np.float32 for v in model.weights.values())
    s = model.training_summary
    assert s is not None and s.epochs_run == 3
    for key in ("loss", "val_loss", "learning_rate"):
        assert len(s.history[key]) == 3 and all(np.isfinite(s.history[key]))
    assert s.history["loss"][-1] < s.history["loss"][0]
    assert s.n_train_groups == data.train.n_groups and s.n_validation_groups == 4
    # the trainable log scale moved (it is not dead weight)
    assert float(model.weights["physics.log_scale"]) != 0.0
    np.testing.assert_array_equal(model.probe, data.probe)


def test_save_load_infer_bit_identical(trained, tmp_path: Path) -> None:
    model, data = trained
    path = _plugin.ptychopinn_save(model=model, path=tmp_path / "m.ptychopinn.zip")
    loaded = _plugin.ptychopinn_load(path=path, options=None)
    assert loaded.backend == "pytorch" and loaded.source_backend is None
    for k, v in model.weights.items():
        np.testing.assert_array_equal(loaded.weights[k], v)
    cfg = InferenceConfig(batch_size=5)
    a = _plugin.ptychopinn_infer(model=model, data=data.train, config=cfg, options=OPTS)
    b = _plugin.ptychopinn_infer(model=loaded, data=data.train, config=cfg, options=OPTS)
    assert a.patches.dtype == np.complex64 and a.patches.shape == (data.train.n_groups, 64, 64)
    assert a.backend == "pytorch"
    np.testing.assert_array_equal(a.positions, data.train.centres)
    assert np.array_equal(a.patches, b.patches)


def test_bundle_from_another_backend_loads_with_source(trained, tmp_path: Path) -> None:
    model, _ = trained
    other = dataclasses.replace(model, backend="tensorflow", backend_version="0.1.0")
    from ptychopinn.bundle import write_bundle

    path = write_bundle(other, tmp_path / "tf.ptychopinn.zip", backend_distribution="ptychopinn-tf")
    loaded = _plugin.ptychopinn_load(path=path, options=None)
    assert loaded.backend == "pytorch" and loaded.source_backend == "tensorflow"


def test_bundle_with_wrong_architecture_is_refused(trained, tmp_path: Path) -> None:
    model, _ = trained
    weights = dict(model.weights)
    weights["encoder.0.conv0.weight"] = np.zeros((3, 1, 3, 3), np.float32)
    path = _plugin.ptychopinn_save(model=dataclasses.replace(model, weights=weights), path=tmp_path / "bad.zip")
    with pytest.raises(BundleError, match=r"encoder\.0\.conv0\.weight"):
        _plugin.ptychopinn_load(path=path, options=None)
    del weights["encoder.0.conv0.weight"]
    path = _plugin.ptychopinn_save(model=dataclasses.replace(model, weights=weights), path=tmp_path / "bad2.zip")
    with pytest.raises(BundleError, match="missing"):
        _plugin.ptychopinn_load(path=path, options=None)


class _Boom:
    def __reduce__(self):
        return (Path.touch, (Path(_Boom.marker),))


def test_bundle_with_pickle_payload_is_refused_without_loading(trained, tmp_path: Path) -> None:
    model, _ = trained
    good = _plugin.ptychopinn_save(model=model, path=tmp_path / "good.zip")
    _Boom.marker = str(tmp_path / "pwned")
    payload = pickle.dumps({"state_dict": _Boom()})
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    for member, data in (("weights.safetensors", payload), ("model.pth", payload)):
        bad = tmp_path / f"evil-{member}.zip"
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr("manifest.json", json.dumps(manifest))
            zf.writestr(member, data)
        with pytest.raises(BundleError):
            _plugin.ptychopinn_load(path=bad, options=None)
    assert not (tmp_path / "pwned").exists()
    # sanity: the payload really would have run on unpickling
    pickle.loads(payload)
    assert (tmp_path / "pwned").exists()


def test_supervised_training_runs(small_scan) -> None:
    from ptychopinn.data import GroupedScan

    diff, pos, probe, obj = small_scan
    data = training_data(small_scan, 1)
    N = 64
    truth = np.asarray(
        [obj[int(y) - N // 2 : int(y) + N // 2, int(x) - N // 2 : int(x) + N // 2] for x, y in pos], np.complex64
    )
    train = dataclasses.replace(data.train, ground_truth=truth)
    assert isinstance(train, GroupedScan)
    model = _plugin.ptychopinn_train(
        data=dataclasses.replace(data, train=train, validation=None),
        model_config=ModelConfig(n_filters_scale=1, model_type="supervised"),
        training_config=TrainingConfig(epochs=2, batch_size=8),
        options=OPTS,
    )
    h = model.training_summary.history
    assert "val_loss" not in h and len(h["loss"]) == 2 and h["loss"][1] < h["loss"][0]


def test_infer_rejects_wrong_gridsize(trained, small_scan) -> None:
    from ptychopinn.errors import ConfigError

    model, _ = trained
    data2 = training_data(small_scan, 2)
    with pytest.raises(ConfigError, match="gridsize"):
        _plugin.ptychopinn_infer(model=model, data=data2.train, config=InferenceConfig(), options=OPTS)


def test_plateau_threshold_is_absolute(small_scan) -> None:
    """``plateau_min_delta`` is an absolute loss decrease (Keras semantics): with a threshold larger than any
    progress and patience 0 the rate halves every epoch. (torch's default relative threshold never fired on
    the old negative NLL, so the first PyTorch runs trained at a constant rate.)"""
    tc = TrainingConfig(
        epochs=4,
        batch_size=8,
        early_stopping_patience=None,
        plateau_patience=0,
        plateau_min_delta=1e9,
        min_learning_rate=0.0,
    )
    model = _plugin.ptychopinn_train(
        data=training_data(small_scan, 1), model_config=ModelConfig(n_filters_scale=1), training_config=tc, options=OPTS
    )
    lr = model.training_summary.history["learning_rate"]
    # epoch 1 always improves on +inf; every later epoch is a plateau -> halved at least twice in 4 epochs
    assert lr[-1] <= 0.25 * lr[0] * (1 + 1e-6), lr
