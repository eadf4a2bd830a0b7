"""The ``train`` hook's implementation: Keras ``model.fit`` on a ``tf.data`` pipeline, any architecture."""

from __future__ import annotations

import time

import numpy as np
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.plugins.training_result import trained_model
from ptychopinn.results import TrainedModel, TrainingData

from ptychopinn_tf._env import apply_threads, make_strategy, tf_keras
from ptychopinn_tf._version import __version__
from ptychopinn_tf.data import make_dataset
from ptychopinn_tf.losses import keras_loss
from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.physics import static_canvas_size
from ptychopinn_tf.training_model import PtychoPINNModel
from ptychopinn_tf.weights import network_weights

tf, keras = tf_keras()

__all__ = ["train"]


class _EpochRecorder(keras.callbacks.Callback):
    """Records the learning rate, the wall time of every epoch (the first one includes tracing)
    and the wall time from the start of each epoch to the end of its first training step."""

    def __init__(self) -> None:
        super().__init__()
        self.learning_rate: list[float] = []
        self.epoch_time: list[float] = []
        self.first_step_time: list[float] = []
        self._t0 = 0.0
        self._first = True

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._t0 = time.perf_counter()
        self._first = True

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self._first:
            self.first_step_time.append(time.perf_counter() - self._t0)
            self._first = False

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epoch_time.append(time.perf_counter() - self._t0)
        lr = self.model.optimizer.learning_rate
        self.learning_rate.append(float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr)))


def train(
    data: TrainingData, model_config: ModelConfig, training_config: TrainingConfig, options: TFOptions
) -> TrainedModel:
    """Train with ``model.fit`` and return the model with canonical numpy weights.

    Core has checked ``data`` against ``model_config`` (pattern and group size, ground truth)
    before calling the hook. The network starts from core's
    :func:`~ptychopinn.architecture.init_weights` with ``training_config.seed``.

    History keys: ``loss``, ``val_loss`` (with validation groups), ``learning_rate`` and
    ``epoch_time_s`` (wall seconds per epoch; epoch 1 includes graph tracing) and
    ``first_step_s`` (wall seconds from the start of each epoch to the end of its first
    training step: one step plus any idle time at the start of the epoch).
    """
    apply_threads(options)
    tc = training_config
    supervised = model_config.model_type == "supervised"
    offsets = [data.train.offsets] + ([data.validation.offsets] if data.validation is not None else [])
    canvas = static_canvas_size(np.concatenate([o.reshape(-1, 2) for o in offsets]), model_config.N)
    strategy = make_strategy(options)
    with strategy.scope():
        model = PtychoPINNModel(
            model_config, data.probe, canvas_size=canvas, seed=tc.seed, dtype_policy=options.precision
        )
        model.build_variables()
        optimizer = keras.optimizers.Adam(learning_rate=tc.learning_rate)
        if options.precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        loss = keras_loss(model_config.model_type, input_scale=data.normalisation.input_scale, training_config=tc)
        model.compile(
            optimizer=optimizer,
            loss=loss,
            jit_compile=options.jit_compile,
            steps_per_execution=options.steps_per_execution,
        )
    scale = data.normalisation.network_scale
    common = {
        "network_scale": scale,
        "batch_size": tc.batch_size,
        "supervised": supervised,
        "prefetch": options.prefetch,
        "autotune": options.data_autotune,
    }
    train_ds = make_dataset(data.train, shuffle=True, seed=tc.seed, **common)
    has_val = data.validation is not None and data.validation.n_groups > 0
    val_ds = make_dataset(data.validation, shuffle=False, seed=tc.seed, **common) if has_val else None
    monitor = "val_loss" if has_val else "loss"
    recorder = _EpochRecorder()
    callbacks: list = [
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor,
            factor=tc.plateau_factor,
            patience=tc.plateau_patience,
            min_lr=tc.min_learning_rate,
            min_delta=tc.plateau_min_delta,
        ),
        recorder,
    ]
    stopper = None
    if tc.early_stopping_patience is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=tc.early_stopping_patience, min_delta=tc.plateau_min_delta
        )
        callbacks.append(stopper)
    t0 = time.perf_counter()
    fit = model.fit(
        train_ds, validation_data=val_ds, epochs=tc.epochs, callbacks=callbacks, verbose=options.verbose, shuffle=False
    )
    wall = time.perf_counter() - t0
    history = {k: tuple(float(v) for v in vals) for k, vals in fit.history.items() if k != "learning_rate"}
    history["learning_rate"] = tuple(recorder.learning_rate)
    history["epoch_time_s"] = tuple(recorder.epoch_time)
    history["first_step_s"] = tuple(recorder.first_step_time)
    return trained_model(
        data, model_config, tc, backend="tensorflow", backend_version=__version__,
        weights=network_weights(model.network), epochs_run=len(history.get("loss", ())), history=history,
        wall_time_s=wall, stopped_early=stopper is not None and stopper.stopped_epoch > 0,
        metadata={
            "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "precision": options.precision,
            "strategy": options.strategy,
            "replicas": str(strategy.num_replicas_in_sync),
        },
    )
