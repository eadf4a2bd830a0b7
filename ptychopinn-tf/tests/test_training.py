"""Training through the public API: both architectures, history, callbacks, strategies, precision,
model types, the documented loss and the ``tf.data`` pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import ptychopinn
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.architecture import expected_shapes
from ptychopinn.errors import ConfigError, ScanDataError

from ptychopinn_tf.options import TFOptions

SMALL = ModelConfig(N=64, gridsize=1, n_filters_scale=1, architecture="fast")  # the cheap one; published: below
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


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_each_architecture_trains_and_the_loss_falls(small_scan, architecture):
    cfg = dataclasses.replace(SMALL, architecture=architecture)
    model = _train(small_scan, cfg)
    loss = np.asarray(model.training_summary.history["loss"])
    assert len(loss) == 3 and np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    assert model.backend == "tensorflow" and model.model_config.architecture == architecture
    shapes = expected_shapes(cfg)
    assert set(model.weights) == set(shapes)
    assert all(model.weights[k].shape == s and model.weights[k].dtype == np.float32 for k, s in shapes.items())


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


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_loss_is_the_documented_pinn_loss(small_scan, architecture):
    """Keras' loss of the trained model equals the numpy oracle on core's reference network output."""
    from ptychopinn.architecture import reference_predict
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.physics import forward_amplitude, normalise_probe, poisson_half_deviance

    from ptychopinn_tf.data import make_dataset
    from ptychopinn_tf.losses import keras_loss
    from ptychopinn_tf.training_model import PtychoPINNModel
    from ptychopinn_tf.weights import load_network_weights

    cfg = dataclasses.replace(SMALL, architecture=architecture)
    model = _train(small_scan, cfg, training_config=dataclasses.replace(QUICK, epochs=1, mae_weight=0.5))
    grouped = make_grouped_scan(small_scan, gridsize=1)
    norm = model.normalisation
    keras_model = PtychoPINNModel(cfg, model.probe, canvas_size=64)
    load_network_weights(keras_model.network, model.weights)
    ds = make_dataset(grouped, network_scale=norm.network_scale, batch_size=64, shuffle=False, seed=0)
    (x, off), y = next(iter(ds))
    a_hat = keras_model((x, off))
    loss = keras_loss("pinn", input_scale=norm.input_scale, training_config=model.training_config)
    got = float(loss(y, a_hat))
    x_cf = x.numpy()
    obj = reference_predict(cfg, model.weights, x_cf)
    probe = normalise_probe(model.probe, reference_transmission=cfg.reference_transmission)
    a_ref = forward_amplitude(obj, probe, None)
    np.testing.assert_allclose(a_hat.numpy(), a_ref, rtol=1e-4, atol=1e-4 * a_ref.max())
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
    # Adam normalises each step by |gradient|: components whose gradient is at rounding level may move by up
    # to lr in either build, so a handful of elements (not more than 0.1 %) may differ.
    for name, value in default.weights.items():
        off = np.abs(mirrored.weights[name] - value) > 1e-4 + 1e-3 * np.abs(value)
        assert off.mean() <= 1e-3, (name, int(off.sum()))


def test_mixed_bfloat16_trains_and_returns_float32_weights(small_scan):
    cfg = dataclasses.replace(SMALL, architecture="fast")
    model = _train(small_scan, cfg, options=TFOptions(verbose=0, precision="mixed_bfloat16"))
    loss = np.asarray(model.training_summary.history["loss"])
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
    assert all(w.dtype == np.float32 for w in model.weights.values())
    assert model.metadata["precision"] == "mixed_bfloat16"


def test_xla_compiled_training_runs(small_scan):
    model = _train(
        small_scan,
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, architecture="fast"),
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
    model = _train(small_scan, dataclasses.replace(SMALL, model_type="supervised", architecture="fast"))
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


def test_make_dataset_turns_autotune_off_by_default(small_scan):
    from ptychopinn.grouping import make_grouped_scan

    from ptychopinn_tf.data import make_dataset

    grouped = make_grouped_scan(small_scan, gridsize=1)
    kw = {"network_scale": 1.0, "batch_size": 4, "shuffle": True, "seed": 0}
    assert make_dataset(grouped, **kw).options().autotune.enabled is False
    assert make_dataset(grouped, prefetch=0, **kw).options().autotune.enabled is False
    assert make_dataset(grouped, autotune=True, **kw).options().autotune.enabled is True
    (x, off), y = next(iter(make_dataset(grouped, **kw)))
    assert x.shape == (4, 1, 64, 64) and off.shape == (4, 1, 2) and y.shape == x.shape


def test_supervised_batches_hold_the_ground_truth(small_scan):
    from ptychopinn.grouping import make_grouped_scan

    from ptychopinn_tf.data import load_batch

    grouped = make_grouped_scan(small_scan, gridsize=2, seed=0, with_ground_truth=True)
    groups = np.array([3, 0])
    x, off, y = load_batch(grouped, groups, network_scale=2.0, supervised=True)
    np.testing.assert_array_equal(x, 2.0 * grouped.select(groups).batch_diffraction(0, 2))
    np.testing.assert_array_equal(off, grouped.offsets[groups].astype(np.float32))
    gt = grouped.select(groups).batch_ground_truth(0, 2)
    assert y.shape == (2, 8, 64, 64)
    np.testing.assert_array_equal(y[:, :4] + 1j * y[:, 4:], gt)


def test_training_uses_the_untuned_pipeline_and_records_first_steps(small_scan, monkeypatch):
    from ptychopinn_tf import training

    built = []
    real = training.make_dataset

    def spy(*args, **kwargs):
        ds = real(*args, **kwargs)
        built.append(ds)
        return ds

    monkeypatch.setattr(training, "make_dataset", spy)
    tc = TrainingConfig(epochs=2, batch_size=4, validation_fraction=0.25, early_stopping_patience=None)
    model = ptychopinn.train(
        small_scan,
        backend="tensorflow",
        model_config=SMALL,
        training_config=tc,
        options=TFOptions(verbose=0),
    )
    assert len(built) == 2  # training and validation
    assert all(ds.options().autotune.enabled is False for ds in built)
    h = model.training_summary.history
    assert len(h["first_step_s"]) == 2
    assert all(0 < f <= e for f, e in zip(h["first_step_s"], h["epoch_time_s"], strict=True))
    built.clear()
    opts = dataclasses.replace(TFOptions(verbose=0), data_autotune=True)
    ptychopinn.train(
        small_scan,
        backend="tensorflow",
        model_config=SMALL,
        training_config=dataclasses.replace(tc, epochs=1),
        options=opts,
    )
    assert built and all(ds.options().autotune.enabled is True for ds in built)
    assert np.isfinite(model.training_summary.history["loss"]).all()
