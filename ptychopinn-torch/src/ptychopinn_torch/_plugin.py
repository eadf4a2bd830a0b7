"""Plugin module of the PyTorch backend (entry point ``ptychopinn.backends: pytorch``).

Imports only ``ptychopinn`` at import time: torch and Lightning are imported inside the
hooks, so listing or selecting backends stays cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.data import GroupedScan
from ptychopinn.plugins.hookspecs import hookimpl
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.refinement import RefinementOperator, RefinementProblem
from ptychopinn.results import CanvasSpec, PatchPrediction, StitchedObject, TrainedModel, TrainingData
from ptychopinn_torch import __version__
from ptychopinn_torch.options import resolve_options

NAME = "pytorch"
API_VERSION = (1, 1)


@hookimpl
def ptychopinn_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME, api_version=API_VERSION, version=__version__, description="PyTorch + Lightning (DDP-capable)"
    )


@hookimpl
def ptychopinn_train(
    data: TrainingData, model_config: ModelConfig, training_config: TrainingConfig, options: object | None
) -> TrainedModel:
    opts = resolve_options(options)
    from ptychopinn_torch.training import train

    return train(data, model_config, training_config, opts)


@hookimpl
def ptychopinn_save(model: TrainedModel, path: Path) -> Path:
    from ptychopinn_torch.persistence import save

    return save(model, Path(path))


@hookimpl
def ptychopinn_load(path: Path, options: object | None) -> TrainedModel:
    resolve_options(options)
    from ptychopinn_torch.persistence import load

    return load(Path(path))


@hookimpl
def ptychopinn_infer(
    model: TrainedModel, data: GroupedScan, config: InferenceConfig, options: object | None
) -> PatchPrediction:
    opts = resolve_options(options)
    from ptychopinn_torch.inference import infer

    return infer(model, data, config, opts)


@hookimpl
def ptychopinn_reassemble(
    prediction: PatchPrediction, probe: np.ndarray, config: InferenceConfig, canvas: CanvasSpec | None
) -> StitchedObject | None:
    """Core's numpy stitcher is used (streaming, exact); no torch duplicate to keep in sync."""
    return None


@hookimpl
def ptychopinn_physics_forward(
    object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, object_big: bool, log_scale: float
) -> np.ndarray | None:
    """The torch forward model on numpy input (conformance numerics tier)."""
    import torch

    from ptychopinn_torch.physics import forward_amplitude

    off = None if offsets is None else torch.from_numpy(np.asarray(offsets, dtype=np.float64))
    with torch.no_grad():
        out = forward_amplitude(
            torch.from_numpy(np.asarray(object_patches, dtype=np.complex64)),
            torch.from_numpy(np.asarray(probe, dtype=np.complex64)),
            off,
            object_big=object_big,
            log_scale=float(log_scale),
        )
    return out.numpy().astype(np.float32)


@hookimpl
def ptychopinn_refinement_operator(problem: RefinementProblem, options: object | None) -> RefinementOperator:
    """Refinement gradients by this backend's autograd (API 1.1)."""
    opts = resolve_options(options)
    from ptychopinn_torch.refinement import TorchRefinementOperator

    return TorchRefinementOperator(problem, opts)
