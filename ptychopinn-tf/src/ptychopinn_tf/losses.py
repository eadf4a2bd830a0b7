"""Training losses (twins of :mod:`ptychopinn.physics.losses`), means over every element.

Channels-first tensors, float32. :func:`keras_loss` wraps them for ``model.compile`` (Keras
passes ``(y_true, y_pred)``; the supervised model output holds real and imaginary parts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ptychopinn.config import TrainingConfig
from ptychopinn.physics import LOG_EPS

from ptychopinn_tf._env import tf_keras

tf, _ = tf_keras()

__all__ = ["keras_loss", "pinn_loss", "split_complex", "stack_complex", "supervised_loss"]


def pinn_loss(predicted: Any, observed: Any, *, input_scale: float, nll_weight: float, mae_weight: float) -> Any:
    """Self-supervised loss on diffraction amplitudes in network units.

    ``nll_weight * mean(lam - k log(lam + 1e-12) - (k - k log k)) + mae_weight * mean|A_hat - X|``
    with counts ``lam = (A_hat / s)^2`` and ``k = (X / s)^2``, ``s = input_scale``: the Poisson NLL
    relative to the saturated model (``ptychopinn.physics.poisson_half_deviance``), 0 for a perfect fit.

    Parameters
    ----------
    predicted, observed : (B, C, N, N) float32, network units
    input_scale : float
        ``Normalisation.input_scale`` (network units per sqrt(count)).

    Returns
    -------
    () float32
    """
    predicted = tf.cast(predicted, tf.float32)
    observed = tf.cast(observed, tf.float32)
    total = tf.constant(0.0, tf.float32)
    if nll_weight:
        lam = tf.square(predicted / input_scale)
        k = tf.square(observed / input_scale)
        # The saturated NLL k - k log k carries no gradient; subtracted element by element (see the torch twin).
        saturated = k - tf.math.xlogy(k, k)
        total += nll_weight * tf.reduce_mean(lam - k * tf.math.log(lam + LOG_EPS) - saturated)
    if mae_weight:
        total += mae_weight * tf.reduce_mean(tf.abs(predicted - observed))
    return total


def supervised_loss(obj: Any, truth: Any) -> Any:
    """``mean|amp - |GT|| + mean|phase - angle(GT)|`` for (B, C, N, N) complex64 patches
    (``obj`` may have one channel, broadcast over the group)."""
    amp = tf.reduce_mean(tf.abs(tf.abs(obj) - tf.abs(truth)))
    return amp + tf.reduce_mean(tf.abs(tf.math.angle(obj) - tf.math.angle(truth)))


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
