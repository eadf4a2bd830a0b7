"""Test support for backend authors: the conformance kit (contract 2.0) and a tiny synthetic scan.

- ``BackendConformance``: pytest base class; subclass it with ``backend_name = "mine"``
  (needs pytest; this package is not registered as a pytest plugin, import it explicitly).
- ``check_backend(name)``: the same checks without pytest, returning a ``ConformanceReport``.
- ``synthetic_scan``: a small simulated scan for tests.

See ``docs/backend-author-guide.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.testing.conformance import BackendConformance
    from ptychopinn.testing.contract import FRAMEWORK_MODULES
    from ptychopinn.testing.report import CheckResult, ConformanceFailure, ConformanceReport
    from ptychopinn.testing.runner import check_backend
    from ptychopinn.testing.synthetic import synthetic_scan

_LAZY = {
    "BackendConformance": "ptychopinn.testing.conformance",
    "CheckResult": "ptychopinn.testing.report",
    "ConformanceFailure": "ptychopinn.testing.report",
    "ConformanceReport": "ptychopinn.testing.report",
    "FRAMEWORK_MODULES": "ptychopinn.testing.contract",
    "check_backend": "ptychopinn.testing.runner",
    "synthetic_scan": "ptychopinn.testing.synthetic",
}

__all__ = [
    "FRAMEWORK_MODULES",
    "BackendConformance",
    "CheckResult",
    "ConformanceFailure",
    "ConformanceReport",
    "check_backend",
    "synthetic_scan",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ptychopinn.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
