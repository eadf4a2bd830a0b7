"""``trained_model``: what a backend's ``train`` returns, assembled the same way by every backend.

A backend's training ends with its network's canonical numpy weights and a loss history; the
:class:`~ptychopinn.results.TrainedModel` around them (configs, normalisation, probe, training
summary) is built here, once. Framework-free.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.results import TrainedModel, TrainingData, TrainingSummary

__all__ = ["trained_model"]


def trained_model(
    data: TrainingData,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    *,
    backend: str,
    backend_version: str,
    weights: Mapping[str, np.ndarray],
    epochs_run: int,
    history: Mapping[str, tuple[float, ...]],
    wall_time_s: float,
    stopped_early: bool,
    metadata: Mapping[str, str],
) -> TrainedModel:
    """The :class:`~ptychopinn.results.TrainedModel` of a finished training run.

    Parameters
    ----------
    data : TrainingData
        What the run trained on (normalisation, probe, group counts).
    model_config, training_config : ModelConfig, TrainingConfig
        As given to the ``train`` hook.
    backend, backend_version : str
        The training backend's canonical name and distribution version.
    weights : mapping of str to ndarray
        Canonical weight name -> float32 array (the backend's ``weights.network_weights``).
    epochs_run : int
        Epochs completed.
    history : mapping of str to tuple of float
        Per-epoch series (``loss``, ``val_loss`` ...).
    wall_time_s : float
        Wall-clock seconds of the run.
    stopped_early : bool
        Whether early stopping ended it.
    metadata : mapping of str to str
        Provenance (framework versions, precision ...); values are turned into strings.

    Returns
    -------
    TrainedModel
        With the probe as stored in the scan, (N, N) complex64.
    """
    summary = TrainingSummary(
        epochs_run=int(epochs_run),
        history=dict(history),
        wall_time_s=float(wall_time_s),
        n_train_groups=data.train.n_groups,
        n_validation_groups=data.validation.n_groups if data.validation is not None else 0,
        stopped_early=bool(stopped_early),
    )
    return TrainedModel(
        backend=backend,
        backend_version=backend_version,
        model_config=model_config,
        training_config=training_config,
        normalisation=data.normalisation,
        probe=np.asarray(data.probe, dtype=np.complex64),
        weights=dict(weights),
        training_summary=summary,
        metadata={str(k): str(v) for k, v in metadata.items()},
    )
