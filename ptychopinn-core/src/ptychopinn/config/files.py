"""Configuration files: TOML (``tomllib``) or YAML (``pyyaml``), one schema for every backend.

A file has up to five top-level keys::

    backend = "pytorch"            # optional: the backend to use (a config field of the selection rule)

    [model]                        # ModelConfig fields
    N = 64
    gridsize = 2

    [training]                     # TrainingConfig fields
    epochs = 30

    [inference]                    # InferenceConfig fields
    batch_size = 512

    [backend_options]              # passed to the backend untouched (device, precision, strategy...)
    accelerator = "cpu"

Any other key, at the top level or inside ``model``/``training``/``inference``, is a
:class:`~ptychopinn.errors.ConfigError` that names the key and the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptychopinn.config.inference import InferenceConfig
from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.errors import ConfigError

__all__ = ["SECTIONS", "RunConfig", "config_from_mapping", "config_to_mapping", "dump_toml", "load_config",
           "read_config_mapping"]

SECTIONS: dict[str, type] = {"model": ModelConfig, "training": TrainingConfig, "inference": InferenceConfig}
TOP_LEVEL_KEYS: tuple[str, ...] = ("backend", "model", "training", "inference", "backend_options")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything a configuration file holds."""

    model: ModelConfig = field(default_factory=ModelConfig)
    """Architecture and physics."""

    training: TrainingConfig = field(default_factory=TrainingConfig)
    """How to train."""

    inference: InferenceConfig = field(default_factory=InferenceConfig)
    """How to reconstruct."""

    backend: str | None = None
    """Top-level ``backend`` key (``training.backend``/``inference.backend`` take precedence)."""

    backend_options: Mapping[str, Any] = field(default_factory=dict)
    """The ``[backend_options]`` table, untouched."""

    source: str | None = None
    """The file it was read from."""

    @property
    def training_backend(self) -> str | None:
        """Backend named by the configuration for training."""
        return self.training.backend or self.backend

    @property
    def inference_backend(self) -> str | None:
        """Backend named by the configuration for reconstruction."""
        return self.inference.backend or self.backend


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _coerce(kind: type, key: str, value: Any) -> Any:
    """YAML 1.1 reads ``1e-3`` as a string: turn numeric strings into floats for float fields."""
    annotation = str({f.name: f.type for f in dataclasses.fields(kind)}[key])
    if isinstance(value, str) and "float" in annotation:
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def _section(kind: type, section: str, data: Any, where: str) -> Any:
    if data is None:
        return kind()
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}[{section}] must be a table of keys, got {type(data).__name__}")
    valid = [f.name for f in dataclasses.fields(kind)]
    for key in data:
        if key not in valid:
            raise ConfigError(
                f"{where}unknown key '{section}.{key}'.{_suggest(str(key), valid)} "
                f"Valid keys of [{section}]: {', '.join(valid)}"
            )
    values = {k: _coerce(kind, k, v) for k, v in data.items()}
    defaults = kind()
    for key, value in list(values.items()):  # nested options, e.g. [inference.refinement]
        default = getattr(defaults, key)
        if dataclasses.is_dataclass(default) and not isinstance(default, type):
            values[key] = _section(type(default), f"{section}.{key}", value, where)
    try:
        return kind(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}[{section}]: {exc}") from exc


def config_from_mapping(data: Mapping[str, Any], *, source: str | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from parsed file content; unknown keys are errors.

    Parameters
    ----------
    data : mapping
        Top-level table.
    source : str, optional
        File name for messages.
    """
    where = f"{source}: " if source else ""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}a configuration file must hold a table/mapping at the top level")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = _suggest(str(key), list(TOP_LEVEL_KEYS))
            if str(key) in {f.name for kind in SECTIONS.values() for f in dataclasses.fields(kind)}:
                hint += " Configuration fields belong in a [model], [training] or [inference] section."
            legacy = " If this file was written for the published PtychoPINN, run 'ptychopinn config migrate FILE'."
            raise ConfigError(
                f"{where}unknown top-level key '{key}'.{hint} Valid top-level keys: {', '.join(TOP_LEVEL_KEYS)}."
                f"{legacy}"
            )
    backend = data.get("backend")
    if backend is not None and (not isinstance(backend, str) or not backend.strip()):
        raise ConfigError(f"{where}'backend' must be a backend name, got {backend!r}")
    options = data.get("backend_options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}[backend_options] must be a table, got {type(options).__name__}")
    return RunConfig(
        model=_section(ModelConfig, "model", data.get("model"), where),
        training=_section(TrainingConfig, "training", data.get("training"), where),
        inference=_section(InferenceConfig, "inference", data.get("inference"), where),
        backend=backend,
        backend_options=dict(options),
        source=source,
    )


def read_config_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file into a dict (no validation)."""
    from ptychopinn._safety import regular_file_problem

    p = Path(path)
    problem = regular_file_problem(p)
    if problem == "no such file":
        raise ConfigError(f"{p}: no such configuration file")
    if problem:
        raise ConfigError(f"{p}: {problem}; expected a TOML or YAML configuration file")
    suffix = p.suffix.lower()
    from ptychopinn.config._bounded import check_size, check_structure, parse_error

    try:
        check_size(p)
        if suffix == ".toml":
            import tomllib

            with p.open("rb") as handle:
                table = tomllib.load(handle)
            check_structure(table, where=p)
            return table
        if suffix in (".yaml", ".yml"):
            import yaml

            from ptychopinn.config._bounded import strict_yaml_loader

            with p.open("r", encoding="utf-8") as handle:
                loaded = yaml.load(handle, Loader=strict_yaml_loader())  # noqa: S506 - a SafeLoader subclass
            if loaded is None:
                return {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"{p}: expected a mapping at the top level, got {type(loaded).__name__}")
            check_structure(loaded, where=p)
            return loaded
    except ConfigError:
        raise
    except (Exception, RecursionError) as exc:  # tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError...
        raise parse_error(p, exc) from None
    raise ConfigError(f"{p}: unsupported configuration file type {suffix!r}; use .toml, .yaml or .yml")


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read and validate a configuration file (TOML or YAML)."""
    return config_from_mapping(read_config_mapping(path), source=str(path))


def config_to_mapping(config: RunConfig, *, only_changed: bool = False) -> dict[str, Any]:
    """The file form of ``config`` (None values are omitted: TOML has no null)."""
    out: dict[str, Any] = {}
    if config.backend:
        out["backend"] = config.backend
    for section, kind in SECTIONS.items():
        current = getattr(config, section)
        default = kind()
        table = {
            f.name: _plain(getattr(current, f.name))
            for f in dataclasses.fields(kind)
            if getattr(current, f.name) is not None
            and (not only_changed or getattr(current, f.name) != getattr(default, f.name))
        }
        if table or not only_changed:
            out[section] = table
    if config.backend_options:
        out["backend_options"] = dict(config.backend_options)
    return out


def _plain(value: Any) -> Any:
    """A nested options dataclass as a table (its None fields omitted); other values unchanged."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    return value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "nan" if value != value else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(_toml_char(ch) for ch in value)
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()  # TOML's own date/time literals
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def _toml_char(ch: str) -> str:
    """One character of a TOML basic string; control characters become \\uXXXX (never raw escapes)."""
    if ch == "\\":
        return "\\\\"
    if ch == '"':
        return '\\"'
    if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
        return f"\\u{ord(ch):04x}"
    return ch


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def dump_toml(data: Mapping[str, Any], *, header: str = "") -> str:
    """Serialise nested mappings of scalars/lists to TOML text (None values are skipped)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")

    def emit(table: Mapping[str, Any], prefix: str) -> None:
        scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping) and v is not None]
        tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
        if prefix:
            lines.append(f"[{prefix}]")
        for key, value in scalars:
            lines.append(f"{_toml_key(str(key))} = {_toml_value(value)}")
        if prefix or scalars:
            lines.append("")
        for key, value in tables:
            emit(value, f"{prefix}.{_toml_key(str(key))}" if prefix else _toml_key(str(key)))

    emit(data, "")
    return "\n".join(lines).rstrip() + "\n"
