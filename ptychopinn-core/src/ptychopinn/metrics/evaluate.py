"""``evaluate``: score a reconstruction against the ground truth (JSON-ready)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ptychopinn.metrics.alignment import Alignment, align
from ptychopinn.metrics.frc import frc
from ptychopinn.metrics.image import mae, psnr, ssim

__all__ = ["channel_images", "evaluate", "score_alignment"]


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def channel_images(al: Alignment) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(reconstruction, truth) real images per channel on the bounding box of the mask.

    Amplitude is ``|.|``. Phase of the truth is ``angle(t)``; the reconstruction's phase is
    the truth's plus the wrapped difference ``angle(r conj(t))``, so phase wrapping never
    counts as an error and a global phase offset cannot change a metric.
    """
    m = al.mask
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    r, t = al.reconstruction[box], al.truth[box]
    phase_t = np.angle(t)
    phase_r = phase_t + np.angle(r * np.conj(t))
    return {"amplitude": (np.abs(r), np.abs(t)), "phase": (phase_r, phase_t)}


def score_alignment(al: Alignment) -> dict[str, Any]:
    """Metrics of an :class:`Alignment` (see :func:`evaluate`)."""
    m = al.mask
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    mb = m[box]
    out: dict[str, Any] = {
        "registration_shift_px": [al.shift[0], al.shift[1]],
        "phase_offset_rad": al.phase_offset,
        "amplitude_scale": al.amplitude_scale,
        "phase_ramp": None if al.phase_ramp is None else list(al.phase_ramp),
        "scored_pixels": int(m.sum()),
        "crop": {
            "row_start": box[0].start,
            "row_stop": box[0].stop,
            "col_start": box[1].start,
            "col_stop": box[1].stop,
        },
        "frc_curves": {},
    }
    for name, (x, y) in channel_images(al).items():
        xv, yv = x[mb], y[mb]
        data_range = float(yv.max() - yv.min())
        if data_range == 0:
            data_range = float(abs(yv.max())) or 1.0
        curve = frc(np.where(mb, x, 0), np.where(mb, y, 0))
        out[name] = {
            # pixels outside the mask are set to 0 in both images, so SSIM windows at the edge of the
            # lit region compare only scored pixels
            "ssim": _finite(ssim(np.where(mb, x, 0), np.where(mb, y, 0), data_range=data_range, mask=mb)),
            "psnr_db": _finite(psnr(xv, yv, data_range=data_range)),
            "mae": mae(xv, yv),
            "mse": float(np.mean((xv - yv) ** 2)),
            "data_range": data_range,
            **curve.to_dict(),
        }
        out["frc_curves"][name] = {"frequency": curve.frequency.tolist(), "frc": curve.curve.tolist()}
    return out


def evaluate(
    reconstruction: npt.ArrayLike,
    truth: npt.ArrayLike,
    *,
    valid: npt.ArrayLike | None = None,
    register: bool = True,
    upsample_factor: int = 100,
    fit_scale: bool = True,
    remove_phase_ramp: bool = False,
) -> dict[str, Any]:
    """Score a reconstruction against the ground truth on the same pixel grid.

    Parameters
    ----------
    reconstruction, truth : (H, W) complex
    valid : (H, W) bool, optional
        Lit region (``StitchedObject.valid``); only these pixels are scored.
    register, upsample_factor, fit_scale, remove_phase_ramp
        See :func:`ptychopinn.metrics.alignment.align`.

    Returns
    -------
    dict (JSON-ready)
        ``registration_shift_px`` [dx, dy], ``phase_offset_rad``, ``amplitude_scale``,
        ``phase_ramp``, ``scored_pixels``, ``crop``; per channel ``amplitude`` and
        ``phase``: ``ssim``, ``psnr_db`` (peak = true data range), ``mae``, ``mse``,
        ``data_range``, ``frc50_cycles_per_px``, ``frc_1_7_cycles_per_px`` (and periods in
        px); ``frc_curves``. PSNR is None when the images are identical (infinite).
    """
    al = align(
        reconstruction,
        truth,
        valid=valid,
        register=register,
        upsample_factor=upsample_factor,
        fit_scale=fit_scale,
        remove_phase_ramp=remove_phase_ramp,
    )
    return score_alignment(al)
