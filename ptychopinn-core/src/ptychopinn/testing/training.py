"""``train`` and ``export`` tiers: what a training run returns, what an export writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.plugins.backend import Backend
from ptychopinn.results import TrainedModel
from ptychopinn.testing.report import ConformanceFailure

__all__ = ["check_export", "check_loss_decreases", "check_trained_model", "train_small"]


def train_small(
    backend: Backend, scan: ScanData, model_config: ModelConfig, training_config: TrainingConfig, *,
    options: Any = None, seed: int = 0,
) -> TrainedModel:
    """A tiny training run through :func:`ptychopinn.train` (core groups, normalises and checks)."""
    import ptychopinn

    cfg = dataclasses.replace(training_config, seed=seed)
    return ptychopinn.train(scan, backend=backend.name, model_config=model_config, training_config=cfg, options=options)


def check_trained_model(model: TrainedModel, *, backend: str, model_config: ModelConfig) -> None:
    """Backend recorded, config kept, canonical float32 finite weights, a finite per-epoch loss history."""
    from ptychopinn.architecture import validate_weights
    from ptychopinn.errors import PtychoPINNError

    if model.backend != backend:
        raise ConformanceFailure(f"TrainedModel.backend is {model.backend!r}, expected {backend!r}")
    if model.model_config != model_config:
        raise ConformanceFailure(f"TrainedModel.model_config is {model.model_config}, expected {model_config}")
    try:
        validate_weights(model.weights, model_config, source=f"model trained by '{backend}'")
    except PtychoPINNError as exc:
        raise ConformanceFailure(f"trained weights are not canonical: {exc}") from exc
    for name, value in model.weights.items():
        array = np.asarray(value)
        if array.dtype != np.float32:
            raise ConformanceFailure(f"trained weight {name!r} has dtype {array.dtype}, expected float32")
        if not np.all(np.isfinite(array)):
            raise ConformanceFailure(f"trained weight {name!r} holds NaN/Inf")
    summary = model.training_summary
    if summary is None or summary.epochs_run < 1:
        raise ConformanceFailure("TrainedModel.training_summary is missing or records no epoch")
    loss = np.asarray(summary.history.get("loss", ()), dtype=np.float64)
    if loss.size != summary.epochs_run or not np.all(np.isfinite(loss)):
        raise ConformanceFailure(
            f"training_summary.history['loss'] must hold one finite value per epoch ({summary.epochs_run}), got {loss}"
        )


def check_loss_decreases(model: TrainedModel) -> None:
    """The last epoch's loss is below the first's."""
    loss = np.asarray(model.training_summary.history["loss"] if model.training_summary else (), dtype=np.float64)
    if loss.size < 2 or not loss[-1] < loss[0]:
        raise ConformanceFailure(f"training loss did not decrease over {loss.size} epochs: {loss.tolist()}")


def check_export(backend: Backend, model: TrainedModel, directory: Path, *, options: Any = None) -> Path:
    """``Backend.export`` replaces a file at the given path with a non-empty one and leaves nothing else.

    A stale file is put at the target first: an atomic writer (temporary file + ``os.replace``)
    replaces it and leaves no temporary file behind.
    """
    directory.mkdir(parents=True, exist_ok=True)
    before = set(directory.iterdir())
    target = directory / "exported-model"
    target.write_bytes(b"stale")
    out = backend.export(model, target, options)
    if Path(out).resolve() != target.resolve():
        raise ConformanceFailure(f"export returned {out}, expected the path it was given, {target}")
    if not target.is_file() or target.stat().st_size == 0:
        raise ConformanceFailure(f"export did not write a non-empty file at {target}")
    if target.read_bytes() == b"stale":
        raise ConformanceFailure(f"export left the file already at {target} unchanged")
    left = sorted(p.name for p in set(directory.iterdir()) - before - {target})
    if left:
        raise ConformanceFailure(
            f"export left other files next to {target.name}: {left}; write a temporary file in the same folder and "
            f"os.replace() it onto the target (and remove it on failure)"
        )
    return target
