"""The trainable Keras model: the network + physics (``pinn``) or the network alone (``supervised``).

:class:`PtychoPINNModel` is called with ``(x, offsets)``: ``x`` (B, C, N, N) float32 network
units (channels-first, as the data pipeline and core hand them), ``offsets`` (B, C, 2) float32.
It returns

- ``pinn``: predicted amplitudes ``(B, C, N, N)`` float32, network units;
- ``supervised``: the object ``O = amp exp(i phase)`` as ``[real, imag]`` ``(B, 2 C_out, N, N)``
  float32 (:func:`ptychopinn_tf.losses.stack_complex`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ptychopinn.config import ModelConfig
from ptychopinn.physics import normalise_probe

from ptychopinn_tf import physics
from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.losses import stack_complex
from ptychopinn_tf.network import build_network

tf, keras = tf_keras()

__all__ = ["PtychoPINNModel", "complex_object"]


def complex_object(amp: Any, phase: Any) -> Any:
    """(B, N, N, C') amp, phase float32 (channels-last) -> (B, C', N, N) complex64 (channels-first)."""
    o = tf.complex(amp * tf.cos(phase), amp * tf.sin(phase))
    return tf.transpose(o, (0, 3, 1, 2))


class PtychoPINNModel(keras.Model):
    """The network of ``config`` + the differentiable forward physics.

    Parameters
    ----------
    config : ModelConfig
    probe : (N, N) complex
        Probe as stored in the scan; normalised here with ``config.reference_transmission``
        and ``config.probe_mask``.
    canvas_size : int
        Static merge canvas side M for gridsize > 1 (any M >= the groups' reach is exact).
    seed : int
        Seed of core's weight initialisation (:func:`ptychopinn_tf.network.build_network`).
    dtype_policy : str
        Keras dtype policy of the network; the physics is float32/complex64.
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
        self.model_config = config
        self.canvas_size = int(canvas_size)
        self.network = build_network(config, seed=seed, dtype_policy=dtype_policy)
        p = normalise_probe(probe, reference_transmission=config.reference_transmission, mask=config.probe_mask)
        self.probe = tf.constant(p, dtype=tf.complex64)

    def call(self, inputs: tuple[Any, Any], training: bool = False) -> Any:
        x, offsets = inputs
        amp, phase = self.network(tf.transpose(x, (0, 2, 3, 1)), training=training)
        obj = complex_object(amp, phase)
        if self.model_config.model_type == "supervised":
            return stack_complex(obj)
        return physics.predicted_amplitude(
            obj,
            self.probe,
            tf.cast(offsets, tf.float32),
            object_big=self.model_config.object_big,
            log_scale=self.network.log_scale,
            canvas_size=self.canvas_size,
        )

    def build_variables(self) -> None:
        """Mark the model built: every variable exists already (the network's, from the graph shapes)."""
        self.built = True
