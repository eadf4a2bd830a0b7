"""Small validators shared by the configuration dataclasses (messages name the field)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ptychopinn.errors import ConfigError


def check_int(owner: str, field: str, value: Any, *, minimum: int | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an int (not bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{owner}.{field} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{owner}.{field} must be >= {minimum}, got {value}")


def check_float(
    owner: str,
    field: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite real number in range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{owner}.{field} must be a number, got {value!r} ({type(value).__name__})")
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{owner}.{field} must be finite, got {value!r}")
    if minimum is not None:
        if strict_minimum and not value > minimum:
            raise ConfigError(f"{owner}.{field} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ConfigError(f"{owner}.{field} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{owner}.{field} must be <= {maximum}, got {value}")


def check_choice(owner: str, field: str, value: Any, choices: Collection[Any]) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{owner}.{field} must be one of {listed}; got {value!r}")


def check_bool(owner: str, field: str, value: Any) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a real bool (not ``"False"``)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}.{field} must be true or false, got {value!r} ({type(value).__name__})")
