"""The backend plugin system: hookspec, registry, selection.

Backend authors import from here only::

    from ptychopinn.plugins import BACKEND_API_VERSION, BackendInfo, hookimpl
"""

from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, PROJECT_NAME, BackendSpec, hookimpl, hookspec
from ptychopinn.plugins.info import BackendInfo, BackendStatus

__all__ = [
    "BACKEND_API_VERSION",
    "PROJECT_NAME",
    "BackendInfo",
    "BackendSpec",
    "BackendStatus",
    "hookimpl",
    "hookspec",
]
