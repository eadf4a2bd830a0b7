"""Plugin module of the PyTorch backend (entry point ``ptychopinn.backends: pytorch``), backend API 2.0.

Hooks only: torch and Lightning are imported inside them, so listing or selecting backends stays
cheap. Core owns bundles, batching, grouping and stitching (:mod:`ptychopinn.plugins.hookspecs`).
"""

from __future__ import annotations

import numpy as np

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.plugins.hookspecs import hookimpl
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.plugins.predictor import Predictor
from ptychopinn.refinement import RefinementOperator, RefinementProblem
from ptychopinn.results import TrainedModel, TrainingData
from ptychopinn_torch._version import __version__
from ptychopinn_torch.options import TorchOptions, resolve_options

NAME = "pytorch"
API_VERSION = (2, 0)
CAPABILITIES = frozenset({"train", "infer", "refine", "physics_forward"})


@hookimpl
def ptychopinn_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME,
        api_version=API_VERSION,
        version=__version__,
        description="PyTorch + Lightning (DDP-capable)",
        capabilities=CAPABILITIES,
    )


@hookimpl
def ptychopinn_resolve_options(options: object | None) -> TorchOptions:
    return resolve_options(options)


@hookimpl
def ptychopinn_train(
    data: TrainingData, model_config: ModelConfig, training_config: TrainingConfig, options: object | None
) -> TrainedModel:
    from ptychopinn_torch.training import train

    return train(data, model_config, training_config, resolve_options(options))


@hookimpl
def ptychopinn_build_predictor(model: TrainedModel, options: object | None) -> Predictor:
    from ptychopinn_torch.predictor import build_predictor

    return build_predictor(model, resolve_options(options))


@hookimpl
def ptychopinn_physics_forward(
    object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, object_big: bool, log_scale: float
) -> np.ndarray:
    from ptychopinn_torch.physics import forward_amplitude

    return forward_amplitude(object_patches, probe, offsets, object_big=object_big, log_scale=log_scale)


@hookimpl
def ptychopinn_refinement_operator(problem: RefinementProblem, options: object | None) -> RefinementOperator:
    from ptychopinn_torch.refinement import TorchRefinementOperator

    return TorchRefinementOperator(problem, resolve_options(options))
