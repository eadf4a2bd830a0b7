"""Aligning a reconstruction with the ground truth before scoring it.

Steps (each optional): sub-pixel registration, global phase offset, amplitude scale, phase
ramp, and restriction to the lit (valid) region minus the border that the registration
shift wraps around.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ptychopinn.metrics.registration import fourier_shift, register_translation

__all__ = ["Alignment", "align"]


@dataclass(frozen=True, eq=False)
class Alignment:
    """A reconstruction aligned with its ground truth.

    Attributes
    ----------
    reconstruction : (H, W) complex128
        Shifted, phase-offset-corrected, scaled (and de-ramped) reconstruction.
    truth : (H, W) complex128
    mask : (H, W) bool
        Pixels to score: valid (lit) and not touched by the registration wrap-around.
    shift : (dx, dy), pixels
        Applied to the reconstruction.
    phase_offset : float, radians
        Added to the reconstruction's phase.
    amplitude_scale : float
        Multiplied into the reconstruction's amplitude.
    phase_ramp : (3,) float or None
        ``(c, gx, gy)``: phase ``c + gx * col + gy * row`` added (radians, rad/px).
    """

    reconstruction: np.ndarray
    truth: np.ndarray
    mask: np.ndarray
    shift: tuple[float, float]
    phase_offset: float
    amplitude_scale: float
    phase_ramp: tuple[float, float, float] | None


def _bounding_box(mask: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _fit_ramp(diff_phase: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    rows, cols = np.nonzero(mask)
    A = np.stack([np.ones(rows.size), cols.astype(np.float64), rows.astype(np.float64)], axis=1)
    coef, *_ = np.linalg.lstsq(A, diff_phase[mask], rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def align(
    reconstruction: npt.ArrayLike,
    truth: npt.ArrayLike,
    *,
    valid: npt.ArrayLike | None = None,
    register: bool = True,
    upsample_factor: int = 100,
    fit_scale: bool = True,
    remove_phase_ramp: bool = False,
) -> Alignment:
    """Align ``reconstruction`` with ``truth`` on the same pixel grid.

    Parameters
    ----------
    reconstruction, truth : (H, W) complex
    valid : (H, W) bool, optional
        Lit region of the reconstruction (``StitchedObject.valid``); default everything.
    register : bool
        Find and undo a sub-pixel translation (:func:`register_translation` on the valid
        bounding box), then exclude ``ceil(|shift|) + 1`` px of wrapped border.
    upsample_factor : int
    fit_scale : bool
        Fit the amplitude scale ``sum |r||t| / sum |r|^2`` over the mask.
    remove_phase_ramp : bool
        Also remove a least-squares phase plane (a ramp is invisible to far-field data).

    Returns
    -------
    Alignment
    """
    r = np.asarray(reconstruction).astype(np.complex128)
    t = np.asarray(truth).astype(np.complex128)
    if r.shape != t.shape or r.ndim != 2:
        raise ValueError(f"align: reconstruction {r.shape} and truth {t.shape} must be 2-D and equal in shape")
    mask = np.ones(r.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool).copy()
    if mask.shape != r.shape:
        raise ValueError(f"align: valid mask {mask.shape} must match the images {r.shape}")
    if not mask.any():
        raise ValueError("align: the valid mask is empty (nothing is lit)")
    shift = (0.0, 0.0)
    if register:
        rows, cols = _bounding_box(mask)
        win = np.outer(np.hanning(rows.stop - rows.start), np.hanning(cols.stop - cols.start))
        rb = np.where(mask, r, 0)[rows, cols]
        tb = np.where(mask, t, 0)[rows, cols]
        shift = register_translation(tb * win, rb * win, upsample_factor=upsample_factor)
        if shift != (0.0, 0.0):
            r = fourier_shift(r, shift)
            moved = np.real(fourier_shift(mask.astype(np.float64), shift)) > 0.5
            border = int(math.ceil(max(abs(shift[0]), abs(shift[1])))) + 1
            frame = np.zeros_like(mask)
            frame[border:-border, border:-border] = True
            mask = mask & moved & frame
            if not mask.any():
                raise ValueError(f"align: nothing left to compare after the registration shift {shift}")
    # Global phase offset and amplitude scale.
    cross = np.sum(np.conj(r[mask]) * t[mask])
    phase_offset = float(np.angle(cross)) if abs(cross) > 0 else 0.0
    r = r * np.exp(1j * phase_offset)
    scale = 1.0
    if fit_scale:
        denom = float(np.sum(np.abs(r[mask]) ** 2))
        scale = float(np.sum(np.abs(r[mask]) * np.abs(t[mask])) / denom) if denom > 0 else 1.0
        r = r * scale
    ramp = None
    if remove_phase_ramp:
        rows_i, cols_i = np.indices(r.shape, dtype=np.float64)
        total = np.zeros(3)
        for _ in range(2):
            c, gx, gy = _fit_ramp(np.angle(t * np.conj(r)), mask)
            r = r * np.exp(1j * (c + gx * cols_i + gy * rows_i))
            total += (c, gx, gy)
        ramp = (float(total[0]), float(total[1]), float(total[2]))
    return Alignment(
        reconstruction=r,
        truth=t,
        mask=mask,
        shift=shift,
        phase_offset=phase_offset,
        amplitude_scale=scale,
        phase_ramp=ramp,
    )
