"""Interrupts: remember that the user pressed Ctrl-C (or sent SIGTERM), whatever a framework does with it.

Frameworks catch ``KeyboardInterrupt`` and turn it into their own exit (Lightning prints a
message and calls ``sys.exit(1)``). The command line installs :func:`install_handlers`; the
handlers record the signal before raising ``KeyboardInterrupt``, so that core can report
"interrupted" and exit 130 even when a framework swallowed the interrupt.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["install_handlers", "interrupted_by", "reset"]

_RECEIVED: list[int] = []


def interrupted_by() -> int | None:
    """The signal number received since :func:`install_handlers` (SIGINT or SIGTERM), or None."""
    return _RECEIVED[-1] if _RECEIVED else None


def reset() -> None:
    """Forget received signals (tests)."""
    _RECEIVED.clear()


def _handler(signum: int, frame: FrameType | None) -> None:
    _RECEIVED.append(signum)
    raise KeyboardInterrupt


def install_handlers() -> None:
    """Route SIGINT and SIGTERM to ``KeyboardInterrupt`` and remember them (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _handler)
        except (ValueError, OSError):  # pragma: no cover - embedded interpreters
            pass
