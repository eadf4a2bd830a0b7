"""Outputs of the commands: checked before the work starts, rescued when writing still fails at the end.

- :func:`prepare_outputs` runs first in every command that writes files: the output directory
  must be a directory (or creatable), writable (a real probe file, not ``os.access``, which
  lies for root and on read-only mounts), with no directory squatting on an output name, and
  with the free space the command estimates. Stale temporary files of the same outputs,
  left by a killed run (``.NAME.*.tmp`` of :func:`ptychopinn._atomic.atomic_write`), are removed.
- :func:`save_with_fallback` writes the valuable result (a trained model, a reconstruction);
  when the target cannot be written (disk full, directory removed or replaced by a file,
  permissions changed during the run), it writes to a rescue directory instead and returns a
  message naming both paths. The command then exits with code 2 and says where the result is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ptychopinn.errors import OutputError

__all__ = ["MIN_FREE_BYTES", "prepare_outputs", "raise_if_rescued", "rescue_dirs", "save_with_fallback"]

MIN_FREE_BYTES = 16 << 20
"""Free space every writing command asks for at least (a model bundle, JSON and PNG files)."""

T = TypeVar("T")


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (raises OutputError when an ancestor is a regular file)."""
    current = path
    while not current.exists():
        if current.is_symlink():
            raise OutputError(f"{path}: {current} is a dangling symbolic link; cannot create the output directory")
        parent = current.parent
        if parent == current:
            break
        current = parent
    if current != path and not current.is_dir():
        raise OutputError(
            f"{path}: cannot create the output directory because {current} is a file, not a directory; choose "
            "another output directory (-o)"
        )
    return current


def _probe_writable(directory: Path, *, output: Path) -> None:
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".ptychopinn-probe-", suffix=".tmp")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"{output}: cannot write there ({directory}: {reason}); nothing was started. Choose a writable output "
            "directory (-o)"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def _remove_stale_temporaries(directory: Path, names: Sequence[str]) -> int:
    removed = 0
    for name in names:
        for stale in directory.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                if stale.is_file() and not stale.is_symlink():
                    stale.unlink()
                    removed += 1
    return removed


def prepare_outputs(directory: Path, names: Sequence[str], *, need_bytes: int = 0) -> None:
    """Check that ``directory/NAME`` can be written for every name, before any work starts.

    Nothing is created: a command that then fails on its input leaves no empty directory.

    Parameters
    ----------
    directory : Path
        Output directory (``-o``); it may not exist yet.
    names : sequence of str
        File names the command will write there.
    need_bytes : int
        Estimated size of the outputs; at least :data:`MIN_FREE_BYTES` must be free in addition.

    Raises
    ------
    OutputError
        Naming the path and what is wrong (a file where the directory should be, no write
        permission, a read-only file system, a directory squatting on an output name, too
        little free space: needed vs available).
    """
    from ptychopinn._safety import format_bytes

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(
            f"{directory}: exists and is not a directory; the outputs ({', '.join(names)}) go into a "
            "directory. Choose another output directory (-o); the file was left untouched"
        )
    existing = _nearest_existing(directory)
    _probe_writable(existing, output=directory)
    if existing == directory:
        from ptychopinn._safety import check_output_target

        for name in names:
            target = directory / name
            if target.is_dir():
                raise OutputError(f"{target}: an output of this command, but a directory of that name is in the way")
            check_output_target(target)
        removed = _remove_stale_temporaries(directory, names)
        if removed:
            print(f"note: removed {removed} stale temporary file(s) of an interrupted earlier run from {directory}",
                  file=sys.stderr)
    try:
        free = shutil.disk_usage(existing).free
    except OSError:  # pragma: no cover - exotic file systems
        return
    need = max(int(need_bytes), 0) + MIN_FREE_BYTES
    if free < need:
        raise OutputError(
            f"{directory}: not enough free space: the outputs need about {format_bytes(need)}, {format_bytes(free)} "
            "are free; nothing was started. Free some space or choose another output directory (-o)"
        )


def rescue_dirs() -> list[Path]:
    """Where a result goes when its target cannot be written, in order of preference.

    ``$PTYCHOPINN_RESCUE_DIR``, then ``./ptychopinn-rescue-<time>``, then the same under the
    temporary directory and the home directory.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    candidates = []
    env = os.environ.get("PTYCHOPINN_RESCUE_DIR", "").strip()
    if env:
        candidates.append(Path(env))
    candidates.append(Path.cwd() / f"ptychopinn-rescue-{stamp}")
    candidates.append(Path(tempfile.gettempdir()) / f"ptychopinn-rescue-{stamp}")
    with contextlib.suppress(RuntimeError):
        candidates.append(Path.home() / f"ptychopinn-rescue-{stamp}")
    return candidates


def _is_io_failure(exc: BaseException) -> bool:
    """An OSError (or an OutputError), directly or as the cause of a wrapped error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (OSError, OutputError)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def save_with_fallback(save: Callable[[Path], T], target: Path, *, what: str) -> tuple[T, str | None]:
    """``save(target)``; when that fails for an I/O reason, ``save(rescue_dir / target.name)``.

    Parameters
    ----------
    save : callable
        Writes to the path it receives and returns what the command needs (usually the path).
    target : Path
        The requested output file.
    what : str
        What is saved, for the message (``"the trained model"``).

    Returns
    -------
    (result, message)
        ``message`` is None when ``target`` was written, else a sentence naming the target,
        the reason and the rescue path (the caller reports it and exits with code 2).

    Raises
    ------
    OutputError
        Neither the target nor any rescue directory could be written (every path and reason named).
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return save(target), None
    except Exception as exc:
        if not _is_io_failure(exc):
            raise
        first = exc
    tried = []
    for directory in rescue_dirs():
        rescue = directory / target.name
        created = not directory.exists()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            result = save(rescue)
        except Exception as exc:
            if created:
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only if empty: never leave an empty rescue directory behind
            if not _is_io_failure(exc):
                raise
            tried.append(f"{rescue} ({_reason(exc)})")
            continue
        code = getattr(first, "errno", None)
        hint = " (the disk is full)" if code in (errno.ENOSPC, errno.EDQUOT) else ""
        if target.parent.exists() and not target.parent.is_dir():
            hint = f" ({target.parent} is no longer a directory: it was replaced during the run)"
        elif not target.parent.exists():
            hint = f" ({target.parent} could not be created)"
        saved = what[0].upper() + what[1:]
        message = (f"could not write {target}: {_reason(first)}{hint}. {saved} was saved to {rescue} instead; "
                   "move it where you want it")
        return result, message
    raise OutputError(
        f"could not write {target}: {_reason(first)}; nor the rescue locations {', '.join(tried)}. "
        f"{what[0].upper() + what[1:]} could not be saved anywhere"
    )


def raise_if_rescued(message: str | None) -> None:
    """Raise :class:`OutputError` with the rescue message of :func:`save_with_fallback`, if there is one."""
    if message:
        raise OutputError(message)
