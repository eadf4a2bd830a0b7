"""Fourier ring correlation and its resolution thresholds (0.5 and 1/7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FRCResult", "frc", "threshold_crossing"]


@dataclass(frozen=True, eq=False)
class FRCResult:
    """A Fourier ring correlation curve.

    Attributes
    ----------
    frequency : (R,) float64, cycles per pixel
        Ring centres, from 0 to the Nyquist frequency 0.5.
    curve : (R,) float64
        Correlation of each ring, in [-1, 1].
    frc50, frc_1_7 : float, cycles per pixel
        First frequency where the curve drops below 0.5 and 1/7 (linear interpolation);
        0.5 (Nyquist) when it never does.
    """

    frequency: np.ndarray
    curve: np.ndarray
    frc50: float
    frc_1_7: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; resolutions also as periods in pixels (1 / frequency)."""
        return {
            "frc50_cycles_per_px": self.frc50,
            "frc_1_7_cycles_per_px": self.frc_1_7,
            "frc50_period_px": 1.0 / self.frc50 if self.frc50 > 0 else None,
            "frc_1_7_period_px": 1.0 / self.frc_1_7 if self.frc_1_7 > 0 else None,
        }


def threshold_crossing(frequency: np.ndarray, curve: np.ndarray, threshold: float) -> float:
    """First frequency at which ``curve`` falls below ``threshold`` (linear interpolation)."""
    below = np.flatnonzero(curve < threshold)
    below = below[below > 0]  # ring 0 (the mean, removed) does not count
    if below.size == 0:
        return float(frequency[-1])
    i = int(below[0])
    if i == 1:
        return float(frequency[1])
    f0, f1 = float(frequency[i - 1]), float(frequency[i])
    c0, c1 = float(curve[i - 1]), float(curve[i])
    if c0 == c1:
        return f1
    return f0 + (c0 - threshold) * (f1 - f0) / (c0 - c1)


def frc(image: npt.ArrayLike, truth: npt.ArrayLike, *, apodise: bool = True) -> FRCResult:
    """Fourier ring correlation of two images.

    ``FRC(ring) = Re sum F1 conj(F2) / sqrt(sum |F1|^2 sum |F2|^2)`` over rings of width
    1 / min(H, W) cycles per pixel, after removing the means and (``apodise``) multiplying
    both by a Hann window to suppress edge artefacts.

    Parameters
    ----------
    image, truth : (H, W) real or complex
    apodise : bool

    Returns
    -------
    FRCResult
    """
    a = np.asarray(image)
    b = np.asarray(truth)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"frc: images must be 2-D and equal in shape, got {a.shape}, {b.shape}")
    H, W = a.shape
    a = a - a.mean()
    b = b - b.mean()
    if apodise:
        win = np.outer(np.hanning(H), np.hanning(W))
        a, b = a * win, b * win
    fa, fb = np.fft.fft2(a), np.fft.fft2(b)
    fy = np.fft.fftfreq(H)[:, None]
    fx = np.fft.fftfreq(W)[None, :]
    width = 1.0 / min(H, W)
    ring = np.rint(np.hypot(fy, fx) / width).astype(np.int64).ravel()
    n_rings = int(0.5 / width + 1e-9) + 1
    keep = ring < n_rings
    ring = ring[keep]
    cross = np.bincount(ring, (fa * np.conj(fb)).ravel()[keep].real, minlength=n_rings)
    pa = np.bincount(ring, (np.abs(fa) ** 2).ravel()[keep], minlength=n_rings)
    pb = np.bincount(ring, (np.abs(fb) ** 2).ravel()[keep], minlength=n_rings)
    denom = np.sqrt(pa * pb)
    curve = np.where(denom > 0, cross / np.where(denom > 0, denom, 1.0), 0.0)
    frequency = np.arange(n_rings) * width
    return FRCResult(
        frequency=frequency,
        curve=curve,
        frc50=threshold_crossing(frequency, curve, 0.5),
        frc_1_7=threshold_crossing(frequency, curve, 1.0 / 7.0),
    )
