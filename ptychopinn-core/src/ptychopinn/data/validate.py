"""Validation of raw scan arrays against the data contract (``docs/data-contract.md``).

Turns the arrays read from a file (or handed over in memory) into a :class:`ScanData`, or
raises :class:`ScanDataError` with a message that names the file, the key, and the
expected and found shape/dtype. Every check runs before numpy sees an operation that
could fail deep inside (broadcasting, casting), so users never get a numpy traceback.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ptychopinn.data.scan import ScanData
from ptychopinn.errors import ScanDataError

__all__ = ["IntegerCountsPolicy", "ScanDataWarning", "validate_scan_arrays"]

IntegerCountsPolicy = Literal["reject", "sqrt"]

_CHUNK = 512

_MAX_AMPLITUDE = float(np.sqrt(np.finfo(np.float32).max)) / 64
"""Largest amplitude accepted: its square times a pattern's pixel count stays finite in float32."""

MAX_POSITION_PX = 1e9
"""Largest |position| accepted, in object pixels (beyond it no canvas could exist: wrong units or garbage)."""


class ScanDataWarning(UserWarning):
    """A scan was accepted after an explicit, documented fix-up (e.g. a legacy layout)."""


def _fail(source: str | None, key: str, message: str) -> ScanDataError:
    where = f"{source}: " if source else ""
    return ScanDataError(f"{where}key '{key}': {message}")


def _describe(a: Any) -> str:
    shape = getattr(a, "shape", None)
    dtype = getattr(a, "dtype", type(a).__name__)
    return f"shape {shape}, dtype {dtype}"


def _as_array(source: str | None, key: str, value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except Exception as exc:
        raise _fail(source, key, f"cannot be read as an array ({exc})") from None


def _require_kind(source: str | None, key: str, a: np.ndarray, kinds: str, expected: str) -> None:
    if a.dtype.kind not in kinds:
        raise _fail(source, key, f"expected {expected}, found {_describe(a)}")


def _check_finite(source: str | None, key: str, a: np.ndarray) -> None:
    """Raise when ``a`` holds NaN or Inf (chunked over the first axis for memory maps)."""
    if a.dtype.kind not in "fc":
        return
    n = a.shape[0] if a.ndim else 1
    flat = a.reshape(1, -1) if a.ndim < 2 else a
    for start in range(0, n, _CHUNK):
        chunk = np.asarray(flat[start : start + _CHUNK])
        bad = ~np.isfinite(chunk)
        if bad.any():
            count = int(bad.sum())
            first = np.unravel_index(int(np.argmax(bad)), chunk.shape)
            index = (first[0] + start, *first[1:]) if a.ndim >= 2 else tuple(int(i) for i in first[1:])
            raise _fail(
                source,
                key,
                f"contains {count} NaN/Inf value(s) (first at index {tuple(int(i) for i in index)}); "
                "every value must be finite",
            )


def _diffraction_layout(source: str | None, key: str, d: np.ndarray, M: int) -> np.ndarray:
    """Return ``d`` as (M, N, N): squeeze a trailing singleton axis, transpose legacy (N, N, M)."""
    if d.ndim == 4 and d.shape[-1] == 1:
        warnings.warn(
            f"{source or 'scan'}: '{key}' has shape {d.shape}; dropping the trailing singleton axis",
            ScanDataWarning,
            stacklevel=4,
        )
        d = d[..., 0]
    if d.ndim != 3:
        raise _fail(source, key, f"expected a 3-D stack (M={M}, N, N) of amplitudes, found {_describe(d)}")
    if d.shape[0] == M and d.shape[1] == d.shape[2]:
        return d
    if d.shape[2] == M and d.shape[0] == d.shape[1]:
        warnings.warn(
            f"{source or 'scan'}: '{key}' has the legacy (N, N, M) layout {d.shape}; "
            f"transposing to (M, N, N) = {(d.shape[2], d.shape[0], d.shape[1])}",
            ScanDataWarning,
            stacklevel=4,
        )
        return np.ascontiguousarray(np.transpose(d, (2, 0, 1)))
    if d.shape[0] == M:
        raise _fail(source, key, f"patterns must be square (M, N, N); found {_describe(d)}")
    raise _fail(
        source,
        key,
        f"expected (M, N, N) with M = {M} (the length of 'xcoords'), found {_describe(d)}; "
        "the number of patterns must match the number of positions",
    )


def _no_photons(source: str | None, key: str, d: np.ndarray) -> None:
    raise _fail(
        source,
        key,
        f"every value of the {d.shape[0]} patterns is zero: the scan holds no photons (expected amplitudes "
        "sqrt(counts) with at least one count; was the detector off, or the data not written?)",
    )


def _diffraction_values(source: str | None, key: str, d: np.ndarray, integer_counts: IntegerCountsPolicy) -> np.ndarray:
    """Check dtype/values and return float amplitudes (a memory map stays a memory map)."""
    if d.dtype.kind == "b" or d.dtype.kind not in "uif":
        raise _fail(source, key, f"expected real amplitudes sqrt(counts) (float32), found {_describe(d)}")
    if d.dtype.kind in "ui":
        if integer_counts == "reject":
            raise _fail(
                source,
                key,
                f"found integer data ({_describe(d)}): these look like photon counts, but the contract stores "
                "amplitudes sqrt(counts) as float32. Convert the file with "
                "`np.sqrt(counts.astype(np.float64)).astype(np.float32)`, or read it with "
                "read_scan(..., integer_counts='sqrt') to take the square root explicitly",
            )
        if d.dtype.kind == "i" and int(np.min(d)) < 0:
            raise _fail(source, key, f"integer photon counts must be >= 0, found a minimum of {int(np.min(d))}")
        if d.size == 0 or int(np.max(d)) == 0:
            _no_photons(source, key, d)
        # Widen before the square root: never square or wrap integers.
        return np.sqrt(np.asarray(d, dtype=np.float64)).astype(np.float32)
    _check_finite(source, key, d)
    all_integer = True
    peak = 0.0
    for start in range(0, d.shape[0], _CHUNK):
        chunk = np.asarray(d[start : start + _CHUNK])
        low = float(chunk.min()) if chunk.size else 0.0
        peak = max(peak, float(chunk.max()) if chunk.size else 0.0)
        if low < 0:
            first = tuple(int(i) for i in np.unravel_index(int(np.argmin(chunk)), chunk.shape))
            raise _fail(
                source,
                key,
                f"amplitudes must be >= 0; found {low:g} at index {(first[0] + start, first[1], first[2])}",
            )
        if all_integer and chunk.size and not np.array_equal(chunk, np.round(chunk)):
            all_integer = False
    if peak == 0:
        _no_photons(source, key, d)
    if peak > _MAX_AMPLITUDE:
        raise _fail(
            source,
            key,
            f"an amplitude of {peak:.3g}: its square (photon counts) overflows float32; amplitudes are sqrt(counts), "
            f"at most {_MAX_AMPLITUDE:.3g}",
        )
    if all_integer and d.size and float(np.max(d[: min(d.shape[0], _CHUNK)])) > 1:
        warnings.warn(
            f"{source or 'scan'}: every value of '{key}' is a whole number; if these are photon counts "
            "rather than amplitudes, take their square root (see docs/data-contract.md)",
            ScanDataWarning,
            stacklevel=4,
        )
    if isinstance(d, np.memmap):
        return d
    return np.asarray(d, dtype=np.float32)


def _coords(source: str | None, arrays: Mapping[str, Any]) -> np.ndarray:
    x = _as_array(source, "xcoords", arrays["xcoords"])
    y = _as_array(source, "ycoords", arrays["ycoords"])
    for key, a in (("xcoords", x), ("ycoords", y)):
        _require_kind(source, key, a, "uif", "real positions in object pixels, shape (M,)")
        if a.ndim != 1:
            squeezed = np.squeeze(a)
            if squeezed.ndim != 1:
                raise _fail(source, key, f"expected shape (M,) of positions in object pixels, found {_describe(a)}")
        if a.size == 0:
            raise _fail(source, key, "the scan has no positions (M = 0)")
    x = np.asarray(np.squeeze(x), dtype=np.float64).reshape(-1)
    y = np.asarray(np.squeeze(y), dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise _fail(source, "ycoords", f"expected shape {x.shape} to match 'xcoords', found {y.shape}")
    _check_finite(source, "xcoords", x)
    _check_finite(source, "ycoords", y)
    for key, a in (("xcoords", x), ("ycoords", y)):
        peak = float(np.max(np.abs(a)))
        if peak > MAX_POSITION_PX:
            raise _fail(
                source,
                key,
                f"a position of {peak:.6g} object pixels (at index {int(np.argmax(np.abs(a)))}); positions must be "
                f"in object pixels (docs/conventions.md), at most {MAX_POSITION_PX:.0e} from the origin",
            )
    return np.stack([x, y], axis=1)


def _probe(source: str | None, p: Any, N: int) -> np.ndarray:
    p = _as_array(source, "probeGuess", p)
    _require_kind(source, "probeGuess", p, "uifc", f"a complex ({N}, {N}) probe")
    if p.ndim == 3 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise _fail(source, "probeGuess", f"expected a square ({N}, {N}) complex probe, found {_describe(p)}")
    if p.shape != (N, N):
        raise _fail(
            source, "probeGuess", f"expected ({N}, {N}) to match the diffraction patterns (N = {N}), found {p.shape}"
        )
    _check_finite(source, "probeGuess", p)
    p = p.astype(np.complex64)
    if not np.any(p):
        raise _fail(source, "probeGuess", "the probe is zero everywhere")
    with np.errstate(over="ignore", under="ignore"):
        power = float(np.sum(np.abs(p).astype(np.float32) ** 2, dtype=np.float32))
    if not np.isfinite(power) or power == 0:
        raise _fail(
            source,
            "probeGuess",
            f"the probe's power sum |P|^2 {'overflows' if power else 'underflows to 0 in'} float32 (largest |P| = "
            f"{float(np.max(np.abs(p))):.3g}); scale the probe to ordinary magnitudes",
        )
    return p


def _object(source: str | None, o: Any, positions: np.ndarray, N: int) -> np.ndarray:
    o = _as_array(source, "objectGuess", o)
    _require_kind(source, "objectGuess", o, "uifc", "a complex (H, W) object")
    if o.ndim == 3 and o.shape[0] == 1:
        o = o[0]
    if o.ndim != 2:
        raise _fail(source, "objectGuess", f"expected a 2-D (H, W) complex object, found {_describe(o)}")
    _check_finite(source, "objectGuess", o)
    H, W = o.shape
    lo = positions.min(axis=0) - N / 2
    hi = positions.max(axis=0) + N / 2
    if lo[0] < 0 or lo[1] < 0 or hi[0] > W or hi[1] > H:
        need_w = int(np.ceil(max(hi[0], W) - min(lo[0], 0)))
        need_h = int(np.ceil(max(hi[1], H) - min(lo[1], 0)))
        raise _fail(
            source,
            "objectGuess",
            f"the object ({H} x {W} pixels) is smaller than the scan: the patches span "
            f"x in [{lo[0]:g}, {hi[0]:g}), y in [{lo[1]:g}, {hi[1]:g}) object pixels "
            f"(positions +/- N/2 with N = {N}); expected at least {need_h} x {need_w} with every patch inside",
        )
    return o.astype(np.complex64)


def _scan_index(source: str | None, s: Any, M: int) -> np.ndarray:
    s = _as_array(source, "scan_index", s)
    if s.dtype.kind not in "ui" and not (s.dtype.kind == "f" and np.all(np.isfinite(s)) and np.all(s == np.round(s))):
        raise _fail(source, "scan_index", f"expected ({M},) integers, found {_describe(s)}")
    s = np.squeeze(s) if s.ndim > 1 else s
    if s.shape != (M,):
        raise _fail(source, "scan_index", f"expected shape ({M},) (one index per pattern), found {s.shape}")
    return s.astype(np.int64)


def validate_scan_arrays(
    arrays: Mapping[str, Any],
    *,
    source: str | None = None,
    integer_counts: IntegerCountsPolicy = "reject",
) -> ScanData:
    """Validate raw arrays and build a :class:`ScanData`.

    Parameters
    ----------
    arrays : mapping
        ``diffraction`` (or legacy ``diff3d``) (M, N, N) float amplitudes sqrt(counts);
        ``xcoords``, ``ycoords`` (M,) object pixels; ``probeGuess`` (N, N) complex;
        optional ``objectGuess`` (H, W) complex and ``scan_index`` (M,) int.
    source : str, optional
        File name, used in every error message.
    integer_counts : {"reject", "sqrt"}
        Integer diffraction data are photon counts, not amplitudes. ``"reject"`` (default)
        raises :class:`ScanDataError` with a hint; ``"sqrt"`` converts explicitly with a
        float64 square root (never squares or wraps integers).

    Returns
    -------
    ScanData

    Raises
    ------
    ScanDataError
        Missing keys, mismatched lengths, non-square or odd N, probe/pattern size mismatch,
        NaN/Inf, negative amplitudes, integer counts (policy ``"reject"``), an object
        smaller than the scan, wrong dtypes.
    """
    if integer_counts not in ("reject", "sqrt"):
        raise ValueError(f"integer_counts must be 'reject' or 'sqrt', got {integer_counts!r}")
    keys = set(arrays)
    if "diffraction" in keys:
        dkey = "diffraction"
        if "diff3d" in keys:
            warnings.warn(
                f"{source or 'scan'}: both 'diffraction' and legacy 'diff3d' are present; using 'diffraction'",
                ScanDataWarning,
                stacklevel=3,
            )
    elif "diff3d" in keys:
        dkey = "diff3d"
    else:
        dkey = "diffraction"
    required = [dkey, "xcoords", "ycoords", "probeGuess"]
    missing = [k for k in required if k not in keys]
    if missing:
        where = f"{source}: " if source else ""
        found = ", ".join(sorted(keys)) or "none"
        names = ", ".join(f"'{k}'" for k in missing)
        raise ScanDataError(
            f"{where}missing required key(s) {names} (expected 'diffraction' (M, N, N) amplitudes, "
            f"'xcoords' (M,), 'ycoords' (M,), 'probeGuess' (N, N) complex); found keys: {found}"
        )
    positions = _coords(source, arrays)
    M = positions.shape[0]
    d = _as_array(source, dkey, arrays[dkey])
    if d.dtype.kind not in "uifb" or d.dtype.kind == "b":
        raise _fail(source, dkey, f"expected real amplitudes sqrt(counts) (float32), found {_describe(d)}")
    d = _diffraction_layout(source, dkey, d, M)
    N = d.shape[1]
    if N < 2 or N % 2:
        raise _fail(source, dkey, f"the pattern side N must be even (pixel N/2 is the zero frequency), found N = {N}")
    d = _diffraction_values(source, dkey, d, integer_counts)
    probe = _probe(source, arrays["probeGuess"], N)
    obj = _object(source, arrays["objectGuess"], positions, N) if "objectGuess" in keys else None
    scan_index = _scan_index(source, arrays["scan_index"], M) if "scan_index" in keys else None
    return ScanData(diffraction=d, positions=positions, probe=probe, object=obj, scan_index=scan_index, source=source)
