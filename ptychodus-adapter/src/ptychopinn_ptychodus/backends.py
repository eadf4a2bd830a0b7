"""Parent-side backend checks: entry-point metadata only, nothing is imported.

The parent (Ptychodus's GUI process) must fail fast with core's typed errors and install
commands before a child is spawned, and must never import a backend, let alone a framework.
"""

from __future__ import annotations

import difflib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ptychopinn.errors import BackendError, BackendNotInstalledError, BundleError, UnknownBackendError

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.bundle import BundleInfo

__all__ = ["bundle_info", "check_backend_installed", "resolve_training_backend"]


def _installed() -> list[str]:
    from ptychopinn.plugins.registry import installed_backends

    return installed_backends()


def check_backend_installed(name: str, *, purpose: str) -> str:
    """Return the canonical ``name`` when it is installed, else raise core's typed error.

    Parameters
    ----------
    name : str
        Backend name or alias.
    purpose : str
        What the backend is needed for, e.g. ``"training"`` (used in messages).

    Raises
    ------
    BackendNotInstalledError
        A known backend that is not installed (message has ``pip install ptychopinn-...``).
    UnknownBackendError
        Neither known nor installed (message lists both, with a "did you mean").
    """
    from ptychopinn.plugins.names import KNOWN_BACKENDS, canonical_name, install_hint

    from ptychopinn.plugins.registry import disabled_backends

    canonical = canonical_name(name)
    installed = _installed()
    if canonical in installed:
        return canonical
    if canonical in disabled_backends():
        raise BackendNotInstalledError(
            f"PtychoPINN backend '{canonical}' selected for {purpose}, but it is disabled by the "
            "PTYCHOPINN_DISABLE_BACKENDS environment variable (installed and enabled: "
            f"{', '.join(installed) or 'none'}). Remove it from that variable, or select another backend.",
            backend=canonical,
            distribution=KNOWN_BACKENDS.get(canonical, canonical),
        )
    if canonical in KNOWN_BACKENDS:
        raise BackendNotInstalledError(
            f"PtychoPINN backend '{canonical}' selected for {purpose}, but it is not installed "
            f"(installed: {', '.join(installed) or 'none'}). {install_hint(canonical)}",
            backend=canonical,
            distribution=KNOWN_BACKENDS[canonical],
        )
    candidates = sorted(set(KNOWN_BACKENDS) | set(installed))
    close = difflib.get_close_matches(canonical, candidates, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise UnknownBackendError(
        f"Unknown PtychoPINN backend '{name}' selected for {purpose}.{hint} Known backends: "
        f"{', '.join(sorted(KNOWN_BACKENDS))}; installed: {', '.join(installed) or 'none'}."
    )


def resolve_training_backend(requested: str | None) -> str:
    """The backend a training run will use: the setting, else core's selection rule; must be installed."""
    from ptychopinn.plugins.selection import select_backend_name

    try:
        name = select_backend_name(requested)
    except BackendError:
        raise
    return check_backend_installed(name, purpose="training")


def bundle_info(path: Path) -> BundleInfo:
    """What a model bundle says about its model, from one checked manifest read (weights are not read).

    Uses :func:`ptychopinn.bundle.read_bundle_info` (JSON only: no unpickling, no framework), which
    also rejects truncated, tampered and future-format bundles; the child process reads the bundle
    once more, with its weights, in :func:`ptychopinn.load_model`.

    Raises
    ------
    BundleError
        Not a file, not a bundle (with a hint for Ptychodus's built-in PtychoPINN models),
        tampered or from a future format.
    """
    from ptychopinn.bundle import read_bundle_info

    p = Path(path)
    if not p.is_file():
        raise BundleError(f"{p}: no such model bundle file")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{p}: not a PtychoPINN model bundle (not a zip archive: {exc})") from None
    if "manifest.json" not in names:
        raise BundleError(
            f"{p}: not a PtychoPINN model bundle (no manifest.json inside). Models of Ptychodus's built-in "
            "'PtychoPINN' (TensorFlow, wts.h5.zip) and 'PtychoPINN-Torch' libraries open with those libraries."
        )
    return read_bundle_info(p)
