"""Bounds on configuration files: size, nesting depth, alias expansion, integer length.

A configuration file is small; anything else is a mistake or an attack. YAML aliases make
a small file describe an exponentially large structure ("billion laughs"): ``yaml.safe_load``
shares the aliased objects, so loading is cheap, but everything that walks the result (a
message that shows a value, the migration report) would expand it. :func:`check_structure`
counts the expanded size once, with memoisation, and refuses bombs and recursive aliases.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ptychopinn.errors import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "MAX_DEPTH", "MAX_EXPANDED_NODES", "check_size", "check_structure", "parse_error",
           "strict_yaml_loader"]

MAX_CONFIG_BYTES = 1 << 20
"""Largest configuration file read (1 MiB)."""

MAX_DEPTH = 32
"""Deepest nesting of tables/lists accepted."""

MAX_EXPANDED_NODES = 100_000
"""Most values a file may describe once YAML aliases are expanded."""


def check_size(path: Path) -> None:
    """Refuse files larger than :data:`MAX_CONFIG_BYTES` before reading them."""
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {size} bytes; a configuration file may be at most {MAX_CONFIG_BYTES} bytes")


def check_structure(data: Any, *, where: Path) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, recursive aliases, more than :data:`MAX_EXPANDED_NODES` values."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any, depth: int) -> int:
        if not isinstance(value, (Mapping, list, tuple)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}: nested more than {MAX_DEPTH} levels deep; a configuration is at most a few")
        if key in active:
            raise ConfigError(f"{where}: a YAML alias refers to itself (a recursive structure); remove it")
        active.add(key)
        children = list(value.keys()) + list(value.values()) if isinstance(value, Mapping) else list(value)
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_NODES:
                raise ConfigError(
                    f"{where}: describes more than {MAX_EXPANDED_NODES} values once its YAML aliases are expanded "
                    "(an alias bomb?); a configuration holds a few dozen"
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(data, 0)


def parse_error(path: Path, exc: BaseException) -> ConfigError:
    """A readable ConfigError for a parser failure (deep nesting, a huge integer, a syntax error)."""
    if isinstance(exc, RecursionError):
        return ConfigError(f"{path}: cannot parse: nested too deeply (at most {MAX_DEPTH} levels are accepted)")
    if isinstance(exc, ValueError) and "digits" in str(exc):
        return ConfigError(f"{path}: cannot parse: holds an integer with more than 4300 digits")
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return ConfigError(f"{path}: cannot parse ({type(exc).__name__}: {text})")


def strict_yaml_loader() -> type:
    """A ``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML would keep the last silently)."""
    import yaml

    class StrictSafeLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # '<<: *anchor' merges; its keys may be overridden on purpose
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key: the base class reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictSafeLoader
