"""``OnnxPredictor``: the network of one model in an ONNX Runtime session (built once).

Core caches the predictor per model and options, scales the input to network units, slices
batches, merges groups and stitches (:mod:`ptychopinn.plugins.predictor`); this module only
runs the network of :func:`ptychopinn_onnx.graph.build_model` on ``(B, C, N, N)`` arrays.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from ptychopinn.config import ModelConfig
from ptychopinn.errors import ConfigError
from ptychopinn.results import TrainedModel
from ptychopinn_onnx.graph import AMPLITUDE, INPUT, PHASE, build_model
from ptychopinn_onnx.options import OnnxOptions

__all__ = ["OnnxPredictor", "build_predictor", "create_session", "session_options"]

_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def session_options(options: OnnxOptions) -> ort.SessionOptions:
    """``onnxruntime.SessionOptions`` for ``options`` (threads, graph optimisation level)."""
    so = ort.SessionOptions()
    if options.intra_op_num_threads is not None:
        so.intra_op_num_threads = options.intra_op_num_threads
    if options.inter_op_num_threads is not None:
        so.inter_op_num_threads = options.inter_op_num_threads
    so.graph_optimization_level = _LEVELS[options.graph_optimization_level]
    so.log_severity_level = 3  # errors only: the graph is static, warnings about it are noise
    return so


def create_session(model_bytes: bytes, options: OnnxOptions) -> ort.InferenceSession:
    """An inference session on the serialized model with the providers of ``options``.

    Raises
    ------
    ConfigError
        When a requested provider is not available in the installed onnxruntime build.
    """
    available = ort.get_available_providers()
    missing = [p for p in options.providers if p not in available]
    if missing:
        raise ConfigError(
            f"OnnxOptions.providers: {', '.join(missing)} not available in onnxruntime {ort.__version__}; "
            f"available: {', '.join(available)} (GPU providers need the onnxruntime-gpu build)"
        )
    return ort.InferenceSession(model_bytes, sess_options=session_options(options), providers=list(options.providers))


class OnnxPredictor:
    """Runs one model's network with ONNX Runtime (:class:`ptychopinn.plugins.predictor.Predictor`).

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        Session on a model with input ``diffraction`` and outputs ``amplitude``, ``phase``.
    config : ModelConfig
        The model's configuration (input and output shapes).
    chunk_size : int or None
        Groups per session call; None = the whole batch in one call.
    """

    backend: str = "onnx"

    def __init__(self, session: ort.InferenceSession, config: ModelConfig, *, chunk_size: int | None) -> None:
        self.session = session
        self.config = config
        self.chunk_size = chunk_size

    def predict(self, diffraction: np.ndarray) -> np.ndarray:
        """Network-unit diffraction ``(B, C, N, N)`` float32 -> object patches ``(B, C_out, N, N)`` complex64.

        ``C_out = C`` when ``object_big`` else 1; the patches are ``amplitude * exp(i * phase)``.
        """
        x = np.ascontiguousarray(diffraction, dtype=np.float32)
        cfg = self.config
        expected = (cfg.channels, cfg.N, cfg.N)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ConfigError(
                f"the ONNX predictor expects diffraction of shape (B, {cfg.channels}, {cfg.N}, {cfg.N}) "
                f"(gridsize {cfg.gridsize}, N {cfg.N}), got {tuple(x.shape)}"
            )
        step = self.chunk_size or max(len(x), 1)
        parts = []
        for start in range(0, len(x), step):
            amp, phase = self.session.run([AMPLITUDE, PHASE], {INPUT: x[start : start + step]})
            parts.append((amp * np.cos(phase) + 1j * (amp * np.sin(phase))).astype(np.complex64))
        if not parts:
            c_out = cfg.channels if cfg.object_big else 1
            return np.zeros((0, c_out, cfg.N, cfg.N), dtype=np.complex64)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def build_predictor(model: TrainedModel, options: OnnxOptions) -> OnnxPredictor:
    """Translate ``model``'s network to ONNX in memory and open one session on it.

    Core has validated ``model.weights`` against ``model.model_config`` already.
    """
    proto = build_model(model.model_config, model.weights, opset=options.opset)
    session = create_session(proto.SerializeToString(), options)
    return OnnxPredictor(session, model.model_config, chunk_size=options.inference_chunk_size)
