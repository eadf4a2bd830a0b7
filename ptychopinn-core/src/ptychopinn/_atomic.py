"""Atomic file writing: the one place that does temp file + fsync + ``os.replace``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "current_umask", "file_mode"]


def current_umask() -> int:
    """The process umask (read without changing it for longer than two system calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits a regular file created now gets: ``0o666 & ~umask`` (0644 under umask 022)."""
    return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    Either the complete new file is at ``path`` afterwards or the previous one is untouched: on
    any exception the temporary file is removed and the exception propagates. The file's mode
    follows the umask like any ``open(path, "w")`` (``0o666 & ~umask``), not mkstemp's 0600.

    Parameters
    ----------
    path : path-like
        Destination; its directory must exist.
    mode : {"wb", "w"}
    encoding : str, optional
        For text mode.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; the finished file gets the mode an ordinary open() would give
        # (0644 under umask 022), so outputs are readable on shared beamline accounts.
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where directories can be fsync-ed
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
