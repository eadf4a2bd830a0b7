"""PtychoPINN: physics-informed neural-network ptychography, core package.

``import ptychopinn`` is cheap and never imports an ML framework: the public names below are
resolved lazily on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ptychopinn._version import __version__

_LAZY: dict[str, str] = {
    "ModelConfig": "ptychopinn.config",
    "TrainingConfig": "ptychopinn.config",
    "InferenceConfig": "ptychopinn.config",
    "ScanData": "ptychopinn.data",
    "GroupedScan": "ptychopinn.data",
    "PtychoPINNError": "ptychopinn.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.data import GroupedScan, ScanData
    from ptychopinn.errors import PtychoPINNError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ptychopinn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
