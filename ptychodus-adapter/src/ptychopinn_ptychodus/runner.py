"""A small spawn-based child-process runner (the Ptychodus 1.7 process model, vendored).

Ptychodus 1.7 runs every reconstructor call in a freshly *spawned* child so that the GUI
process never initialises a GPU framework. Its own machinery
(``ptychodus.model.processing._subprocess_protocol``) lives under ``ptychodus.model``,
whose ``__init__`` boots the whole application core (agent stack, Globus, HDF5 plugins:
about 2.5 s and 2.7k modules) and is not public API. This module re-implements the same
wire protocol in about a hundred lines so that the adapter depends on ``ptychodus.api``
only:

- the child is started with ``multiprocessing.get_context("spawn")`` and calls
  ``"module:function"(payload, queue)``; the parent never imports that module;
- messages are tagged tuples on a ``multiprocessing`` queue: ``("log", levelno, logger,
  message)`` is re-emitted in the parent on ``ptychopinn_ptychodus.worker.<logger>`` (so core's
  ``ptychopinn.*`` records do not land on the logger of Ptychodus's built-in ``PtychoPINN``
  library, and follow this library's log level); ``("error", type name,
  message, traceback)`` raises :class:`ChildProcessFailed` in the parent; every other tag
  is yielded to the caller; ``None`` ends the stream;
- with ``heartbeat=True`` a ``("heartbeat",)`` message is yielded whenever nothing arrived
  for half a second, so a caller can check for cancellation while the child works;
- when the caller stops iterating (cancel, exception, normal end), the child gets SIGTERM
  (which the child turns into ``SystemExit``, so atomic writers remove their temporary files)
  and, after a grace period, SIGKILL.

Payloads and messages contain only numpy arrays, frozen dataclasses and builtins.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import queue as queue_module
import signal
import traceback
from collections.abc import Iterator
from typing import Any

__all__ = ["TAG_ERROR", "TAG_HEARTBEAT", "TAG_LOG", "WORKER_LOGGER", "ChildProcessFailed", "run_in_child"]

logger = logging.getLogger(__name__)

TAG_LOG = "log"
TAG_ERROR = "error"
TAG_HEARTBEAT = "heartbeat"
WORKER_LOGGER = "ptychopinn_ptychodus.worker"
"""Parent-side logger under which the child's records are re-emitted."""

_POLL_S = 0.5


class ChildProcessFailed(RuntimeError):
    """The child raised; ``error_type`` is the class name, the message is the child's message.

    The child's traceback is kept in ``child_traceback`` (and logged at DEBUG level), not in
    the message, so that what Ptychodus shows the user is one readable paragraph.
    """

    def __init__(self, message: str, *, error_type: str, child_traceback: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.child_traceback = child_traceback


class _QueueLogHandler(logging.Handler):
    def __init__(self, channel: Any) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._channel.put((TAG_LOG, record.levelno, record.name, self.format(record)))
        except Exception:
            pass


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by the parent (signal {signum})")


def _parent_logger_name(name: str) -> str:
    return name if name.startswith("ptychopinn_ptychodus") else f"{WORKER_LOGGER}.{name}"


def _child_main(entry_point: str, payload: Any, channel: Any, log_level: int) -> None:
    """Target of the spawned process: forward logs, run the entry point, always send the sentinel."""
    signal.signal(signal.SIGTERM, _terminate)
    handler = _QueueLogHandler(channel)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(log_level)
    try:
        module_name, _, function_name = entry_point.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        function(payload, channel)
    except BaseException as exc:
        try:
            channel.put((TAG_ERROR, type(exc).__name__, str(exc), traceback.format_exc()))
        except Exception:
            pass
    finally:
        root.removeHandler(handler)
        try:
            channel.put(None)
        except Exception:
            pass


def run_in_child(
    entry_point: str,
    payload: Any,
    *,
    log_level: int | None = None,
    terminate_grace_s: float = 10.0,
    heartbeat: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """Run ``entry_point(payload, queue)`` in a spawned child; yield its non-log messages.

    Parameters
    ----------
    entry_point : str
        ``"package.module:function"``, imported in the child only.
    payload : picklable
        Passed to the function.
    log_level : int, optional
        Level of the child's root logger (default: the parent's effective root level).
    terminate_grace_s : float
        Seconds between SIGTERM and SIGKILL when the child must be stopped.
    heartbeat : bool
        Yield ``("heartbeat",)`` after every half second without a message.

    Yields
    ------
    tuple
        Messages other than logs, errors and the sentinel, in the order sent.

    Raises
    ------
    ChildProcessFailed
        The child raised, or died without finishing its stream.
    """
    if log_level is None:
        log_level = logging.getLogger().getEffectiveLevel()
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    process = context.Process(
        target=_child_main, args=(entry_point, payload, channel, log_level), name="ptychopinn-ptychodus-child"
    )
    process.start()
    try:
        while True:
            try:
                item = channel.get(timeout=_POLL_S)
            except queue_module.Empty:
                if not process.is_alive():
                    try:  # the sentinel may have been flushed just before exit
                        item = channel.get(timeout=_POLL_S)
                    except queue_module.Empty:
                        raise ChildProcessFailed(
                            f"The PtychoPINN worker process ended unexpectedly (exit code {process.exitcode}); "
                            "see the log for its last messages.",
                            error_type="ChildDied",
                            child_traceback="",
                        ) from None
                else:
                    if heartbeat:
                        yield (TAG_HEARTBEAT,)
                    continue
            if item is None:
                return
            tag = item[0]
            if tag == TAG_LOG:
                _, levelno, name, message = item
                logging.getLogger(_parent_logger_name(name)).log(levelno, message)
            elif tag == TAG_ERROR:
                _, error_type, message, child_traceback = item
                logger.debug("PtychoPINN worker traceback:\n%s", child_traceback)
                raise ChildProcessFailed(
                    f"{error_type}: {message}", error_type=error_type, child_traceback=child_traceback
                )
            else:
                yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=terminate_grace_s)
        if process.is_alive():
            process.kill()
            process.join()
        channel.close()
        channel.join_thread()
