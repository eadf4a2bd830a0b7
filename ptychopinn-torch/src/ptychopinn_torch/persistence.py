"""``save`` / ``load`` hooks on core's model bundle (``ptychopinn.bundle``; ``docs/bundle-format.md``).

Weights are the canonical numpy arrays (safetensors inside core's bundle): nothing is
pickled and nothing is ``torch.load``-ed. ``load`` checks names and shapes against the
architecture of the bundle's ``model_config``.
"""

from __future__ import annotations

from pathlib import Path

from ptychopinn.errors import BundleError
from ptychopinn.results import TrainedModel
from ptychopinn_torch import __version__
from ptychopinn_torch.weights import validate_weights

__all__ = ["is_rank_zero", "load", "save"]


def is_rank_zero() -> bool:
    """False only inside an initialised multi-process group on a rank other than 0."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


def save(model: TrainedModel, path: Path) -> Path:
    """Write ``model`` as a core bundle (atomic). Under DDP only rank 0 writes."""
    from ptychopinn.bundle import write_bundle

    if not is_rank_zero():
        return path
    return write_bundle(model, path)


def load(path: Path) -> TrainedModel:
    """Read a core bundle for this backend; refuse weights that do not fit the architecture."""
    from ptychopinn.bundle import read_bundle, with_backend

    model = read_bundle(path)
    validate_weights(model.model_config, model.weights, error=BundleError, where=str(path))
    return with_backend(model, "pytorch", __version__)
