"""PtychoPINN: physics-informed neural-network ptychography, core package.

``import ptychopinn`` is cheap and never imports an ML framework: the public names below are
resolved lazily on first use.
"""

from __future__ import annotations

import importlib

from ptychopinn._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (about 10 ms)

_LAZY: dict[str, str] = {
    "ModelConfig": "ptychopinn.config",
    "TrainingConfig": "ptychopinn.config",
    "InferenceConfig": "ptychopinn.config",
    "ScanData": "ptychopinn.data",
    "GroupedScan": "ptychopinn.data",
    "PtychoPINNError": "ptychopinn.errors",
    "Reconstruction": "ptychopinn.api",
    "TrainedModel": "ptychopinn.results",
    "get_backend": "ptychopinn.api",
    "list_backends": "ptychopinn.api",
    "load_model": "ptychopinn.api",
    "reconstruct": "ptychopinn.api",
    "refresh_backends": "ptychopinn.plugins.registry",
    "save_model": "ptychopinn.api",
    "train": "ptychopinn.api",
    "read_scan": "ptychopinn.data.npz",
    "write_scan": "ptychopinn.data.npz",
}

__all__ = [
    "__version__",
    "GroupedScan",
    "InferenceConfig",
    "ModelConfig",
    "PtychoPINNError",
    "Reconstruction",
    "ScanData",
    "TrainedModel",
    "TrainingConfig",
    "get_backend",
    "list_backends",
    "load_model",
    "read_scan",
    "reconstruct",
    "refresh_backends",
    "save_model",
    "train",
    "write_scan",
]

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.api import Reconstruction, get_backend, list_backends, load_model, reconstruct, save_model, train
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.data import GroupedScan, ScanData
    from ptychopinn.data.npz import read_scan, write_scan
    from ptychopinn.errors import PtychoPINNError
    from ptychopinn.plugins.registry import refresh_backends
    from ptychopinn.results import TrainedModel


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ptychopinn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
