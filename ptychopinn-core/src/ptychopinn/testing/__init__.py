"""Test support for backend authors: the conformance kit and a tiny synthetic scan.

``from ptychopinn.testing import BackendConformance`` (needs pytest). This package is not
registered as a pytest plugin; import it explicitly. See ``docs/backend-author-guide.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.testing.conformance import FRAMEWORK_MODULES, BackendConformance
    from ptychopinn.testing.synthetic import synthetic_scan

_LAZY = {
    "BackendConformance": "ptychopinn.testing.conformance",
    "FRAMEWORK_MODULES": "ptychopinn.testing.conformance",
    "synthetic_scan": "ptychopinn.testing.synthetic",
}

__all__ = ["FRAMEWORK_MODULES", "BackendConformance", "synthetic_scan"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ptychopinn.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
