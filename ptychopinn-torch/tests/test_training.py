"""Training: any architecture trains (the loss falls) and comes back as a canonical ``TrainedModel``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import training_data

from ptychopinn.architecture import expected_shapes
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn_torch import _plugin
from ptychopinn_torch.options import TorchOptions

OPTS = TorchOptions(accelerator="cpu", num_threads=1, enable_progress_bar=False)


@pytest.fixture(scope="module", params=["published", "fast"])
def trained(request, small_scan):
    data = training_data(small_scan, 1)
    model = _plugin.PLUGIN.ptychopinn_train(
        data=data,
        model_config=ModelConfig(architecture=request.param, n_filters_scale=1, intensity_scale_trainable=True),
        training_config=TrainingConfig(epochs=3, batch_size=8, early_stopping_patience=None),
        options=OPTS,
    )
    return model, data


def test_training_lowers_the_loss_and_returns_a_canonical_model(trained) -> None:
    model, data = trained
    assert model.backend == "pytorch" and model.backend_version
    assert {k: v.shape for k, v in model.weights.items()} == expected_shapes(model.model_config)
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in model.weights.values())
    s = model.training_summary
    assert s is not None and s.epochs_run == 3
    for key in ("loss", "val_loss", "learning_rate"):
        assert len(s.history[key]) == 3 and all(np.isfinite(s.history[key]))
    assert s.history["loss"][-1] < s.history["loss"][0]
    assert s.n_train_groups == data.train.n_groups and s.n_validation_groups == 4
    assert float(model.weights["physics.log_scale"]) != 0.0  # the trainable log scale moved
    np.testing.assert_array_equal(model.probe, data.probe)


def test_trained_model_runs_through_core(trained, tmp_path) -> None:
    """Core saves and loads the bundle; the loaded model predicts exactly what the trained one does."""
    from ptychopinn.api import get_backend, load_model, save_model
    from ptychopinn.config import InferenceConfig

    model, data = trained
    loaded = load_model(save_model(model, tmp_path / "m.ptychopinn.zip"))
    backend = get_backend("pytorch")
    a = backend.infer(model, data.train, InferenceConfig(batch_size=5), OPTS)
    b = backend.infer(loaded, data.train, InferenceConfig(batch_size=5), OPTS)
    assert a.patches.shape == (data.train.n_groups, 64, 64) and np.isfinite(a.patches).all()
    np.testing.assert_array_equal(a.patches, b.patches)


def test_fixed_log_scale_stays_zero(small_scan) -> None:
    model = _plugin.PLUGIN.ptychopinn_train(
        data=training_data(small_scan, 1, n_val=0),
        model_config=ModelConfig(architecture="fast", n_filters_scale=1),
        training_config=TrainingConfig(epochs=1, batch_size=8),
        options=OPTS,
    )
    assert float(model.weights["physics.log_scale"]) == 0.0
    assert "val_loss" not in model.training_summary.history


def test_gridsize2_trains(small_scan) -> None:
    model = _plugin.PLUGIN.ptychopinn_train(
        data=training_data(small_scan, 2, n_val=0),
        model_config=ModelConfig(architecture="fast", n_filters_scale=1, gridsize=2),
        training_config=TrainingConfig(epochs=2, batch_size=5),
        options=OPTS,
    )
    h = model.training_summary.history["loss"]
    assert len(h) == 2 and h[1] < h[0]


def test_supervised_training_runs(small_scan) -> None:
    diff, pos, probe, obj = small_scan
    data = training_data(small_scan, 1)
    N = 64
    truth = np.asarray(
        [obj[int(y) - N // 2 : int(y) + N // 2, int(x) - N // 2 : int(x) + N // 2] for x, y in pos], np.complex64
    )
    train = dataclasses.replace(data.train, ground_truth=truth)
    model = _plugin.PLUGIN.ptychopinn_train(
        data=dataclasses.replace(data, train=train, validation=None),
        model_config=ModelConfig(architecture="fast", n_filters_scale=1, model_type="supervised"),
        training_config=TrainingConfig(epochs=2, batch_size=8),
        options=OPTS,
    )
    h = model.training_summary.history
    assert "val_loss" not in h and len(h["loss"]) == 2 and h["loss"][1] < h["loss"][0]


def test_plateau_threshold_is_absolute(small_scan) -> None:
    """``plateau_min_delta`` is an absolute loss decrease (Keras semantics): with a threshold larger than any
    progress and patience 0 the rate halves every epoch after the first."""
    tc = TrainingConfig(
        epochs=4,
        batch_size=8,
        early_stopping_patience=None,
        plateau_patience=0,
        plateau_min_delta=1e9,
        min_learning_rate=0.0,
    )
    model = _plugin.PLUGIN.ptychopinn_train(
        data=training_data(small_scan, 1),
        model_config=ModelConfig(architecture="fast", n_filters_scale=1),
        training_config=tc,
        options=OPTS,
    )
    lr = model.training_summary.history["learning_rate"]
    assert lr[-1] <= 0.25 * lr[0] * (1 + 1e-6), lr


def test_threads_are_restored_after_training(small_scan) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _plugin.PLUGIN.ptychopinn_train(
            data=training_data(small_scan, 1, n_val=0),
            model_config=ModelConfig(architecture="fast", n_filters_scale=1),
            training_config=TrainingConfig(epochs=1, batch_size=16),
            options=OPTS,
        )
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
