"""Entry point of the ``ptychopinn`` command line.

Commands are modules of :mod:`ptychopinn.cli` following the protocol ``add_parser(subparsers)``
(registering a subcommand with ``set_defaults(func=run)``) and ``run(args) -> int``. Any
:class:`~ptychopinn.errors.PtychoPINNError` becomes a one-paragraph message on stderr and
exit code 2, without a traceback (``--traceback`` shows it).

Exit codes: 0 success; 2 a PtychoPINN error (bad input, missing backend, unwritable output,
a failing backend), or an operating-system error (disk full, permission denied, out of memory);
130 interrupted (Ctrl-C; 143 for SIGTERM): "interrupted" is printed and every output written
before stays intact; 1 an unexpected internal error (a bug: the message says so, and
``--traceback`` shows the traceback). Messages are made printable (control characters from
untrusted files are escaped, never sent to the terminal raw).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn, TextIO

from ptychopinn._version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = (
    "backends",
    "simulate",
    "train",
    "reconstruct",
    "evaluate",
    "export",
    "inspect",
    "demo",
    "config_cmd",
)
"""Command modules in help order; a module that is not present is skipped."""

EXIT_ERROR = 2
"""Exit code of a PtychoPINN error (bad input, missing backend...)."""

EXIT_BUG = 1
"""Exit code of an unexpected error (a bug in PtychoPINN or a backend)."""

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors made printable and bounded (a 5000-digit or escape-laden value is not echoed raw)."""

    def error(self, message: str) -> NoReturn:
        from ptychopinn._safety import printable

        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {printable(message, limit=300)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command registered."""
    parser = _Parser(
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
    """One printable paragraph (one line, never wrapped: commands in it stay copy-pasteable)."""
    from ptychopinn._safety import printable

    return "ptychopinn: error: " + printable(" ".join(message.split()), limit=4000)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Warnings as one printable line (no source line of PtychoPINN's code)."""
    from ptychopinn._safety import printable

    text = " ".join(str(message).split())
    print(f"ptychopinn: warning: {printable(text, limit=2000)}", file=file or sys.stderr)


def _interrupted() -> int:
    import signal

    from ptychopinn._signals import interrupted_by

    print("ptychopinn: interrupted", file=sys.stderr)
    return 128 + signal.SIGTERM if interrupted_by() == signal.SIGTERM else EXIT_INTERRUPTED


def _os_error(exc: OSError) -> str:
    """An operating-system error as a sentence naming the file."""
    import errno

    names = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    advice = {
        errno.ENOSPC: " Free some space or write elsewhere (-o).",
        errno.EDQUOT: " Free some space or write elsewhere (-o).",
        errno.EACCES: " Check the permissions, or write elsewhere (-o).",
        errno.EROFS: " The file system is read-only; write elsewhere (-o).",
        errno.EFBIG: " The file exceeds the size limit of this file system or process.",
    }.get(exc.errno or 0, "")
    return f"{names + ': ' if names else ''}{reason}.{advice}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from ptychopinn.errors import PtychoPINNError

    from ptychopinn._signals import install_handlers, interrupted_by

    install_handlers()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        return _interrupted()
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(func(args) or 0)
    except KeyboardInterrupt:
        return _interrupted()
    except SystemExit:  # a framework that turned Ctrl-C into sys.exit(1)
        if interrupted_by() is not None:
            return _interrupted()
        raise
    except PtychoPINNError as exc:
        if args.traceback:
            raise
        print(_paragraph(str(exc)), file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `ptychopinn backends | head -1`
        return 0
    except (OSError, MemoryError, RecursionError) as exc:
        if args.traceback:
            raise
        if isinstance(exc, OSError):
            text = _os_error(exc)
        elif isinstance(exc, MemoryError):
            text = f"out of memory ({exc or 'MemoryError'}); try a smaller --batch-size or --mmap"
        else:
            text = f"input nested too deeply to process ({exc})"
        print(_paragraph(text), file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if args.traceback:
            raise
        print(_paragraph(f"unexpected internal error: {type(exc).__name__}: {exc}. This is a bug; run again with "
                         "--traceback to see where, and report it."), file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
