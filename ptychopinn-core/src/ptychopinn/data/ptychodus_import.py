"""Import path for Ptychodus's own PtychoPINN training-data export (numpy only).

Ptychodus 1.7's built-in PtychoPINN integration exports training data with
``ptychodus.api.io.save_ptychopinn_training_data``. That file does **not** follow core's
data contract (``docs/data-contract.md``):

================  =============================================  ==========================================
key               Ptychodus writes                               core expects
================  =============================================  ==========================================
``diff3d``        photon **counts** (intensity), bad pixels      amplitudes sqrt(counts) under
                  inpainted, source dtype                        ``diffraction``
``xcoords``       object pixel of the probe centre in            object pixel under patch pixel (N/2, N/2)
``ycoords``       Ptychodus's centred-pixel convention: the
                  probe's array pixel (N-1)/2 sits there
``probeGuess``    (modes, N, N) incoherent-mode stack            (N, N) single mode
``bad_pixels``    (N, N) bool, True = filled, not measured        (no key)
``scan_index``    zeros (placeholder)                            acquisition index, optional
================  =============================================  ==========================================

The functions here convert each of these exactly once. The position conversion is
:func:`positions_from_ptychodus_pixels`; the Ptychodus adapter uses the same function, so
the half-pixel offset lives in one place.

Position convention, derived
----------------------------
Ptychodus places probe array pixel ``j`` on object pixel ``x_px - (N-1)/2 + j``
(``ObjectGeometry.map_probe_positions_to_object_x_px`` and
``ProbeGeometry.resolve_patch_bounds``). Core places patch pixel ``j`` on object pixel
``x - N/2 + j``. Equal placements give ``x = x_px + N/2 - (N-1)/2 = x_px + 0.5``, the same
for rows. The offset is independent of N and of the object size.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ptychopinn.data.scan import ScanData
from ptychopinn.errors import ScanDataError

__all__ = [
    "PTYCHODUS_PIXEL_OFFSET",
    "PTYCHODUS_TRAINING_KEYS",
    "ProbeModeSelection",
    "counts_to_amplitudes",
    "inpaint_bad_pixels",
    "is_ptychodus_training_data",
    "positions_from_ptychodus_pixels",
    "positions_to_ptychodus_pixels",
    "read_ptychodus_training_data",
    "select_probe_mode",
]

logger = logging.getLogger(__name__)

PTYCHODUS_PIXEL_OFFSET = 0.5
"""Core position minus Ptychodus (>= 1.7) object-pixel position, in pixels, both axes."""

PTYCHODUS_TRAINING_KEYS: tuple[str, ...] = ("diff3d", "xcoords", "ycoords", "probeGuess")
"""Keys that every Ptychodus PtychoPINN training-data export holds."""

_OPTIONAL_KEYS: tuple[str, ...] = ("objectGuess", "bad_pixels", "scan_index")


def positions_from_ptychodus_pixels(x_px: npt.ArrayLike, y_px: npt.ArrayLike) -> np.ndarray:
    """Ptychodus object-pixel coordinates -> core positions.

    Parameters
    ----------
    x_px, y_px : (M,) float
        Object pixel coordinates as returned by Ptychodus 1.7's
        ``ObjectGeometry.map_probe_positions_to_object_{x,y}_px`` (centred-pixel
        convention: the probe's array pixel (N-1)/2 sits on them).

    Returns
    -------
    (M, 2) float64
        Core positions (x, y): the patch pixel (N/2, N/2) sits on object pixel (row y, col x).
    """
    x = np.asarray(x_px, dtype=np.float64).reshape(-1)
    y = np.asarray(y_px, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ScanDataError(f"xcoords and ycoords must have the same length, got {x.shape[0]} and {y.shape[0]}")
    return np.stack([x + PTYCHODUS_PIXEL_OFFSET, y + PTYCHODUS_PIXEL_OFFSET], axis=1)


def positions_to_ptychodus_pixels(positions: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`positions_from_ptychodus_pixels`: (M, 2) core (x, y) -> (x_px, y_px)."""
    pos = np.asarray(positions, dtype=np.float64)
    return pos[:, 0] - PTYCHODUS_PIXEL_OFFSET, pos[:, 1] - PTYCHODUS_PIXEL_OFFSET


def counts_to_amplitudes(counts: npt.ArrayLike, *, where: str = "diffraction") -> np.ndarray:
    """Detector counts (intensity) -> amplitudes sqrt(counts), float32.

    Parameters
    ----------
    counts : (M, N, N) int or float
        Photon counts. Small negative values (background subtraction) are clipped to 0
        with a logged warning; NaN or infinite values are an error.
    where : str
        Names the source in messages (file and key).

    Returns
    -------
    (M, N, N) float32
    """
    c = np.asarray(counts)
    if np.iscomplexobj(c) or not (np.issubdtype(c.dtype, np.integer) or np.issubdtype(c.dtype, np.floating)):
        raise ScanDataError(f"{where}: diffraction counts must be a real integer or float array, got dtype {c.dtype}")
    c = c.astype(np.float64, copy=False)
    if not np.all(np.isfinite(c)):
        raise ScanDataError(f"{where}: diffraction counts contain NaN or infinite values")
    negative = int(np.count_nonzero(c < 0))
    if negative:
        logger.warning("%s: %d negative count values clipped to 0 before taking the square root", where, negative)
        c = np.clip(c, 0.0, None)
    return np.sqrt(c).astype(np.float32)


def inpaint_bad_pixels(patterns: npt.ArrayLike, bad_pixels: npt.ArrayLike | None, *, max_iter: int = 64) -> np.ndarray:
    """Fill bad detector pixels with the mean of their good 8-neighbours (iterated inwards).

    Core's backend contract has no detector mask, so bad pixels cannot be excluded from the
    loss; they are filled instead (as Ptychodus's own PtychoPINN export does, there with
    biharmonic inpainting). Pixels still unfilled after ``max_iter`` sweeps (huge masked
    regions) are set to 0.

    Parameters
    ----------
    patterns : (M, N, N) float
        Amplitudes or counts.
    bad_pixels : (N, N) bool or None
        True = bad. None or all-False returns a float copy.

    Returns
    -------
    (M, N, N) float32
    """
    out = np.array(patterns, dtype=np.float32, copy=True)
    if bad_pixels is None:
        return out
    bad = np.asarray(bad_pixels, dtype=bool)
    if bad.shape != out.shape[1:]:
        raise ScanDataError(f"bad_pixels must have shape {out.shape[1:]} (one detector frame), got {bad.shape}")
    if not bad.any():
        return out
    if bad.all():
        raise ScanDataError("bad_pixels marks every detector pixel as bad")
    out[:, bad] = 0.0
    known = ~bad
    for _ in range(max_iter):
        if known.all():
            break
        total = np.zeros_like(out)
        weight = np.zeros(bad.shape, dtype=np.float32)
        padded = np.pad(out * known, ((0, 0), (1, 1), (1, 1)))
        padded_known = np.pad(known.astype(np.float32), 1)
        H, W = bad.shape
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy == 0 and dx == 0:
                    continue
                total += padded[:, 1 + dy : 1 + dy + H, 1 + dx : 1 + dx + W]
                weight += padded_known[1 + dy : 1 + dy + H, 1 + dx : 1 + dx + W]
        fill = (~known) & (weight > 0)
        out[:, fill] = total[:, fill] / weight[fill]
        known = known | fill
    return out


@dataclass(frozen=True)
class ProbeModeSelection:
    """The probe mode chosen from an incoherent-mode stack."""

    probe: np.ndarray
    """(N, N) complex64, the dominant mode."""

    mode: int
    """Index of the chosen mode in the stack."""

    n_modes: int
    """Modes in the stack."""

    power_fraction: float
    """Fraction of the total probe power the chosen mode carries (1.0 for one mode)."""

    @property
    def note(self) -> str | None:
        """A sentence for the log when modes were dropped, else None."""
        if self.n_modes == 1:
            return None
        return (
            f"the probe has {self.n_modes} incoherent modes; PtychoPINN models one coherent probe, so mode "
            f"{self.mode} (the dominant one, {100 * self.power_fraction:.1f}% of the power) is used and the "
            f"others are ignored"
        )


def select_probe_mode(probe: npt.ArrayLike, *, where: str = "probeGuess") -> ProbeModeSelection:
    """Pick the dominant (highest-power) mode of a probe stack.

    Parameters
    ----------
    probe : (N, N), (modes, N, N) or (opr, modes, N, N) complex
        A 4-D stack uses OPR component 0 (the mean probe).
    """
    p = np.asarray(probe)
    if not np.iscomplexobj(p):
        p = p.astype(np.complex64)
    if p.ndim == 4:
        p = p[0]
    if p.ndim == 2:
        p = p[np.newaxis]
    if p.ndim != 3 or p.shape[0] == 0 or p.shape[1] != p.shape[2]:
        raise ScanDataError(f"{where}: probe must be (N, N) or (modes, N, N) with square modes, got {np.shape(probe)}")
    power = np.sum(np.abs(p.astype(np.complex128)) ** 2, axis=(1, 2))
    total = float(power.sum())
    if not total > 0:
        raise ScanDataError(f"{where}: the probe is zero everywhere")
    mode = int(np.argmax(power))
    return ProbeModeSelection(
        probe=np.ascontiguousarray(p[mode], dtype=np.complex64),
        mode=mode,
        n_modes=int(p.shape[0]),
        power_fraction=float(power[mode] / total),
    )


def is_ptychodus_training_data(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` looks like a Ptychodus PtychoPINN export (has ``diff3d``, no ``diffraction``)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = {n[:-4] for n in zf.namelist() if n.endswith(".npy")}
    except (OSError, zipfile.BadZipFile):
        return False
    return "diffraction" not in names and all(k in names for k in PTYCHODUS_TRAINING_KEYS)


def read_ptychodus_training_data(path: str | os.PathLike[str]) -> ScanData:
    """Read a Ptychodus PtychoPINN training-data export into core's conventions.

    Converts counts to amplitudes, the (N-1)/2 positions to core's, the probe mode stack
    to its dominant mode (logged when modes are dropped); keeps ``objectGuess``. The
    ``bad_pixels`` of the file were already inpainted by Ptychodus; their count is logged.
    The ``scan_index`` placeholder (all zeros) is dropped.

    Parameters
    ----------
    path : path-like
        NPZ file written by ``ptychodus.api.io.save_ptychopinn_training_data``.

    Returns
    -------
    ScanData
        ``source`` = the path.

    Raises
    ------
    ScanDataError
        Missing key, wrong shape, non-square patterns; the message names file and key.
    """
    from ptychopinn.data.npz import read_npz_arrays

    p = Path(path)
    arrays = read_npz_arrays(p, PTYCHODUS_TRAINING_KEYS + _OPTIONAL_KEYS)
    missing = [k for k in PTYCHODUS_TRAINING_KEYS if k not in arrays]
    if missing:
        raise ScanDataError(
            f"{p}: not a Ptychodus PtychoPINN training-data file: missing key(s) {', '.join(missing)} "
            f"(expected {', '.join(PTYCHODUS_TRAINING_KEYS)})"
        )
    counts = arrays["diff3d"]
    if counts.ndim != 3 or counts.shape[1] != counts.shape[2]:
        raise ScanDataError(
            f"{p}: key 'diff3d' must be (M, N, N) square diffraction counts, got shape {counts.shape}; "
            f"PtychoPINN needs square patterns (crop the detector in Ptychodus)"
        )
    diffraction = counts_to_amplitudes(counts, where=f"{p}: key 'diff3d'")
    positions = positions_from_ptychodus_pixels(arrays["xcoords"], arrays["ycoords"])
    selection = select_probe_mode(arrays["probeGuess"], where=f"{p}: key 'probeGuess'")
    if selection.note:
        logger.warning("%s: %s", p, selection.note)
    bad = arrays.get("bad_pixels")
    if bad is not None and np.asarray(bad).any():
        logger.info("%s: %d bad detector pixels were inpainted by Ptychodus", p, int(np.count_nonzero(bad)))
    obj = arrays.get("objectGuess")
    if obj is not None:
        obj = np.asarray(obj)
        if obj.ndim == 3:
            obj = obj[0]
        obj = obj.astype(np.complex64)
    scan_index = arrays.get("scan_index")
    if scan_index is not None and not np.any(scan_index):
        scan_index = None
    elif scan_index is not None:
        scan_index = np.asarray(scan_index, dtype=np.int64).reshape(-1)
    return ScanData(
        diffraction=diffraction,
        positions=positions,
        probe=selection.probe,
        object=obj,
        scan_index=scan_index,
        source=str(p),
    )
