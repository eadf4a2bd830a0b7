"""Records that cross the core <-> backend boundary (numpy arrays and frozen dataclasses only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.data.grouped import GroupedScan
from ptychopinn.physics.normalisation import Normalisation

__all__ = [
    "CanvasSpec",
    "PatchPrediction",
    "StitchedObject",
    "TrainedModel",
    "TrainingData",
    "TrainingSummary",
]


@dataclass(frozen=True, kw_only=True)
class TrainingData:
    """What ``train`` receives: grouped training/validation data, probe and scale constants."""

    train: GroupedScan
    """Training groups."""

    validation: GroupedScan | None
    """Validation groups (no pattern shared with ``train``), or None."""

    probe: np.ndarray
    """(N, N) complex64 probe as stored in the scan (not yet normalised)."""

    normalisation: Normalisation
    """Constants estimated on the training patterns."""


@dataclass(frozen=True, kw_only=True)
class TrainingSummary:
    """What a training run did, with its loss history."""

    epochs_run: int
    """Epochs completed."""

    history: Mapping[str, tuple[float, ...]]
    """Per-epoch series, e.g. ``loss``, ``val_loss``, ``learning_rate``."""

    wall_time_s: float
    """Wall-clock seconds spent in training."""

    n_train_groups: int
    """Groups trained on."""

    n_validation_groups: int
    """Groups validated on."""

    stopped_early: bool = False
    """Whether early stopping ended the run."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "epochs_run": self.epochs_run,
            "history": {k: list(v) for k, v in self.history.items()},
            "wall_time_s": self.wall_time_s,
            "n_train_groups": self.n_train_groups,
            "n_validation_groups": self.n_validation_groups,
            "stopped_early": self.stopped_early,
        }


@dataclass(frozen=True, kw_only=True, eq=False)
class TrainedModel:
    """A trained model in framework-neutral form: canonical weight names -> numpy arrays.

    This is exactly what a bundle stores (``docs/bundle-format.md``); any backend that
    builds the architecture of ``docs/architecture-model.md`` can run it.
    """

    backend: str
    """Canonical name of the backend that trained the model. Never relabelled: a model trained
    by one backend and run by another keeps it (the running backend is recorded in the results)."""

    backend_version: str
    """Version of that backend's distribution."""

    model_config: ModelConfig
    """Architecture and physics."""

    training_config: TrainingConfig
    """How it was trained."""

    normalisation: Normalisation
    """Constants of the training data."""

    probe: np.ndarray
    """(N, N) complex64 training probe (as stored in the scan; normalised at use)."""

    weights: Mapping[str, np.ndarray]
    """Canonical weight name -> array in the stored layout (float32)."""

    training_summary: TrainingSummary | None = None
    """The training run, when known."""

    metadata: Mapping[str, str] = field(default_factory=dict)
    """Free-form string metadata (provenance)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class PatchPrediction:
    """Object patches predicted for a batch of groups, each centred on its position."""

    patches: np.ndarray
    """(B, N, N) complex64 object patches (transmission, network amplitude units)."""

    positions: np.ndarray
    """(B, 2) float64 object pixels (x, y): where each patch's pixel (N/2, N/2) belongs."""

    backend: str
    """Backend whose predictor produced it."""


@dataclass(frozen=True, kw_only=True)
class CanvasSpec:
    """Geometry of a stitching canvas in object pixels."""

    shape: tuple[int, int]
    """(H, W) canvas size in pixels."""

    origin: tuple[float, float] = (0.0, 0.0)
    """(x0, y0): object position of canvas pixel (row 0, col 0). Position (x, y) maps to
    canvas column x - x0 and row y - y0."""


@dataclass(frozen=True, kw_only=True, eq=False)
class StitchedObject:
    """A reconstructed object on a canvas."""

    object: np.ndarray
    """(H, W) complex64 overlap-weighted average of the patches; 0 where unlit."""

    weight: np.ndarray
    """(H, W) float32 summed patch weights."""

    valid: np.ndarray
    """(H, W) bool, sufficiently lit pixels (see ``InferenceConfig.valid_threshold``)."""

    canvas: CanvasSpec
    """Canvas geometry."""

    backend: str | None = None
    """Backend that stitched (None for core's numpy stitcher)."""
