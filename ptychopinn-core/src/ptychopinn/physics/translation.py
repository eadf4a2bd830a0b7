"""Sub-pixel translation of images: the single translation primitive of the project.

``translate(images, shifts)`` moves content by ``shifts = (dx, dy)`` pixels (positive dx =
right, towards larger column index; positive dy = down, towards larger row index):

    out[..., i, j] = bilinear(images)[..., i - dy, j - dx],   zero outside the image.

The bilinear kernel with a uniform shift is separable, so the operator is a blend of two
integer shifts per axis. Its adjoint is exactly the translation by ``-shifts`` (both have
zero fill), which :func:`translate_adjoint` states and the tests check.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["translate", "translate_adjoint"]


def _shift_axis(images: np.ndarray, shift: float, axis: int) -> np.ndarray:
    """Bilinear shift of every image along one axis, zero fill."""
    k = math.floor(shift)
    frac = shift - k
    out = _integer_shift(images, k, axis)
    if frac != 0.0:
        out = (1.0 - frac) * out + frac * _integer_shift(images, k + 1, axis)
    return out


def _integer_shift(images: np.ndarray, k: int, axis: int) -> np.ndarray:
    """``out[j] = images[j - k]`` along ``axis``, zero where ``j - k`` is outside."""
    n = images.shape[axis]
    out = np.zeros_like(images)
    if abs(k) >= n:
        return out
    src = [slice(None)] * images.ndim
    dst = [slice(None)] * images.ndim
    if k >= 0:
        src[axis] = slice(0, n - k)
        dst[axis] = slice(k, n)
    else:
        src[axis] = slice(-k, n)
        dst[axis] = slice(0, n + k)
    out[tuple(dst)] = images[tuple(src)]
    return out


def translate(images: npt.ArrayLike, shifts: npt.ArrayLike) -> np.ndarray:
    """Translate each image by its own sub-pixel shift (bilinear, zero fill).

    Parameters
    ----------
    images : (B, H, W) real or complex
        Images to move. Complex images are interpolated linearly (real and imaginary parts
        alike).
    shifts : (B, 2) float, pixels
        ``(dx, dy)`` per image: content moves right by dx and down by dy.

    Returns
    -------
    (B, H, W), same dtype as ``images``
    """
    imgs = np.asarray(images)
    sh = np.asarray(shifts, dtype=np.float64)
    if imgs.ndim != 3:
        raise ValueError(f"translate: images must have shape (B, H, W), got {imgs.shape}")
    if sh.shape != (imgs.shape[0], 2):
        raise ValueError(f"translate: shifts must have shape ({imgs.shape[0]}, 2) as (dx, dy), got {sh.shape}")
    out = np.empty_like(imgs)
    for b in range(imgs.shape[0]):
        dx, dy = float(sh[b, 0]), float(sh[b, 1])
        moved = _shift_axis(imgs[b], dy, axis=0)
        out[b] = _shift_axis(moved, dx, axis=1)
    return out


def translate_adjoint(images: npt.ArrayLike, shifts: npt.ArrayLike) -> np.ndarray:
    """Adjoint of :func:`translate` for the same ``shifts``: the translation by ``-shifts``."""
    return translate(images, -np.asarray(shifts, dtype=np.float64))
