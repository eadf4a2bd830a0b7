"""The training pipeline: ``tf.data`` autotuning is off unless asked for (no idle epoch starts)."""

from __future__ import annotations

import dataclasses

import numpy as np
import ptychopinn
from ptychopinn.config import ModelConfig, TrainingConfig

from ptychopinn_tf.options import TFOptions


def test_make_dataset_turns_autotune_off_by_default(small_scan):
    from ptychopinn.grouping import make_grouped_scan

    from ptychopinn_tf.data import make_dataset

    grouped = make_grouped_scan(small_scan, gridsize=1)
    kw = {"network_scale": 1.0, "batch_size": 4, "shuffle": True, "seed": 0}
    assert make_dataset(grouped, **kw).options().autotune.enabled is False
    assert make_dataset(grouped, prefetch=0, **kw).options().autotune.enabled is False
    assert make_dataset(grouped, autotune=True, **kw).options().autotune.enabled is True
    (x, off), y = next(iter(make_dataset(grouped, **kw)))
    assert x.shape == (4, 64, 64, 1) and off.shape == (4, 1, 2) and y.shape == x.shape


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
        model_config=ModelConfig(N=64, n_filters_scale=1),
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
        model_config=ModelConfig(N=64, n_filters_scale=1),
        training_config=dataclasses.replace(tc, epochs=1),
        options=opts,
    )
    assert built and all(ds.options().autotune.enabled is True for ds in built)
    assert np.isfinite(model.training_summary.history["loss"]).all()
