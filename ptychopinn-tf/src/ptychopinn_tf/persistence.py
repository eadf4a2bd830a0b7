"""The ``save`` / ``load`` hooks: core's framework-neutral bundle (no pickle, no Keras files)."""

from __future__ import annotations

from pathlib import Path

from ptychopinn.bundle import read_bundle, with_backend, write_bundle
from ptychopinn.results import TrainedModel

from ptychopinn_tf._version import __version__
from ptychopinn_tf.weights import validate_weights

__all__ = ["load", "save"]


def save(model: TrainedModel, path: Path) -> Path:
    """Validate the weights against the architecture and write the bundle atomically."""
    validate_weights(model.weights, model.model_config, source=f"model to save at {path}")
    return write_bundle(model, path, backend_distribution="ptychopinn-tf")


def load(path: Path) -> TrainedModel:
    """Read a bundle written by any backend; names and shapes are checked against its config.

    A bundle written by another backend comes back with ``backend="tensorflow"`` and
    ``source_backend`` = the writer.
    """
    model = read_bundle(path)
    validate_weights(model.weights, model.model_config, source=str(path))
    return with_backend(model, "tensorflow", __version__)
