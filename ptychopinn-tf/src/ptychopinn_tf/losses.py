"""Training losses: core's formulas (:mod:`ptychopinn.physics.array_losses`) in TensorFlow.

Means over every element.

Channels-first tensors, float32. :func:`keras_loss` wraps them for ``model.compile`` (Keras
passes ``(y_true, y_pred)``; the supervised model output holds real and imaginary parts).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from ptychopinn.config import TrainingConfig
from ptychopinn.physics.array_losses import pinn_loss_with, supervised_loss_with

from ptychopinn_tf._env import tf_keras

tf, _ = tf_keras()

__all__ = ["OPS", "keras_loss", "pinn_loss", "split_complex", "stack_complex", "supervised_loss"]

OPS = SimpleNamespace(
    log=tf.math.log, xlogy=tf.math.xlogy, abs=tf.abs, angle=tf.math.angle, mean=tf.reduce_mean
)
"""TensorFlow's functions for core's loss formulas."""


def pinn_loss(predicted: Any, observed: Any, *, input_scale: float, nll_weight: float, mae_weight: float) -> Any:
    """:func:`~ptychopinn.physics.array_losses.pinn_loss_with` on (B, C, N, N) amplitudes in
    network units (cast to float32): a () float32 tensor."""
    return pinn_loss_with(
        tf.cast(predicted, tf.float32), tf.cast(observed, tf.float32),
        input_scale=input_scale, nll_weight=nll_weight, mae_weight=mae_weight, ops=OPS,
    )


def supervised_loss(obj: Any, truth: Any) -> Any:
    """:func:`~ptychopinn.physics.array_losses.supervised_loss_with` on (B, C, N, N) complex64 patches."""
    return supervised_loss_with(obj, truth, OPS)


def stack_complex(z: Any) -> Any:
    """(B, C, N, N) complex64 -> (B, 2C, N, N) float32 ``[real, imag]`` (a Keras-friendly output)."""
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=1)


def split_complex(y: Any) -> Any:
    """The inverse of :func:`stack_complex`."""
    real, imag = tf.split(tf.cast(y, tf.float32), 2, axis=1)
    return tf.complex(real, imag)


def keras_loss(model_type: str, *, input_scale: float, training_config: TrainingConfig) -> Callable[[Any, Any], Any]:
    """The ``(y_true, y_pred)`` loss of ``model.compile`` for ``pinn`` or ``supervised`` training."""
    if model_type == "supervised":
        return lambda y_true, y_pred: supervised_loss(split_complex(y_pred), split_complex(y_true))
    s, w_nll, w_mae = float(input_scale), float(training_config.nll_weight), float(training_config.mae_weight)
    return lambda y_true, y_pred: pinn_loss(y_pred, y_true, input_scale=s, nll_weight=w_nll, mae_weight=w_mae)
