"""The ``infer`` capability: :class:`TFPredictor`, the network of one model built once.

Core validates the weights, caches the predictor per model, scales and batches the input,
groups the patches and stitches; the predictor only runs the network. Its forward is one
``tf.function`` with a fixed input signature ``(None, C, N, N)`` float32, so batches of any
size reuse a single trace.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from ptychopinn.results import TrainedModel

from ptychopinn_tf._env import apply_threads, tf_keras
from ptychopinn_tf.network import build_network
from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.training_model import complex_object
from ptychopinn_tf.weights import load_network_weights

tf, keras = tf_keras()

__all__ = ["NAME", "TFPredictor", "build_predictor", "chunk_size"]

NAME = "tensorflow"


def _on_gpu(options: TFOptions) -> bool:
    device = (options.inference_device or "").lower()
    return "gpu" in device or (not device and bool(tf.config.list_logical_devices("GPU")))


def chunk_size(options: TFOptions, batch: int) -> int:
    """Groups per network call: ``options.inference_chunk_size`` on a CPU (capped by ``batch``),
    the whole batch on a GPU or when the option is None."""
    if options.inference_chunk_size is None or _on_gpu(options):
        return max(1, batch)
    return max(1, min(batch, options.inference_chunk_size))


class TFPredictor:
    """The network of ``model`` on TensorFlow (the :class:`ptychopinn.plugins.predictor.Predictor` protocol).

    Parameters
    ----------
    model : TrainedModel
        Canonical weights of ``model.model_config``'s architecture (validated by core; checked
        again when they are assigned).
    options : TFOptions
        ``precision`` (dtype policy), ``jit_compile``, ``inference_device``,
        ``inference_chunk_size`` and the thread counts.
    """

    backend: str = NAME

    def __init__(self, model: TrainedModel, options: TFOptions) -> None:
        apply_threads(options)
        self.options = options
        self.model_config = model.model_config
        cfg = model.model_config
        with self._device():
            self.network = build_network(cfg, dtype_policy=options.precision)
            load_network_weights(self.network, model.weights, source=f"model trained with {model.backend!r}")
        spec = (tf.TensorSpec((None, cfg.channels, cfg.N, cfg.N), tf.float32),)
        self._forward = tf.function(self._graph, input_signature=spec, jit_compile=options.jit_compile)

    def _device(self) -> contextlib.AbstractContextManager[Any]:
        device = self.options.inference_device
        return tf.device(device) if device else contextlib.nullcontext()

    def _graph(self, x: Any) -> Any:
        amp, phase = self.network(tf.transpose(x, (0, 2, 3, 1)), training=False)
        return complex_object(amp, phase)

    def predict(self, diffraction: np.ndarray) -> np.ndarray:
        """Run the network on one batch.

        Parameters
        ----------
        diffraction : (B, C, N, N) float32
            Network-unit amplitudes.

        Returns
        -------
        (B, C_out, N, N) complex64
            ``amp * exp(i * phase)``; run in chunks of :func:`chunk_size` groups.
        """
        x = np.ascontiguousarray(diffraction, dtype=np.float32)
        cfg = self.model_config
        c_out = cfg.channels if cfg.object_big else 1
        out = np.empty((x.shape[0], c_out, cfg.N, cfg.N), dtype=np.complex64)
        step = chunk_size(self.options, x.shape[0])
        with self._device():
            for start in range(0, x.shape[0], step):
                out[start : start + step] = self._forward(tf.constant(x[start : start + step])).numpy()
        return out


def build_predictor(model: TrainedModel, options: TFOptions) -> TFPredictor:
    """The ``ptychopinn_build_predictor`` hook: a :class:`TFPredictor` for ``model``."""
    return TFPredictor(model, options)
