"""Training through the public API: history, callbacks, strategies, precision, model types."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import ptychopinn
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.errors import ConfigError, ScanDataError

from ptychopinn_tf.options import TFOptions

SMALL = ModelConfig(N=64, gridsize=1, n_filters_scale=1)
QUICK = TrainingConfig(epochs=3, batch_size=4, validation_fraction=0.0, early_stopping_patience=None)
QUIET = TFOptions(verbose=0)


def _train(scan, model_config=SMALL, training_config=QUICK, options=QUIET):
    return ptychopinn.train(
        scan, backend="tensorflow", model_config=model_config, training_config=training_config, options=options
    )


@pytest.fixture(scope="module")
def gs2_model(small_scan):
    tc = dataclasses.replace(QUICK, validation_fraction=0.25, plateau_patience=0, early_stopping_patience=5)
    return _train(small_scan, ModelConfig(N=64, gridsize=2, n_filters_scale=1), tc)


def test_gridsize2_with_validation_records_history(gs2_model):
    s = gs2_model.training_summary
    assert gs2_model.backend == "tensorflow" and gs2_model.model_config.gridsize == 2
    assert s.n_validation_groups > 0 and s.n_train_groups > 0
    for key in ("loss", "val_loss", "learning_rate", "epoch_time_s"):
        assert len(s.history[key]) == s.epochs_run, key
        assert np.all(np.isfinite(s.history[key])), key
    assert s.epochs_run == 3 and not s.stopped_early
    assert s.wall_time_s >= sum(s.history["epoch_time_s"]) * 0.99
    # plateau_patience=0: the rate halves whenever val_loss does not improve, never below the floor
    lr = np.asarray(s.history["learning_rate"])
    assert np.all(lr <= 1e-3 + 1e-9) and np.all(lr >= 1e-4 - 1e-9)
    val = np.asarray(s.history["val_loss"])
    for e in range(1, len(val)):
        if val[e] >= np.min(val[:e]):
            assert lr[e] == pytest.approx(max(lr[e - 1] * 0.5, 1e-4), rel=1e-5)


def test_loss_is_the_documented_pinn_loss(small_scan):
    """After training, Keras' evaluation of the loss equals the numpy oracle on the same weights."""
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.physics import forward_amplitude, normalise_probe, poisson_half_deviance

    from ptychopinn_tf.data import make_dataset
    from ptychopinn_tf.inference import build_predictor  # noqa: F401  (import check)
    from ptychopinn_tf.model import PtychoPINNModel, pinn_loss
    from ptychopinn_tf.network import Generator

    model = _train(small_scan, training_config=dataclasses.replace(QUICK, epochs=1, mae_weight=0.5))
    cfg = model.model_config
    grouped = make_grouped_scan(small_scan, gridsize=1)
    norm = model.normalisation
    keras_model = PtychoPINNModel(cfg, model.probe, canvas_size=64)
    keras_model.build_variables()
    keras_model.set_canonical(model.weights)
    ds = make_dataset(grouped, network_scale=norm.network_scale, batch_size=64, shuffle=False, seed=0)
    (x, off), y = next(iter(ds))
    a_hat = keras_model((x, off)).numpy()
    got = float(pinn_loss(input_scale=norm.input_scale, training_config=model.training_config)(y, a_hat))
    gen = Generator(cfg)
    gen.build_variables()
    gen.set_canonical(model.weights)
    amp, phase = (t.numpy() for t in gen(x))
    obj = np.transpose(amp * np.exp(1j * phase), (0, 3, 1, 2))
    probe = normalise_probe(model.probe, reference_transmission=cfg.reference_transmission)
    a_ref = forward_amplitude(obj, probe, None)
    x_cf = np.transpose(x.numpy(), (0, 3, 1, 2))
    s = norm.input_scale
    ref = poisson_half_deviance(a_ref / s, x_cf / s) + 0.5 * float(np.mean(np.abs(a_ref - x_cf)))
    assert got == pytest.approx(ref, rel=1e-4)


def test_mirrored_strategy_single_cpu_replica_matches_default(small_scan):
    """One full batch: the mirrored step computes the same loss and update as the default one."""
    tc = dataclasses.replace(QUICK, epochs=2, batch_size=16)
    default = _train(small_scan, training_config=tc)
    mirrored = _train(
        small_scan, training_config=tc, options=TFOptions(verbose=0, strategy="mirrored", devices=("/cpu:0",))
    )
    assert mirrored.metadata["strategy"] == "mirrored" and mirrored.metadata["replicas"] == "1"
    loss = np.asarray(mirrored.training_summary.history["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    np.testing.assert_allclose(loss, default.training_summary.history["loss"], rtol=1e-5)
    for name, value in default.weights.items():
        np.testing.assert_allclose(mirrored.weights[name], value, rtol=1e-3, atol=1e-4, err_msg=name)


def test_mixed_bfloat16_trains_and_returns_float32_weights(small_scan):
    model = _train(small_scan, options=TFOptions(verbose=0, precision="mixed_bfloat16"))
    loss = np.asarray(model.training_summary.history["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    assert all(w.dtype == np.float32 for w in model.weights.values())
    assert model.metadata["precision"] == "mixed_bfloat16"


def test_xla_compiled_training_runs(small_scan):
    model = _train(
        small_scan,
        ModelConfig(N=64, gridsize=2, n_filters_scale=1),
        dataclasses.replace(QUICK, epochs=2),
        TFOptions(verbose=0, jit_compile=True),
    )
    assert np.all(np.isfinite(model.training_summary.history["loss"]))


def test_trainable_log_scale_moves_only_when_trainable(small_scan):
    fixed = _train(small_scan, training_config=dataclasses.replace(QUICK, epochs=1))
    assert float(fixed.weights["physics.log_scale"]) == 0.0
    moving = _train(
        small_scan,
        dataclasses.replace(SMALL, intensity_scale_trainable=True),
        dataclasses.replace(QUICK, epochs=1, learning_rate=1e-2),
    )
    assert float(moving.weights["physics.log_scale"]) != 0.0


def test_supervised_training_uses_ground_truth(small_scan):
    model = _train(small_scan, dataclasses.replace(SMALL, model_type="supervised"))
    loss = np.asarray(model.training_summary.history["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]


def test_supervised_without_ground_truth_is_a_clear_error(small_scan):
    from ptychopinn.data import ScanData

    bare = ScanData(diffraction=small_scan.diffraction, positions=small_scan.positions, probe=small_scan.probe)
    with pytest.raises((ConfigError, ScanDataError), match="ground-truth|objectGuess"):
        _train(bare, dataclasses.replace(SMALL, model_type="supervised"))


def test_unknown_option_key_fails_before_training(small_scan):
    with pytest.raises(ConfigError, match="'strategie'"):
        _train(small_scan, options={"strategie": "mirrored"})


def test_plateau_threshold_is_absolute(small_scan):
    """``plateau_min_delta`` is an absolute decrease: larger than any progress, patience 0 -> the rate drops."""
    tc = dataclasses.replace(QUICK, plateau_patience=0, plateau_min_delta=1e9, min_learning_rate=0.0)
    model = _train(small_scan, training_config=tc)
    lr = model.training_summary.history["learning_rate"]
    assert all(b < a for a, b in zip(lr, lr[1:], strict=False)), lr
