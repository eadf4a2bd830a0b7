"""Plugin module of the TensorFlow backend (entry point ``ptychopinn.backends: tensorflow``), API 2.0.

Hooks only. Imports no framework: TensorFlow and Keras are imported inside the hooks. Importing it
fails with a :class:`~ptychopinn.errors.BackendLoadError` naming ``pip install "ptychopinn-tf[cpu]"``
when TensorFlow itself is not installed.
"""

from __future__ import annotations

import numpy as np
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.plugins.hookspecs import hookimpl
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.plugins.predictor import Predictor
from ptychopinn.refinement import RefinementOperator, RefinementProblem
from ptychopinn.results import TrainedModel, TrainingData

from ptychopinn_tf._env import check_tensorflow_installed
from ptychopinn_tf._version import __version__
from ptychopinn_tf.options import TFOptions, resolve_options

check_tensorflow_installed()

NAME = "tensorflow"
API_VERSION = (2, 0)
CAPABILITIES = frozenset({"train", "infer", "refine", "physics_forward"})


@hookimpl
def ptychopinn_backend_info() -> BackendInfo:
    return BackendInfo(
        name=NAME, api_version=API_VERSION, version=__version__, capabilities=CAPABILITIES,
        description="TensorFlow / Keras 3 (tf.distribute)",
    )


@hookimpl
def ptychopinn_resolve_options(options: object | None) -> TFOptions:
    return resolve_options(options)


@hookimpl
def ptychopinn_train(
    data: TrainingData, model_config: ModelConfig, training_config: TrainingConfig, options: TFOptions | None
) -> TrainedModel:
    from ptychopinn_tf.training import train

    return train(data, model_config, training_config, resolve_options(options))


@hookimpl
def ptychopinn_build_predictor(model: TrainedModel, options: TFOptions | None) -> Predictor:
    from ptychopinn_tf.predictor import build_predictor

    return build_predictor(model, resolve_options(options))


@hookimpl
def ptychopinn_physics_forward(
    object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, object_big: bool, log_scale: float
) -> np.ndarray:
    from ptychopinn_tf.physics import forward_amplitude

    return forward_amplitude(object_patches, probe, offsets, object_big=object_big, log_scale=log_scale)


@hookimpl
def ptychopinn_refinement_operator(problem: RefinementProblem, options: TFOptions | None) -> RefinementOperator:
    from ptychopinn_tf.refinement import TFRefinementOperator

    return TFRefinementOperator(problem, resolve_options(options))
