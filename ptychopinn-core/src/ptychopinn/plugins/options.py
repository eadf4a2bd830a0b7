"""Backend options: who owns an options object, refused at selection when it is another backend's.

A backend's options are its own frozen dataclass (``TorchOptions``, ``TFOptions``...), a plain
mapping read from the ``[backend_options]`` table of a configuration file, or None. Core hands a
mapping (or None) to the backend's ``ptychopinn_resolve_options`` hook; a dataclass is first
checked to belong to the backend it is given to, so that a ``TFOptions`` given to the PyTorch
backend fails at once with a message naming both, not deep inside a hook.
"""

from __future__ import annotations

from collections.abc import Mapping

from ptychopinn.errors import ConfigError

__all__ = ["options_owner", "top_module"]


def top_module(dotted: str) -> str:
    """The top-level package of a dotted module path (``"ptychopinn_torch.options"`` -> ``"ptychopinn_torch"``)."""
    return dotted.split(":", 1)[0].split(".", 1)[0]


def options_owner(options: object, *, entry_points: Mapping[str, str]) -> str | None:
    """The backend that owns ``options``, or None when it cannot be told (a mapping, an unknown class).

    Parameters
    ----------
    options : object
        An options object (not None).
    entry_points : mapping
        Installed backend name -> its entry-point value (``package.module`` or ``package.module:object``).

    Returns
    -------
    str or None
        The ``backend`` class attribute of the options class when it has one (a string), else the
        installed backend whose plugin lives in the same top-level package as the options class.
    """
    if isinstance(options, Mapping):
        return None
    declared = getattr(type(options), "backend", None)
    if isinstance(declared, str) and declared:
        return declared
    package = top_module(type(options).__module__)
    owners = sorted(name for name, value in entry_points.items() if top_module(value) == package)
    return owners[0] if len(owners) == 1 else None


def refuse_foreign(options: object, *, backend: str, owner: str | None, own_package: str) -> None:
    """Raise :class:`ConfigError` when ``options`` belongs to another backend than ``backend``."""
    if owner is None or owner == backend:
        return
    if top_module(type(options).__module__) == own_package and getattr(type(options), "backend", None) is None:
        return  # the backend's package provides several backends (one distribution, several entry points)
    raise ConfigError(
        f"{type(options).__name__} are the options of backend '{owner}', but backend '{backend}' was selected. "
        f"Pass '{backend}' options (or a mapping, or none), or select backend '{owner}'."
    )
