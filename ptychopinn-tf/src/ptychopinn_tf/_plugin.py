"""Plugin module of the TensorFlow backend (entry point ``ptychopinn.backends: tensorflow``).

Imports only ``ptychopinn`` (and this package's framework-free modules) at import time:
TensorFlow and Keras are imported inside the hooks. Importing it fails with a clear
:class:`~ptychopinn.errors.BackendLoadError` naming ``pip install "ptychopinn-tf[cpu]"`` when
TensorFlow itself is not installed.
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

from ptychopinn_tf._env import check_tensorflow_installed
from ptychopinn_tf._version import __version__
from ptychopinn_tf.options import resolve_options

check_tensorflow_installed()

NAME = "tensorflow"
API_VERSION = (1, 1)


@hookimpl
def ptychopinn_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME, api_version=API_VERSION, version=__version__, description="TensorFlow / Keras 3 (tf.distribute)"
    )


@hookimpl
def ptychopinn_train(
    data: TrainingData, model_config: ModelConfig, training_config: TrainingConfig, options: object | None
) -> TrainedModel:
    opts = resolve_options(options)
    from ptychopinn_tf.training import train

    return train(data, model_config, training_config, opts)


@hookimpl
def ptychopinn_save(model: TrainedModel, path: Path) -> Path:
    from ptychopinn_tf.persistence import save

    return save(model, Path(path))


@hookimpl
def ptychopinn_load(path: Path, options: object | None) -> TrainedModel:
    resolve_options(options)
    from ptychopinn_tf.persistence import load

    return load(Path(path))


@hookimpl
def ptychopinn_infer(
    model: TrainedModel, data: GroupedScan, config: InferenceConfig, options: object | None
) -> PatchPrediction:
    opts = resolve_options(options)
    from ptychopinn_tf.inference import infer

    return infer(model, data, config, opts)


@hookimpl
def ptychopinn_reassemble(
    prediction: PatchPrediction, probe: np.ndarray, config: InferenceConfig, canvas: CanvasSpec | None
) -> StitchedObject | None:
    """Core's numpy stitcher is used (streaming, exact least squares); no TensorFlow duplicate."""
    return None


@hookimpl
def ptychopinn_physics_forward(
    object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, object_big: bool, log_scale: float
) -> np.ndarray | None:
    """The TensorFlow forward model on numpy input (conformance kit's numerics tier)."""
    from ptychopinn_tf.numpy_api import forward_amplitude

    return forward_amplitude(object_patches, probe, offsets, object_big=object_big, log_scale=log_scale)


@hookimpl
def ptychopinn_refinement_operator(problem: RefinementProblem, options: object | None) -> RefinementOperator:
    """Refinement gradients by this backend's autograd (API 1.1)."""
    opts = resolve_options(options)
    from ptychopinn_tf.refinement import TFRefinementOperator

    return TFRefinementOperator(problem, opts)
