"""The backend plugin system: hookspec, registry, selection.

Backend authors import from here only::

    from ptychopinn.plugins import BACKEND_API_VERSION, BackendInfo, hookimpl
    from ptychopinn.plugins import conventional_plugin   # the whole plugin module in a few lines
    from ptychopinn.plugins import atomic_write          # write an export file the way core writes bundles

The registry functions (``list_backends``, ``get_backend``, ``refresh_backends``,
``select_backend_name``) are importable from here too; they load lazily so that listing
backends never imports a plugin.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ptychopinn.plugins.info import BackendInfo, BackendStatus
from ptychopinn.plugins.names import ALIASES, ENTRY_POINT_GROUP, KNOWN_BACKENDS

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn._atomic import atomic_write
    from ptychopinn.plugins.backend import Backend
    from ptychopinn.plugins.conventional import conventional_plugin
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, PROJECT_NAME, BackendSpec, hookimpl, hookspec
    from ptychopinn.plugins.registry import get_backend, list_backends, refresh_backends
    from ptychopinn.plugins.selection import select_backend_name

# Resolved on first use so that listing backends imports neither numpy nor pluggy.
_LAZY = {
    "BACKEND_API_VERSION": "ptychopinn.plugins.hookspecs",
    "PROJECT_NAME": "ptychopinn.plugins.hookspecs",
    "BackendSpec": "ptychopinn.plugins.hookspecs",
    "hookimpl": "ptychopinn.plugins.hookspecs",
    "hookspec": "ptychopinn.plugins.hookspecs",
    "Backend": "ptychopinn.plugins.backend",
    "atomic_write": "ptychopinn._atomic",
    "conventional_plugin": "ptychopinn.plugins.conventional",
    "get_backend": "ptychopinn.plugins.registry",
    "list_backends": "ptychopinn.plugins.registry",
    "refresh_backends": "ptychopinn.plugins.registry",
    "select_backend_name": "ptychopinn.plugins.selection",
}

__all__ = [
    "ALIASES",
    "BACKEND_API_VERSION",
    "Backend",
    "BackendInfo",
    "BackendSpec",
    "BackendStatus",
    "ENTRY_POINT_GROUP",
    "KNOWN_BACKENDS",
    "PROJECT_NAME",
    "atomic_write",
    "conventional_plugin",
    "get_backend",
    "hookimpl",
    "hookspec",
    "list_backends",
    "refresh_backends",
    "select_backend_name",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ptychopinn.plugins' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
