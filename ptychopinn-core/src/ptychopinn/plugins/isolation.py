"""Bounded plugin loading: a timeout on a plugin's import, and checking plugins in child processes.

A plugin module is third-party code. Importing it may hang (a network file system, a lock, a
bug), raise ``SystemExit`` or ``KeyboardInterrupt``, or crash the interpreter. Core therefore

- imports a plugin only when that backend is requested (:func:`load_bounded`, with a timeout
  on the main thread of POSIX systems: ``SIGALRM``; elsewhere without one);
- checks every installed backend for ``ptychopinn backends --check`` in a child process each
  (:func:`check_backends_isolated`), so that a hang, a crash or an exit of one plugin becomes
  that plugin's status and never stops the listing.

Environment
-----------
``PTYCHOPINN_PLUGIN_TIMEOUT``
    Seconds a plugin's import (and a child check) may take; default 60.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any

__all__ = ["DEFAULT_TIMEOUT_S", "check_backends_isolated", "import_timeout_s", "load_bounded"]

DEFAULT_TIMEOUT_S = 60.0
"""Default bound on a plugin import, in seconds."""


def import_timeout_s() -> float:
    """``PTYCHOPINN_PLUGIN_TIMEOUT`` in seconds (positive number), else :data:`DEFAULT_TIMEOUT_S`."""
    raw = os.environ.get("PTYCHOPINN_PLUGIN_TIMEOUT", "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value < 1e6 else DEFAULT_TIMEOUT_S


class _ImportTimeout(BaseException):
    """Raised inside a hanging import by the alarm (a BaseException so plugin code cannot swallow it casually)."""


@contextlib.contextmanager
def _alarm(timeout_s: float) -> Iterator[None]:
    """Raise :class:`_ImportTimeout` in the main thread after ``timeout_s``; no-op where impossible."""
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return

    def fire(signum: int, frame: FrameType | None) -> None:
        raise _ImportTimeout

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_bounded(entry_point: Any, *, timeout_s: float) -> Any:
    """``entry_point.load()`` bounded by ``timeout_s`` seconds (where the platform allows a timeout).

    Raises
    ------
    TimeoutError
        The import did not finish in time.
    BaseException
        Whatever the import raised, including ``SystemExit`` and ``KeyboardInterrupt``
        (the caller reports them as the plugin's failure).
    """
    try:
        with _alarm(timeout_s):
            return entry_point.load()
    except _ImportTimeout:
        raise TimeoutError(f"import did not finish within {timeout_s:g} s") from None


_CHILD = r"""
import json, sys
from ptychopinn.plugins.registry import get_backend
name = sys.argv[1]
try:
    b = get_backend(name)
    out = {"status": "loaded", "api": list(b.info.api_version), "error": None,
           "capabilities": sorted(b.capabilities)}
except BaseException as exc:
    out = {"status": "error", "api": None, "error": f"{type(exc).__name__}: {exc}", "capabilities": None}
sys.stdout.write("\n@@ptychopinn-check@@" + json.dumps(out) + "\n")
sys.stdout.flush()
"""


def _check_one(name: str, timeout_s: float) -> dict[str, Any]:
    env = {**os.environ, "PTYCHOPINN_PLUGIN_TIMEOUT": str(timeout_s)}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, name], capture_output=True, text=True, timeout=timeout_s + 15,
            env=env, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "api": None, "error": f"checking it did not finish within {timeout_s + 15:g} s"}
    marker = "@@ptychopinn-check@@"
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(marker):
            try:
                return dict(json.loads(line[len(marker):]))
            except ValueError:
                break
    tail = " ".join((proc.stderr or "").split())[-300:]
    return {"status": "error", "api": None,
            "error": f"the plugin ended the checking process (exit code {proc.returncode})"
                     + (f": {tail}" if tail else "")}


def check_backends_isolated(names: list[str], *, timeout_s: float | None = None) -> dict[str, dict[str, Any]]:
    """Load each backend in a child process of its own; ``{name: {"status", "api", "error"}}``.

    A plugin that hangs, exits or crashes yields ``status == "error"`` with the reason; the
    others are unaffected. Children run in parallel.
    """
    limit = import_timeout_s() if timeout_s is None else timeout_s
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        results = list(pool.map(lambda n: _check_one(n, limit), names))
    return dict(zip(names, results, strict=True))
