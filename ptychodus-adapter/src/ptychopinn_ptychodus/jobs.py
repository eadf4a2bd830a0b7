"""Payloads sent to the child process (numpy arrays, core's frozen configs and builtins only).

Neither payload holds a Ptychodus object: the parent converts Ptychodus data to core data
before spawning, so the child never imports ``ptychodus`` and starts faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.data import ScanData

__all__ = ["ReconstructJob", "TrainJob"]


@dataclass(frozen=True, kw_only=True)
class ReconstructJob:
    """One reconstruction: load ``bundle`` and reconstruct ``scan``."""

    bundle: Path
    """Model bundle file (core's bundle format)."""

    scan: ScanData
    """The scan in core's conventions, positions in the input object's pixels."""

    config: InferenceConfig
    """Inference settings (``backend`` field unused; see ``backend``)."""

    backend: str | None
    """Backend to infer with; None = the backend recorded in the bundle."""


@dataclass(frozen=True, kw_only=True)
class TrainJob:
    """One training run on a training-data file; the bundle is written to ``output``."""

    data: Path
    """Training data: core's scan NPZ, or Ptychodus's own PtychoPINN export (``diff3d`` counts)."""

    output: Path
    """Bundle file to write (atomically)."""

    model_config: ModelConfig
    """Model settings; ``N`` is replaced by the pattern size found in ``data``."""

    training_config: TrainingConfig
    """Training settings."""

    backend: str
    """Canonical name of the (installed) backend to train with."""
