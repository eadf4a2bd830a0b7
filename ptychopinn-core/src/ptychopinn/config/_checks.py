"""Small validators shared by the configuration dataclasses (messages name the field)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ptychopinn.errors import ConfigError


MAX_INT: dict[str, int] = {
    "epochs": 1_000_000,
    "batch_size": 1 << 20,
    "n_groups": 1 << 31,
    "seed": (1 << 32) - 1,
    "neighbor_count": 1024,
    "gridsize": 16,
    "n_filters_scale": 64,
    "plateau_patience": 1_000_000,
    "early_stopping_patience": 1_000_000,
    "stitch_window_px": 1 << 16,
}
"""Largest value of an integer field (by field name); every other integer field: :data:`DEFAULT_MAX_INT`.

Beyond these a value is a typo or an attack (a 20-digit batch size, a seed no framework accepts),
and is refused before any backend sees it."""

DEFAULT_MAX_INT = (1 << 31) - 1
"""Largest value of an integer configuration field without an entry in :data:`MAX_INT`."""


def check_int(
    owner: str, field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an int (not bool) in [``minimum``, ``maximum``].

    ``maximum`` defaults to ``MAX_INT[field]``, else :data:`DEFAULT_MAX_INT`.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{owner}.{field} must be an integer, got {_show(value)} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{owner}.{field} must be >= {minimum}, got {_show(value)}")
    top = maximum if maximum is not None else MAX_INT.get(field, DEFAULT_MAX_INT)
    if value > top:
        raise ConfigError(f"{owner}.{field} must be <= {top}, got {_show(value)}")


def _show(value: Any) -> str:
    """A bounded, printable repr (a 5000-digit integer or a YAML alias bomb is abbreviated)."""
    from ptychopinn._safety import short_repr

    return short_repr(value)


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
        raise ConfigError(f"{owner}.{field} must be a number, got {_show(value)} ({type(value).__name__})")
    if isinstance(value, int) and abs(value) > 1e300:
        raise ConfigError(f"{owner}.{field} must be a finite number, got an integer of {len(str(abs(value)))} digits")
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{owner}.{field} must be finite, got {_show(value)}")
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
        raise ConfigError(f"{owner}.{field} must be one of {listed}; got {_show(value)}")


def check_bool(owner: str, field: str, value: Any) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a real bool (not ``"False"``)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{owner}.{field} must be true or false, got {_show(value)} ({type(value).__name__})")


def check_inference_for_patterns(config: Any, *, N: int) -> None:
    """Raise :class:`ConfigError` when an InferenceConfig cannot apply to patterns of side ``N``.

    ``stitch_window_px`` (used with ``stitch_weight = "window"``) must lie in (0, N] with N minus it even.
    """
    size = getattr(config, "stitch_window_px", None)
    if getattr(config, "stitch_weight", None) == "window" and size is not None and (size > N or (N - size) % 2):
        raise ConfigError(
            f"InferenceConfig.stitch_window_px must be at most N = {N} with N - stitch_window_px even "
            f"(a central window of the {N} x {N} patch), got {_show(size)}"
        )
