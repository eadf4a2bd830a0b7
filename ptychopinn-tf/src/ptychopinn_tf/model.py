"""The trainable Keras model: generator + physics (``pinn``) or generator alone (``supervised``).

:class:`PtychoPINNModel` is called with ``(x, offsets)``: ``x`` (B, N, N, C) float32 network
units (channels-last), ``offsets`` (B, C, 2) float32. It returns

- ``pinn``: predicted amplitudes ``(B, N, N, C)`` float32 (channels-last, network units);
- ``supervised``: ``concat([|O|, angle(O)], -1)`` of the object ``O = amp exp(i phase)``,
  ``(B, N, N, 2 C_out)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.physics import LOG_EPS, normalise_probe

from ptychopinn_tf import physics
from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.network import Generator
from ptychopinn_tf.weights import LOG_SCALE, validate_weights

tf, keras = tf_keras()

__all__ = ["PtychoPINNModel", "complex_object", "pinn_loss", "supervised_loss"]


def complex_object(amp, phase):
    """(B, N, N, C') amp, phase float32 -> (B, C', N, N) complex64 (channels-first)."""
    o = tf.complex(amp * tf.cos(phase), amp * tf.sin(phase))
    return tf.transpose(o, (0, 3, 1, 2))


class PtychoPINNModel(keras.Model):
    """Generator + differentiable forward physics with the trainable global log-scale.

    Parameters
    ----------
    config : ModelConfig
    probe : (N, N) complex
        Probe as stored in the scan; normalised here with ``config.reference_transmission``
        and ``config.probe_mask``.
    canvas_size : int
        Static merge canvas side M for gridsize > 1 (any M >= the groups' reach is exact).
    seed : int
    dtype_policy : str
    """

    def __init__(
        self,
        config: ModelConfig,
        probe: np.ndarray,
        *,
        canvas_size: int,
        seed: int = 0,
        dtype_policy: str = "float32",
    ) -> None:
        super().__init__(name="ptychopinn")
        self.config_ = config
        self.canvas_size = int(canvas_size)
        self.generator = Generator(config, seed=seed, dtype_policy=dtype_policy)
        p = normalise_probe(probe, reference_transmission=config.reference_transmission, mask=config.probe_mask)
        self.probe = tf.constant(p, dtype=tf.complex64)
        self.log_scale = self.add_weight(
            shape=(), initializer="zeros", trainable=config.intensity_scale_trainable, name="log_scale", dtype="float32"
        )

    def call(self, inputs, training=False):
        x, offsets = inputs
        amp, phase = self.generator(x, training=training)
        if self.config_.model_type == "supervised":
            o = tf.complex(amp * tf.cos(phase), amp * tf.sin(phase))
            return tf.concat([tf.abs(o), tf.math.angle(o)], axis=-1)
        obj = complex_object(amp, phase)
        a_hat = physics.forward_amplitude(
            obj,
            self.probe,
            tf.cast(offsets, tf.float32),
            object_big=self.config_.object_big,
            log_scale=self.log_scale,
            canvas_size=self.canvas_size,
        )
        return tf.transpose(a_hat, (0, 2, 3, 1))

    def build_variables(self) -> None:
        """Create every variable with one zero batch."""
        cfg = self.config_
        self((tf.zeros((1, cfg.N, cfg.N, cfg.channels)), tf.zeros((1, cfg.channels, 2))))

    def get_canonical(self) -> dict[str, np.ndarray]:
        """All weights under their canonical names, stored layout, float32."""
        out = self.generator.get_canonical()
        out[LOG_SCALE] = np.asarray(self.log_scale.numpy(), dtype=np.float32).reshape(())
        return out

    def set_canonical(self, weights: Mapping[str, np.ndarray], *, source: str = "model") -> None:
        """Validate names/shapes against the config and assign."""
        validate_weights(weights, self.config_, source=source)
        self.generator.set_canonical(weights)
        self.log_scale.assign(np.asarray(weights[LOG_SCALE], dtype=np.float32).reshape(()))


def pinn_loss(*, input_scale: float, training_config: TrainingConfig):
    """Poisson NLL on counts plus amplitude MAE (``docs/architecture-model.md``, core oracle).

    ``lam = (A_hat / s)^2``, ``k = (X / s)^2`` with ``s = input_scale``:
    ``nll_weight * mean(lam - k log(lam + 1e-12) - (k - k log k)) + mae_weight * mean|A_hat - X|``
    (the NLL relative to the saturated model, ``ptychopinn.physics.poisson_half_deviance``).
    """
    s = float(input_scale)
    w_nll = float(training_config.nll_weight)
    w_mae = float(training_config.mae_weight)

    def loss(y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        y_pred = tf.cast(y_pred, tf.float32)
        total = tf.constant(0.0, tf.float32)
        if w_nll:
            lam = tf.square(y_pred / s)
            k = tf.square(y_true / s)
            # Subtract the saturated NLL k - k log k element by element (no gradient; see the torch twin).
            saturated = k - tf.math.xlogy(k, k)
            total += w_nll * tf.reduce_mean(lam - k * tf.math.log(lam + LOG_EPS) - saturated)
        if w_mae:
            total += w_mae * tf.reduce_mean(tf.abs(y_pred - y_true))
        return total

    return loss


def supervised_loss(y_true, y_pred):
    """``mean|amp - |GT|| + mean|phase - angle(GT)|`` on ``concat([|.|, angle(.)], -1)`` tensors.

    ``y_pred`` has 2 C_out channels and ``y_true`` 2 C; C_out = 1 broadcasts over the members.
    """
    y_pred = tf.cast(y_pred, tf.float32)
    y_true = tf.cast(y_true, tf.float32)
    cp, ct = y_pred.shape[-1] // 2, y_true.shape[-1] // 2
    amp = tf.reduce_mean(tf.abs(y_pred[..., :cp] - y_true[..., :ct]))
    phase = tf.reduce_mean(tf.abs(y_pred[..., cp:] - y_true[..., ct:]))
    return amp + phase
