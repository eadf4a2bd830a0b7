"""Sub-pixel image registration by upsampled phase correlation (Guizar-Sicairos et al. 2008)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["fourier_shift", "register_translation"]


def _correlation_at(R: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Inverse DFT of the cross-power spectrum ``R`` (H, W) evaluated at fractional pixels."""
    H, W = R.shape
    ey = np.exp(2j * np.pi * rows[:, None] * np.fft.fftfreq(H)[None, :])
    ex = np.exp(2j * np.pi * np.fft.fftfreq(W)[:, None] * cols[None, :])
    return ey @ R @ ex


def register_translation(
    reference: npt.ArrayLike,
    moving: npt.ArrayLike,
    *,
    upsample_factor: int = 100,
    normalization: Literal["phase"] | None = None,
) -> tuple[float, float]:
    """Shift that aligns ``moving`` with ``reference``.

    The cross-correlation finds the integer peak; the peak is then refined on a grid of
    ``1 / upsample_factor`` pixels with a matrix-multiply DFT over a 1.5-pixel
    neighbourhood (Guizar-Sicairos et al., Opt. Lett. 33, 156 (2008)).

    Parameters
    ----------
    reference, moving : (H, W) real or complex
        Same shape. Complex images are correlated as complex fields, so a global phase
        offset between them does not matter.
    upsample_factor : int
        Precision is ``1 / upsample_factor`` pixels.
    normalization : {None, "phase"}
        ``None`` (default): plain cross-correlation, dominated by the strong low
        frequencies, robust to noisy or blurred high frequencies of a reconstruction.
        ``"phase"``: phase correlation (every frequency weighted equally).

    Returns
    -------
    (dx, dy) : float, pixels
        ``fourier_shift(moving, (dx, dy))`` matches ``reference`` (content of ``moving``
        must move right by dx and down by dy).
    """
    a = np.asarray(reference)
    b = np.asarray(moving)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"register_translation: images must be 2-D and equal in shape, got {a.shape}, {b.shape}")
    H, W = a.shape
    R = np.fft.fft2(a) * np.conj(np.fft.fft2(b))
    if normalization == "phase":
        R = R / np.maximum(np.abs(R), 1e-300)
    elif normalization is not None:
        raise ValueError(f"register_translation: normalization must be None or 'phase', got {normalization!r}")
    cc = np.fft.ifft2(R)
    peak = np.unravel_index(int(np.argmax(np.abs(cc))), cc.shape)
    shift = np.array([float(p) for p in peak])
    shift[0] = shift[0] - H if shift[0] > H // 2 else shift[0]
    shift[1] = shift[1] - W if shift[1] > W // 2 else shift[1]
    if upsample_factor > 1:
        uf = float(upsample_factor)
        size = int(math.ceil(1.5 * uf))
        centre = size // 2
        offsets = (np.arange(size) - centre) / uf
        for _ in range(2):  # a second pass re-centres when the first peak sits on the window edge
            up = _correlation_at(R, shift[0] + offsets, shift[1] + offsets)
            i, j = np.unravel_index(int(np.argmax(np.abs(up))), up.shape)
            shift = shift + (np.array([i, j]) - centre) / uf
            if 0 < i < size - 1 and 0 < j < size - 1:
                break
    return float(shift[1]), float(shift[0])


def fourier_shift(image: npt.ArrayLike, shift: tuple[float, float]) -> np.ndarray:
    """Circularly translate ``image`` by ``shift = (dx, dy)`` pixels with the Fourier shift theorem.

    Parameters
    ----------
    image : (H, W) real or complex
    shift : (dx, dy), pixels; content moves right by dx and down by dy

    Returns
    -------
    (H, W) complex128 (the imaginary part is ~0 for real input and integer shifts)
    """
    img = np.asarray(image)
    H, W = img.shape
    dx, dy = shift
    ramp = np.exp(-2j * np.pi * (np.fft.fftfreq(H)[:, None] * dy + np.fft.fftfreq(W)[None, :] * dx))
    return np.fft.ifft2(np.fft.fft2(img) * ramp)
