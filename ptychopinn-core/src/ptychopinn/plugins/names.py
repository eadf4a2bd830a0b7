"""Backend names: known backends, aliases and install commands (no imports, no IO)."""

from __future__ import annotations

__all__ = [
    "ALIASES",
    "DEFAULT_BACKEND",
    "ENTRY_POINT_GROUP",
    "KNOWN_BACKENDS",
    "canonical_name",
    "install_hint",
]

ENTRY_POINT_GROUP = "ptychopinn.backends"
"""Entry-point group a backend distribution registers its plugin module under."""

KNOWN_BACKENDS: dict[str, str] = {
    "tensorflow": "ptychopinn-tf",
    "pytorch": "ptychopinn-torch",
    "onnx": "ptychopinn-onnx",
}
"""Canonical backend name -> the distribution that provides it."""

ALIASES: dict[str, str] = {"tf": "tensorflow", "torch": "pytorch"}
"""Accepted aliases -> canonical backend name."""

DEFAULT_BACKEND = "tensorflow"
"""Backend chosen when several are installed and nothing else selects one (documented default)."""

_EXTRA_NOTES: dict[str, str] = {
    "tensorflow": (
        " ptychopinn-tf takes TensorFlow from an extra when it is not installed yet: "
        "pip install 'ptychopinn-tf[cpu]' (or 'ptychopinn-tf[gpu]' for CUDA)."
    ),
}


def canonical_name(name: str) -> str:
    """Normalise a user-supplied backend name: strip, lower-case, resolve aliases.

    Parameters
    ----------
    name : str
        E.g. ``"TF"``, ``"torch"``, ``"pytorch"``.

    Returns
    -------
    str
        Canonical name (``"tensorflow"``, ``"pytorch"``, or the name as given, lower-cased).
    """
    key = name.strip().lower()
    return ALIASES.get(key, key)


def install_hint(name: str, distribution: str | None = None) -> str:
    """The sentence telling the user how to install backend ``name``.

    Always contains the plain command ``pip install <distribution>``.
    """
    dist = distribution or KNOWN_BACKENDS.get(name)
    if dist is None:
        return f"Install the distribution that provides backend '{name}'."
    return f"Install it with: pip install {dist}.{_EXTRA_NOTES.get(name, '')}"
