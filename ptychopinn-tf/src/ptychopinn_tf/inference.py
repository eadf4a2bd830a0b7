"""The ``infer`` hook's implementation: batched generator + group object, with a model cache."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np
from ptychopinn.config import InferenceConfig, ModelConfig
from ptychopinn.data import GroupedScan
from ptychopinn.results import PatchPrediction, TrainedModel

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.data import group_batch
from ptychopinn_tf.model import complex_object
from ptychopinn_tf.network import Generator
from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.physics import group_object
from ptychopinn_tf.weights import validate_weights

tf, keras = tf_keras()

__all__ = ["build_predictor", "chunk_size", "clear_cache", "infer"]

_CACHE: OrderedDict[tuple, tuple[Mapping[str, np.ndarray], Callable]] = OrderedDict()
_LOCK = threading.Lock()


def clear_cache() -> None:
    """Drop every cached inference network."""
    with _LOCK:
        _CACHE.clear()


def build_predictor(model: TrainedModel, options: TFOptions) -> Callable:
    """A compiled ``(x (B,N,N,C), offsets (B,C,2)) -> (B,N,N) complex64`` function for ``model``.

    Cached by ``id(model.weights)`` (the mapping is kept referenced, so the id stays unique) with
    a small LRU of ``options.cache_size`` entries.
    """
    cfg: ModelConfig = model.model_config
    key = (id(model.weights), cfg, options.precision, options.jit_compile, options.inference_device)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is model.weights:
            _CACHE.move_to_end(key)
            return hit[1]
    validate_weights(model.weights, cfg, source=f"model trained with {model.backend!r}")
    with _device(options):
        gen = Generator(cfg, dtype_policy=options.precision)
        gen.build_variables()
        gen.set_canonical(model.weights)
    spec = (
        tf.TensorSpec((None, cfg.N, cfg.N, cfg.channels), tf.float32),
        tf.TensorSpec((None, cfg.channels, 2), tf.float32),
    )

    @tf.function(input_signature=spec, jit_compile=options.jit_compile, reduce_retracing=True)
    def predict(x, offsets):
        amp, phase = gen(x, training=False)
        return group_object(complex_object(amp, phase), offsets, object_big=cfg.object_big)

    with _LOCK:
        _CACHE[key] = (model.weights, predict)
        while len(_CACHE) > options.cache_size:
            _CACHE.popitem(last=False)
    return predict


def _device(options: TFOptions):
    return tf.device(options.inference_device) if options.inference_device else contextlib.nullcontext()


def chunk_size(options: TFOptions, batch_size: int) -> int:
    """Groups per network call: ``options.inference_chunk_size`` on a CPU (capped by ``batch_size``)."""
    device = (options.inference_device or "").lower()
    on_gpu = "gpu" in device or (not device and bool(tf.config.list_logical_devices("GPU")))
    if on_gpu or options.inference_chunk_size is None:
        return batch_size
    return max(1, min(batch_size, options.inference_chunk_size))


def infer(model: TrainedModel, data: GroupedScan, config: InferenceConfig, options: TFOptions) -> PatchPrediction:
    """One object patch per group, scaled with ``model.normalisation`` (see the hookspec).

    Groups are read ``config.batch_size`` at a time and run through the network
    :func:`chunk_size` groups per call (on a CPU, ``options.inference_chunk_size``).

    Returns
    -------
    PatchPrediction
        ``patches`` (B, N, N) complex64, ``positions`` = ``data.centres`` (B, 2) float64.
    """
    model.check_groups(data)
    cfg = model.model_config
    predict = build_predictor(model, options)
    scale = model.normalisation.network_scale
    out = np.empty((data.n_groups, cfg.N, cfg.N), dtype=np.complex64)
    chunk = chunk_size(options, config.batch_size)
    with _device(options):
        for start in range(0, data.n_groups, config.batch_size):
            groups = np.arange(start, min(start + config.batch_size, data.n_groups))
            x, off = group_batch(data, groups, scale)
            for c0 in range(0, len(groups), chunk):
                part = slice(c0, c0 + chunk)
                out[groups[part]] = predict(tf.constant(x[part]), tf.constant(off[part])).numpy()
    return PatchPrediction(patches=out, positions=np.array(data.centres, dtype=np.float64), backend="tensorflow")
