"""Rules for untrusted input shared by every reader: printable text, bounded parsing, finite values, memory.

One place for the integrity rules of ``docs/user-guide.md`` ("Errors and safety"):

- text that came from a file is never echoed raw: :func:`printable` escapes control characters
  (terminal escape sequences) and bounds the length; :func:`short_repr` bounds ``repr``;
- parsing is bounded: :func:`json_loads_bounded` refuses nesting deeper than :data:`MAX_NESTING`
  before the parser recurses, and huge integers are errors, not tracebacks;
- numbers are finite: :func:`first_non_finite` finds NaN/Inf in any array, chunk by chunk;
- memory is bounded: :func:`check_allocation` refuses an array that would take more than
  :func:`memory_limit_bytes` with a message that says what was computed.
"""

from __future__ import annotations

import json
import os
import reprlib
import unicodedata
from typing import Any

import numpy as np

from ptychopinn.errors import ResourceLimitError

__all__ = [
    "MAX_NESTING",
    "check_allocation",
    "first_non_finite",
    "format_bytes",
    "json_loads_bounded",
    "memory_limit_bytes",
    "nesting_depth",
    "printable",
    "short_repr",
]

MAX_NESTING = 64
"""Deepest nesting of lists/objects accepted in a manifest or configuration file."""

_CHUNK_ELEMENTS = 1 << 22


def printable(text: object, *, limit: int = 300) -> str:
    """``text`` safe for a terminal: control and format characters escaped, at most ``limit`` characters.

    Escape sequences (``ESC [ 2 J``), bell, backspace, carriage return and bidirectional
    overrides become visible ``\\x1b``-style escapes; ordinary letters (any script) are kept.
    """
    out = []
    for ch in str(text):
        if ch in "\n\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= limit else s[: limit - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40


def short_repr(value: object) -> str:
    """A bounded, printable ``repr`` (nested or huge values are abbreviated with ``...``)."""
    return printable(_REPR.repr(value), limit=120)


def nesting_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting of JSON-like ``text`` (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def json_loads_bounded(text: str, *, what: str, max_depth: int = MAX_NESTING) -> Any:
    """``json.loads`` that refuses deep nesting, huge integers and NaN/Infinity with a ``ValueError``.

    Parameters
    ----------
    text : str
    what : str
        Named in the message (``"manifest.json of model.zip"``).

    Raises
    ------
    ValueError
        The message says what is wrong (callers wrap it in their typed error).
    """
    depth = nesting_depth(text)
    if depth > max_depth:
        raise ValueError(f"{what} is nested {depth} levels deep; at most {max_depth} are accepted")

    def constant(name: str) -> float:
        raise ValueError(f"{what} holds {name}, which is not JSON")

    try:
        return json.loads(text, parse_constant=constant)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc})") from None
    except ValueError as exc:
        if "digits" in str(exc):
            raise ValueError(f"{what} holds an integer with more than 4300 digits") from None
        raise


def first_non_finite(array: Any) -> tuple[int, tuple[int, ...]] | None:
    """(count, index of the first) NaN/Inf values of ``array``, or None when every value is finite.

    Works chunk by chunk over the flattened array, so memory maps stay cheap. Non-float
    arrays are finite by definition.
    """
    a = np.asarray(array) if not isinstance(array, np.ndarray) else array
    if a.dtype.kind not in "fc" or a.size == 0:
        return None
    flat = a.reshape(-1)
    count, first = 0, None
    for start in range(0, flat.size, _CHUNK_ELEMENTS):
        bad = ~np.isfinite(np.asarray(flat[start : start + _CHUNK_ELEMENTS]))
        n = int(bad.sum())
        if n and first is None:
            first = start + int(np.argmax(bad))
        count += n
    if first is None:
        return None
    return count, tuple(int(i) for i in np.unravel_index(first, a.shape))


def memory_limit_bytes() -> int:
    """Largest single allocation an input may ask for: ``PTYCHOPINN_MAX_ALLOC_BYTES`` or half the physical memory."""
    env = os.environ.get("PTYCHOPINN_MAX_ALLOC_BYTES", "").strip()
    if env.isdigit():
        return int(env)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 16 << 30
    return max(int(total) // 2, 1 << 30)


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_allocation(shape: tuple[int, ...], bytes_per_element: int, *, what: str, hint: str = "") -> None:
    """Raise :class:`ResourceLimitError` when an array of ``shape`` would exceed :func:`memory_limit_bytes`.

    Parameters
    ----------
    shape : tuple of int
    bytes_per_element : int
        Everything allocated per element (e.g. 17 for a complex64 canvas + float64 weight + bool mask).
    what : str
        What the array is, for the message (``"the object canvas of scan.npz"``).
    hint : str
        What to do, appended to the message.
    """
    elements = 1
    for n in shape:
        elements *= int(n)
    need = elements * int(bytes_per_element)
    limit = memory_limit_bytes()
    if need > limit:
        dims = " x ".join(str(int(n)) for n in shape)
        raise ResourceLimitError(
            f"{what} would be {dims} = {elements} elements, {format_bytes(need)} of memory; more than the "
            f"{format_bytes(limit)} allowed (half the physical memory; PTYCHOPINN_MAX_ALLOC_BYTES overrides)."
            f"{' ' + hint if hint else ''}"
        )


CANVAS_BYTES_PER_PIXEL = 17
"""Memory per canvas pixel while stitching: complex64 object + float64 weight + bool mask."""


def check_canvas(shape: tuple[int, int], *, source: str | None, N: int, n_patterns: int) -> None:
    """Refuse an object canvas that implies absurd memory or is almost all empty (positions far apart or in
    the wrong units), before it is allocated.

    Parameters
    ----------
    shape : (H, W) canvas in object pixels, from the scan positions +- N/2
    source : str or None
        The scan file, for the message.
    N : int
        Pattern side in pixels.
    n_patterns : int
        Patterns in the scan: they light at most ``n_patterns * N**2`` canvas pixels.

    Raises
    ------
    ResourceLimitError
        The canvas needs more than :func:`memory_limit_bytes`, or it is over
        :data:`MAX_EMPTY_CANVAS_RATIO` times larger than what the patterns can light and over 256 MiB.
    """
    hint = ("Check the positions: they must be in object pixels (docs/conventions.md), not metres or nanometres, "
            "and no position may lie far from the others.")
    what = f"the object canvas of {source or 'the scan'} (positions +- N/2 with N = {N})"
    check_allocation(tuple(shape), CANVAS_BYTES_PER_PIXEL, what=what, hint=hint)
    area = int(shape[0]) * int(shape[1])
    lit = max(int(n_patterns), 1) * N * N
    if area > MAX_EMPTY_CANVAS_RATIO * lit and area * CANVAS_BYTES_PER_PIXEL > 256 << 20:
        raise ResourceLimitError(
            f"{what} would be {int(shape[0])} x {int(shape[1])} = {area} pixels "
            f"({format_bytes(area * CANVAS_BYTES_PER_PIXEL)}), but {n_patterns} patterns of {N} x {N} light at most "
            f"{lit} of them: over {MAX_EMPTY_CANVAS_RATIO}x more canvas than data. {hint}"
        )


MAX_EMPTY_CANVAS_RATIO = 100
"""A canvas may be at most this many times larger than the area the patterns can light (when over 256 MiB)."""


def regular_file_problem(path: os.PathLike[str] | str) -> str | None:
    """Why ``path`` cannot be read as an input file, or None when it is a regular file.

    Devices (``/dev/zero``), FIFOs and sockets are refused: reading them never ends or blocks.
    """
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, FIFO or socket); reading it would never end"
    return None


MAX_GROUP_SPREAD_N = 8
"""Largest distance (in units of N) of a pattern from its group's centre when groups are merged (gridsize > 1)."""


def check_groups(offsets: Any, *, N: int, source: str | None) -> None:
    """Refuse groups whose members lie so far apart that merging them (gridsize > 1) would need absurd memory.

    Parameters
    ----------
    offsets : (B, C, 2) float, object pixels; each pattern's offset from its group centre
    N : int
    source : str or None
        The scan file, for the message.
    """
    off = np.asarray(offsets, dtype=np.float64)
    if off.size == 0 or off.ndim != 3 or off.shape[1] < 2:
        return
    spread = float(np.max(np.abs(off)))
    if spread > MAX_GROUP_SPREAD_N * N:
        group = int(np.argmax(np.max(np.abs(off), axis=(1, 2))))
        side = N + 2 * int(np.ceil(spread))
        raise ResourceLimitError(
            f"{source or 'the scan'}: group {group} holds patterns {spread:.6g} object pixels from its centre "
            f"(more than {MAX_GROUP_SPREAD_N} x N = {MAX_GROUP_SPREAD_N * N}); merging it (gridsize > 1) would need a "
            f"{side} x {side} canvas per group ({format_bytes(8.0 * side * side * off.shape[1])}). Neighbouring "
            "positions must overlap: check that the positions are in object pixels and that none lies far from the "
            "others, or use gridsize 1"
        )


def check_output_target(path: os.PathLike[str] | str) -> None:
    """Refuse to replace anything but a regular file (or a symbolic link) at ``path``.

    Atomic writes end with ``os.replace``, which, run as root, would replace a device such as
    ``/dev/null`` or a FIFO with a regular file. Raises :class:`~ptychopinn.errors.OutputError`.
    """
    import stat

    from ptychopinn.errors import OutputError

    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: is a directory; expected a file name to write")
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OutputError(
            f"{path}: exists and is not a regular file (a device, FIFO or socket); it is never replaced. "
            "Choose another output path"
        )
