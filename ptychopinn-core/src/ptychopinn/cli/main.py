"""Entry point of the ``ptychopinn`` command line.

Commands are modules of :mod:`ptychopinn.cli` following the protocol ``add_parser(subparsers)``
(registering a subcommand with ``set_defaults(func=run)``) and ``run(args) -> int``. Any
:class:`~ptychopinn.errors.PtychoPINNError` becomes a one-paragraph message on stderr and
exit code 2, without a traceback (``--traceback`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ptychopinn._version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = (
    "backends",
    "simulate",
    "train",
    "reconstruct",
    "evaluate",
    "inspect",
    "demo",
    "config_cmd",
)
"""Command modules in help order; a module that is not present is skipped."""

EXIT_ERROR = 2
"""Exit code of a PtychoPINN error (bad input, missing backend...)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command registered."""
    parser = argparse.ArgumentParser(
        prog="ptychopinn",
        description="PtychoPINN: physics-informed neural-network ptychography (train, reconstruct, evaluate).",
    )
    parser.add_argument("--version", action="version", version=f"ptychopinn-core {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"ptychopinn.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ptychopinn.cli.{name}":
                continue
            raise
        module.add_parser(subparsers)
    return parser


def _paragraph(message: str) -> str:
    """One paragraph (one line, never wrapped: commands in it stay copy-pasteable)."""
    return "ptychopinn: error: " + " ".join(message.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from ptychopinn.errors import PtychoPINNError

    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(func(args) or 0)
    except PtychoPINNError as exc:
        if args.traceback:
            raise
        print(_paragraph(str(exc)), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ptychopinn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
