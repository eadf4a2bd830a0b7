"""Plugin module of the ONNX Runtime backend (entry point ``ptychopinn.backends: onnx``).

Inference only (capabilities ``infer`` and ``export``): core asks for the backends that can
train when ``train`` is requested. Imports neither ``onnx`` nor ``onnxruntime`` at import
time; the hooks import them on use.
"""

from __future__ import annotations

from pathlib import Path

from ptychopinn.plugins.hookspecs import hookimpl
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.plugins.predictor import Predictor
from ptychopinn.results import TrainedModel
from ptychopinn_onnx._version import __version__
from ptychopinn_onnx.options import OnnxOptions, resolve_options

NAME = "onnx"
API_VERSION = (2, 0)
CAPABILITIES = frozenset({"infer", "export"})


@hookimpl
def ptychopinn_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME,
        api_version=API_VERSION,
        version=__version__,
        description="ONNX Runtime (inference and ONNX export only; no TensorFlow or torch needed)",
        capabilities=CAPABILITIES,
    )


@hookimpl
def ptychopinn_resolve_options(options: object | None) -> OnnxOptions:
    return resolve_options(options)


@hookimpl
def ptychopinn_build_predictor(model: TrainedModel, options: object | None) -> Predictor:
    """One ONNX Runtime session on the model's network, built in memory from its canonical weights."""
    from ptychopinn_onnx.predictor import build_predictor

    return build_predictor(model, resolve_options(options))


@hookimpl
def ptychopinn_export(model: TrainedModel, path: Path, options: object | None) -> Path:
    """Write the physics-free inference network as ``path`` (.onnx, atomically), with metadata."""
    from ptychopinn_onnx.export import export

    return export(model, Path(path), resolve_options(options))
