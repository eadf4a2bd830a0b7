"""Helpers shared by the commands: common options, configuration loading, atomic JSON output."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ptychopinn._atomic import atomic_write

__all__ = ["add_backend_option", "add_config_option", "load_run_config", "write_json_atomic"]


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="backend to use (tensorflow|tf, pytorch|torch, or any installed one); default: the configuration's "
        "'backend', then $PTYCHOPINN_BACKEND, then the only installed backend, then tensorflow",
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", type=Path, help="TOML or YAML configuration ([model], [training], [inference], "
        "backend, [backend_options]); unknown keys are errors"
    )


def load_run_config(path: Path | None) -> tuple[Any, dict[str, Any]]:
    """(RunConfig, raw mapping) of ``path``, or the defaults and ``{}``."""
    from ptychopinn.config.files import RunConfig, config_from_mapping, read_config_mapping

    if path is None:
        return RunConfig(), {}
    raw = read_config_mapping(path)
    return config_from_mapping(raw, source=str(path)), raw


def replace_given(config: Any, *, source: str = "command-line option", **values: Any) -> Any:
    """``dataclasses.replace`` with only the values that are not None (flags the user gave).

    ``source`` says where the values came from in the error message (a flag, or the scan file).
    """
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return config
    from ptychopinn.errors import ConfigError

    try:
        return dataclasses.replace(config, **given)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    from ptychopinn._safety import check_output_target

    text = json.dumps(data, indent=2, sort_keys=True, default=str, allow_nan=True) + "\n"
    check_output_target(path)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def config_dict(config: Any) -> dict[str, Any]:
    """A frozen config as a JSON-ready dict."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
