"""``BackendInfo``: what a backend says about itself, and ``BackendStatus`` for listings."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BackendInfo", "BackendStatus"]


@dataclass(frozen=True, kw_only=True)
class BackendInfo:
    """Returned by a backend's ``ptychopinn_backend_info`` hook."""

    name: str
    """Canonical backend name; must equal the entry-point name."""

    api_version: tuple[int, int]
    """Backend API version implemented, (major, minor)."""

    version: str
    """Version of the backend's distribution."""

    description: str = ""
    """One line for ``ptychopinn backends``."""

    capabilities: frozenset[str] = frozenset({"train", "infer"})
    """What the backend can do (API 2.0): any of ``train``, ``infer``, ``refine``,
    ``physics_forward``, ``export`` (:data:`ptychopinn.plugins.hookspecs.CAPABILITY_HOOKS`).
    Core checks that the matching hooks are implemented when it loads the plugin."""


@dataclass(frozen=True, kw_only=True)
class BackendStatus:
    """One row of ``ptychopinn backends``: read from entry-point metadata, no import."""

    name: str
    """Canonical backend name (entry-point name)."""

    distribution: str | None
    """Distribution that provides it, or None for a known backend that is not installed."""

    version: str | None
    """Distribution version."""

    entry_point: str | None
    """Entry-point value (the plugin module)."""

    installed: bool
    """Whether a distribution provides it."""

    api_version: tuple[int, int] | None = None
    """Known only after the plugin was loaded."""

    status: str = "available"
    """``available``, ``loaded``, ``not installed``, ``error``, ``duplicate`` or ``disabled``."""

    error: str | None = None
    """The error, for ``error`` and ``duplicate``."""

    capabilities: frozenset[str] | None = None
    """What the backend can do; known only after the plugin was loaded."""
