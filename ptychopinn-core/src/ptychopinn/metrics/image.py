"""Image-quality measures on real images: SSIM, PSNR, MAE (scipy.ndimage only)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["SSIM_SIGMA", "mae", "psnr", "ssim", "ssim_map"]

SSIM_SIGMA = 1.5
"""Gaussian window of SSIM (Wang et al. 2004), truncated at 3.5 sigma (an 11 x 11 window)."""
_TRUNCATE = 3.5
_K1, _K2 = 0.01, 0.03


def ssim_map(image: npt.ArrayLike, truth: npt.ArrayLike, *, data_range: float) -> np.ndarray:
    """Per-pixel structural similarity with a Gaussian window.

    Same definition as ``skimage.metrics.structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=data_range)``.

    Parameters
    ----------
    image, truth : (H, W) real
    data_range : float > 0
        Dynamic range of the true image (max - min); sets the stabilising constants.

    Returns
    -------
    (H, W) float64
    """
    from scipy.ndimage import gaussian_filter

    x = np.asarray(image, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ssim: images must be 2-D and equal in shape, got {x.shape}, {y.shape}")
    if not data_range > 0:
        raise ValueError(f"ssim: data_range must be > 0, got {data_range}")

    def f(a: np.ndarray) -> np.ndarray:
        return gaussian_filter(a, SSIM_SIGMA, truncate=_TRUNCATE, mode="reflect")

    ux, uy = f(x), f(y)
    vx = f(x * x) - ux * ux
    vy = f(y * y) - uy * uy
    vxy = f(x * y) - ux * uy
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))


def ssim(image: npt.ArrayLike, truth: npt.ArrayLike, *, data_range: float, mask: npt.ArrayLike | None = None) -> float:
    """Mean SSIM.

    Without ``mask``: the mean over the image minus a border of half the window (5 px),
    as scikit-image does. With ``mask`` (H, W) bool: the mean over the masked pixels.
    """
    s = ssim_map(image, truth, data_range=data_range)
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        return float(s[m].mean()) if m.any() else float("nan")
    pad = int(_TRUNCATE * SSIM_SIGMA + 0.5)
    inner = s[pad:-pad, pad:-pad] if min(s.shape) > 2 * pad else s
    return float(inner.mean())


def psnr(image: npt.ArrayLike, truth: npt.ArrayLike, *, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB with the peak = the true data range (max - min of ``truth``).

    Not an 8-bit peak of 255: the published evaluation used that and reported inflated values.
    """
    x = np.asarray(image, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    r = float(y.max() - y.min()) if data_range is None else data_range
    mse = float(np.mean((x - y) ** 2))
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(r * r / mse) if r > 0 else -math.inf


def mae(image: npt.ArrayLike, truth: npt.ArrayLike) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(image, dtype=np.float64) - np.asarray(truth, dtype=np.float64))))
