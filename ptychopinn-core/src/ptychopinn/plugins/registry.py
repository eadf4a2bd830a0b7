"""Backend registry: metadata-only discovery, loading of one backend, the typed failures.

Discovery reads the entry points of group ``ptychopinn.backends`` (name, value,
distribution, version) and never imports plugin code; the result is cached until
:func:`refresh_backends`. :func:`get_backend` imports only the requested entry point,
registers it with a pluggy plugin manager of its own (pluggy validates the hook
signatures), checks the declared backend API version and returns a
:class:`~ptychopinn.plugins.backend.Backend` handle.

Environment variables
---------------------
``PTYCHOPINN_DISABLE_BACKENDS``
    Comma-separated backend names that are listed as ``disabled`` and refuse to load.
``PTYCHOPINN_STRICT_PLUGINS``
    ``1``: discovery problems (unreadable metadata, duplicate names) raise instead of
    being recorded in the listing.
"""

from __future__ import annotations

import difflib
import importlib
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from ptychopinn.errors import (
    BackendError,
    BackendLoadError,
    BackendNotInstalledError,
    DuplicateBackendError,
    UnknownBackendError,
)
from ptychopinn.plugins.info import BackendStatus
from ptychopinn.plugins.names import ALIASES, ENTRY_POINT_GROUP, KNOWN_BACKENDS, canonical_name, install_hint

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.plugins.backend import Backend

__all__ = [
    "REQUIRED_HOOKS",
    "BackendEntry",
    "backends_with",
    "entry_point_values",
    "disabled_backends",
    "get_backend",
    "installed_backends",
    "list_backends",
    "refresh_backends",
    "strict_mode",
]

REQUIRED_HOOKS: tuple[str, ...] = ("ptychopinn_backend_info",)
"""Hooks every backend implements; the others follow from its capabilities
(:data:`ptychopinn.plugins.hookspecs.CAPABILITY_HOOKS`)."""


@dataclass(frozen=True)
class BackendEntry:
    """One entry point of group ``ptychopinn.backends`` (metadata only)."""

    name: str
    """Canonical backend name (the entry-point name, lower-cased)."""

    value: str
    """Entry-point value, the plugin module (``package.module``)."""

    distribution: str | None
    """Distribution that declares it."""

    version: str | None
    """Version of that distribution."""

    entry_point: metadata.EntryPoint
    """The entry point itself (``.load()`` imports the plugin)."""

    @property
    def label(self) -> str:
        """``distribution version`` for messages."""
        return f"{self.distribution or '<unknown distribution>'} {self.version or '<unknown version>'}"


@dataclass
class _State:
    entries: dict[str, list[BackendEntry]] | None = None
    scan_errors: list[str] | None = None
    loaded: dict[str, Backend] | None = None
    failures: dict[str, str] | None = None


_STATE = _State()
_LOCK = threading.RLock()


def strict_mode() -> bool:
    """Whether ``PTYCHOPINN_STRICT_PLUGINS`` asks discovery problems to raise."""
    return os.environ.get("PTYCHOPINN_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def disabled_backends() -> frozenset[str]:
    """Canonical names listed in ``PTYCHOPINN_DISABLE_BACKENDS`` (comma separated)."""
    raw = os.environ.get("PTYCHOPINN_DISABLE_BACKENDS", "")
    return frozenset(canonical_name(part) for part in raw.split(",") if part.strip())


def refresh_backends() -> None:
    """Forget the cached entry-point scan and every loaded backend handle.

    Call after installing or removing a backend distribution in a running process.
    """
    with _LOCK:
        _STATE.entries = None
        _STATE.scan_errors = None
        _STATE.loaded = None
        _STATE.failures = None
    importlib.invalidate_caches()  # also drops importlib.metadata's cached directory listings


def _scan() -> dict[str, list[BackendEntry]]:
    """Entry points of the group, grouped by canonical name; identical ones de-duplicated."""
    with _LOCK:
        if _STATE.entries is not None:
            return _STATE.entries
        found: dict[str, list[BackendEntry]] = {}
        errors: list[str] = []
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                dist = getattr(ep, "dist", None)
                dist_name = dist.metadata["Name"] if dist is not None else None
                version = dist.version if dist is not None else None
                entry = BackendEntry(
                    name=canonical_name(ep.name), value=ep.value, distribution=dist_name, version=version,
                    entry_point=ep,
                )
            except Exception as exc:  # a broken distribution's metadata must not break discovery
                if strict_mode():
                    raise
                errors.append(f"entry point {ep.name!r}: {type(exc).__name__}: {exc}")
                continue
            same = found.setdefault(entry.name, [])
            if not any(e.value == entry.value and e.distribution == entry.distribution for e in same):
                same.append(entry)
        _STATE.entries = found
        _STATE.scan_errors = errors
        _STATE.loaded = _STATE.loaded or {}
        _STATE.failures = _STATE.failures or {}
        if strict_mode():
            for name, entries in found.items():
                if len(entries) > 1:
                    raise _duplicate_error(name, entries)
        return found


def installed_backends() -> list[str]:
    """Canonical names of the installed, not disabled backends (metadata only), sorted."""
    disabled = disabled_backends()
    return sorted(name for name in _scan() if name not in disabled)


def _duplicate_error(name: str, entries: list[BackendEntry]) -> DuplicateBackendError:
    providers = " and ".join(f"{e.label} ({e.value})" for e in entries)
    return DuplicateBackendError(
        f"Backend name '{name}' is provided by {providers}. Uninstall one of these distributions "
        f"(pip uninstall <distribution>) so that the name is unambiguous."
    )


def list_backends() -> list[BackendStatus]:
    """Every known and installed backend with its status, from entry-point metadata only.

    Nothing is imported; backends loaded earlier in this process report ``loaded`` and their
    API version, and backends that failed to load report ``error`` with the reason.

    Returns
    -------
    list of BackendStatus
        Installed backends first (sorted by name), then known backends that are not installed.
    """
    entries = _scan()
    disabled = disabled_backends()
    loaded = _STATE.loaded or {}
    failures = _STATE.failures or {}
    rows: list[BackendStatus] = []
    for name in sorted(entries):
        group = entries[name]
        first = group[0]
        if len(group) > 1:
            rows.append(
                BackendStatus(
                    name=name, distribution=", ".join(str(e.distribution) for e in group),
                    version=", ".join(str(e.version) for e in group), entry_point=", ".join(e.value for e in group),
                    installed=True, status="duplicate", error=str(_duplicate_error(name, group)),
                )
            )
            continue
        status, error, api, caps = "available", None, None, None
        if name in disabled:
            status = "disabled"
        elif name in loaded:
            status, api, caps = "loaded", loaded[name].info.api_version, loaded[name].capabilities
        elif name in failures:
            status, error = "error", failures[name]
        rows.append(
            BackendStatus(
                name=name, distribution=first.distribution, version=first.version, entry_point=first.value,
                installed=True, api_version=api, status=status, error=error, capabilities=caps,
            )
        )
    for name, dist in KNOWN_BACKENDS.items():
        if name not in entries:
            rows.append(
                BackendStatus(
                    name=name, distribution=None, version=None, entry_point=None, installed=False,
                    status="not installed", error=f"pip install {dist}",
                )
            )
    return rows


def _unknown_error(requested: str, name: str, entries: dict[str, list[BackendEntry]]) -> UnknownBackendError:
    installed = sorted(entries)
    candidates = sorted(set(KNOWN_BACKENDS) | set(installed) | set(ALIASES))
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    suggestion = f" Did you mean '{canonical_name(close[0])}'?" if close else ""
    known = ", ".join(f"{n} ({d})" for n, d in KNOWN_BACKENDS.items())
    return UnknownBackendError(
        f"Unknown backend '{requested}'.{suggestion} Installed backends: {', '.join(installed) or 'none'}. "
        f"Known backends: {known}; aliases: {', '.join(f'{a}={c}' for a, c in ALIASES.items())}."
    )


def _record_failure(name: str, exc: BaseException) -> None:
    with _LOCK:
        if _STATE.failures is None:
            _STATE.failures = {}
        _STATE.failures[name] = f"{type(exc).__name__}: {exc}"


def get_backend(name: str) -> Backend:
    """Load backend ``name`` (aliases accepted) and return its handle; cached per process.

    Only this backend's entry point is imported.

    Raises
    ------
    UnknownBackendError
        Neither known nor installed (lists both, with a "did you mean").
    BackendNotInstalledError
        Known but not installed; the message contains ``pip install ptychopinn-...``.
    BackendLoadError
        Installed but its plugin fails to import, is disabled, or misdescribes itself
        (names distribution and version; chains the original exception).
    BackendIncompatibleError
        Hook signatures or required hooks do not match this core, or the API version is
        incompatible (names both versions and the upgrade command).
    DuplicateBackendError
        Two distributions provide the name (names both).
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownBackendError(f"Backend name must be a non-empty string, got {name!r}")
    canonical = canonical_name(name)
    entries = _scan()
    with _LOCK:
        loaded = _STATE.loaded if _STATE.loaded is not None else {}
        if canonical in loaded:
            return loaded[canonical]
    group = entries.get(canonical)
    if not group:
        if canonical in KNOWN_BACKENDS:
            dist = KNOWN_BACKENDS[canonical]
            others = ", ".join(sorted(entries)) or "none"
            raise BackendNotInstalledError(
                f"PtychoPINN backend '{canonical}' selected, but it is not installed. {install_hint(canonical)} "
                f"Installed backends: {others}.",
                backend=canonical,
                distribution=dist,
            )
        raise _unknown_error(name, canonical, entries)
    if len(group) > 1:
        raise _duplicate_error(canonical, group)
    entry = group[0]
    if canonical in disabled_backends():
        raise BackendLoadError(
            f"Backend '{canonical}' ({entry.label}) is disabled by PTYCHOPINN_DISABLE_BACKENDS="
            f"{os.environ.get('PTYCHOPINN_DISABLE_BACKENDS', '')!r}; remove it from that variable to use it."
        )
    from ptychopinn.plugins.loading import load_entry

    try:
        handle = load_entry(entry)
    except BackendError as exc:
        _record_failure(canonical, exc)
        raise
    with _LOCK:
        if _STATE.loaded is None:
            _STATE.loaded = {}
        _STATE.loaded[canonical] = handle
        if _STATE.failures:
            _STATE.failures.pop(canonical, None)
    return handle


def entry_point_values() -> dict[str, str]:
    """Installed backend name -> entry-point value (metadata only; duplicates left out)."""
    return {name: group[0].value for name, group in _scan().items() if len(group) == 1}


def backends_with(capability: str, *, near: str | None = None) -> list[str]:
    """Installed backends that declare ``capability``, sorted.

    Only trusted plugin modules are imported for this (they are framework-free at import): the
    project's own backends (:data:`KNOWN_BACKENDS`), backends already loaded in this process, and
    the backends of the distribution that provides ``near``. A third-party plugin is never
    imported just to answer (its import may hang or end the process; ``ptychopinn backends
    --check`` checks each in a child process). A backend that fails to load is left out.
    """
    entries = _scan()
    loaded = set(_STATE.loaded or {})
    near_dist = entries[near][0].distribution if near in entries and len(entries[near]) == 1 else None
    found = []
    for name in installed_backends():
        group = entries[name]
        same_dist = near_dist is not None and group[0].distribution == near_dist
        trusted = name in KNOWN_BACKENDS or name in loaded or same_dist
        if len(group) != 1 or not trusted:
            continue
        try:
            handle = get_backend(name)
        except BackendError:
            continue
        if handle.supports(capability):
            found.append(name)
    return found
