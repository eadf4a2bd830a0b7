"""``resolve_dataclass_options``: a backend's options from None, its dataclass or a mapping.

Every backend with options keeps them in one frozen dataclass (``TorchOptions``, ``TFOptions``...)
and resolves what core hands its ``ptychopinn_resolve_options`` hook (the dataclass itself, a plain
mapping read from a configuration file's ``[backend_options]`` table, or None) the same way: this
function is that way, written once. Framework-free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from ptychopinn.errors import ConfigError

__all__ = ["resolve_dataclass_options"]

T = TypeVar("T")


def resolve_dataclass_options(
    cls: type[T], options: object | None, *, label: str, tuple_fields: tuple[str, ...] = ()
) -> T:
    """``cls()`` for None, ``options`` itself for a ``cls`` instance, ``cls(**options)`` for a mapping.

    Parameters
    ----------
    cls : type
        The backend's options dataclass (its ``__post_init__`` checks the values).
    options : object or None
        What the caller passed.
    label : str
        The backend's name in messages (``"PyTorch"``, ``"TensorFlow"``).
    tuple_fields : tuple of str
        Fields whose list value (from a configuration file) becomes a tuple.

    Returns
    -------
    cls instance

    Raises
    ------
    ConfigError
        For unknown keys (each named, with the known ones listed), a value ``cls`` refuses,
        or an object of another type (its type named).
    """
    if options is None:
        return cls()
    if isinstance(options, cls):
        return options
    if isinstance(options, Mapping):
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(str(k) for k in options if k not in known)
        if unknown:
            raise ConfigError(
                f"unknown {label} backend option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = dict(options)
        for name in tuple_fields:
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return cls(**values)
    raise ConfigError(
        f"{label} backend options must be a {cls.__module__}.{cls.__qualname__}, a mapping or None, "
        f"got {type(options).__name__}"
    )
