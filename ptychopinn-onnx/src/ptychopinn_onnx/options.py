"""``OnnxOptions``: execution options of the ONNX Runtime backend (no onnxruntime import here).

Core hands the backend its options as an :class:`OnnxOptions`, a plain mapping read from a
configuration file (``[backend_options]``), or None; :func:`resolve_options` turns any of them
into an :class:`OnnxOptions` once, when the backend is selected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ptychopinn.config.backend_options import resolve_dataclass_options
from ptychopinn.errors import ConfigError

__all__ = ["GRAPH_OPTIMIZATION_LEVELS", "MIN_OPSET", "OnnxOptions", "resolve_options"]

MIN_OPSET = 17
"""Oldest ONNX opset the graph builder writes (``Resize``/``Pad``/``Slice`` input forms, opset 13+;
17 is what TensorRT 8.6+ and ONNX Runtime 1.18+ take without conversion)."""

GRAPH_OPTIMIZATION_LEVELS: tuple[str, ...] = ("disable", "basic", "extended", "all")
"""Names of ``onnxruntime.GraphOptimizationLevel`` (``ORT_DISABLE_ALL`` ... ``ORT_ENABLE_ALL``)."""


@dataclass(frozen=True, kw_only=True)
class OnnxOptions:
    """How the ONNX backend builds its inference session and writes exported models."""

    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    """ONNX Runtime execution providers in order of preference, e.g.
    ``("CUDAExecutionProvider", "CPUExecutionProvider")``. Each must be available in the
    installed onnxruntime build (checked when the predictor is built)."""

    intra_op_num_threads: int | None = None
    """Threads inside one operator (``SessionOptions.intra_op_num_threads``); None = ONNX
    Runtime's default (one per physical core)."""

    inter_op_num_threads: int | None = None
    """Threads across independent operators (``SessionOptions.inter_op_num_threads``); None =
    ONNX Runtime's default."""

    graph_optimization_level: str = "all"
    """One of :data:`GRAPH_OPTIMIZATION_LEVELS` (fusions such as Conv+Relu at ``extended``/``all``)."""

    inference_chunk_size: int | None = 16
    """Groups per session call, whatever ``InferenceConfig.batch_size`` (the twin of the torch
    and TensorFlow option: small calls keep the activations in the CPU caches). None = one call
    per batch core hands over."""

    opset: int = MIN_OPSET
    """ONNX opset of the built and exported graph (>= :data:`MIN_OPSET`)."""

    def __post_init__(self) -> None:
        providers = self.providers
        if isinstance(providers, str) or not all(isinstance(p, str) and p for p in providers) or not providers:
            raise ConfigError(
                f"OnnxOptions.providers must be a non-empty list of provider names, got {providers!r}"
            )
        object.__setattr__(self, "providers", tuple(providers))
        for name in ("intra_op_num_threads", "inter_op_num_threads", "inference_chunk_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"OnnxOptions.{name} must be an integer >= 1 or None, got {value!r}")
        if self.graph_optimization_level not in GRAPH_OPTIMIZATION_LEVELS:
            raise ConfigError(
                f"OnnxOptions.graph_optimization_level must be one of {', '.join(GRAPH_OPTIMIZATION_LEVELS)}, "
                f"got {self.graph_optimization_level!r}"
            )
        if isinstance(self.opset, bool) or not isinstance(self.opset, int) or self.opset < MIN_OPSET:
            raise ConfigError(f"OnnxOptions.opset must be an integer >= {MIN_OPSET}, got {self.opset!r}")


def resolve_options(options: object | None) -> OnnxOptions:
    """``OnnxOptions`` from None, an ``OnnxOptions`` or a mapping.

    Raises
    ------
    ConfigError
        Naming the unknown key(s), the invalid value, or the unsupported type.
    """
    if options is not None and not isinstance(options, (OnnxOptions, Mapping)):
        raise ConfigError(
            f"ONNX backend options must be a ptychopinn_onnx.OnnxOptions or a mapping, got {type(options).__name__}"
        )
    return resolve_dataclass_options(OnnxOptions, options, label="ONNX", tuple_fields=("providers",))
