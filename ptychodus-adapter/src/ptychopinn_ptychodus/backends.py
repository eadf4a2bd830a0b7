"""Parent-side backend checks: entry-point metadata only, nothing is imported.

The parent (Ptychodus's GUI process) must fail fast with core's typed errors and install
commands before a child is spawned, and must never import a backend, let alone a framework.
"""

from __future__ import annotations

import difflib
import json
import zipfile
from pathlib import Path

from ptychopinn.errors import BackendError, BackendNotInstalledError, BundleError, UnknownBackendError

__all__ = ["bundle_backend", "check_backend_installed", "resolve_training_backend"]


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

    canonical = canonical_name(name)
    installed = _installed()
    if canonical in installed:
        return canonical
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


def bundle_backend(path: Path) -> str:
    """Read the ``backend`` a model bundle was written by, from its ``manifest.json`` only.

    Uses zipfile + json (no unpickling, no framework); full validation (checksums, format
    version) happens in the child through :func:`ptychopinn.load_model`.

    Raises
    ------
    BundleError
        Not a file, not a zip, no manifest, or no backend field.
    """
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"{p}: no such model bundle file")
    try:
        with zipfile.ZipFile(p) as zf:
            try:
                info = zf.getinfo("manifest.json")
            except KeyError:
                raise BundleError(
                    f"{p}: not a PtychoPINN model bundle (no manifest.json inside). Ptychodus's built-in "
                    "PtychoPINN (TensorFlow) models are opened with the 'PtychoPINN' reconstructors instead."
                ) from None
            if info.file_size > 16 * 1024 * 1024:
                raise BundleError(f"{p}: manifest.json is implausibly large ({info.file_size} bytes)")
            manifest = json.loads(zf.read(info).decode("utf-8"))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{p}: not a PtychoPINN model bundle (not a zip archive: {exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{p}: manifest.json is not valid JSON ({exc})") from None
    backend = manifest.get("backend") if isinstance(manifest, dict) else None
    if not isinstance(backend, str) or not backend:
        raise BundleError(f"{p}: manifest.json has no 'backend' field")
    return backend
