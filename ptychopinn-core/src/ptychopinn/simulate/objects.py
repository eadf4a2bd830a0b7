"""Synthetic test objects: random lines, Gaussian random fields, Siemens star.

Every generator returns a complex64 transmission ``amplitude * exp(i * phase)`` with
amplitude in ``[amp_min, 1]`` and phase in ``[-phase_max, phase_max]`` radians, built from
one or two real patterns in [0, 1].
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["ObjectKind", "gaussian_random_field", "lines_pattern", "make_object", "siemens_star_pattern"]

ObjectKind = Literal["lines", "lines_fine", "grf", "siemens"]


def _normalise01(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def lines_pattern(
    shape: tuple[int, int], rng: np.random.Generator, *, density: float = 1.0, fine_detail: bool = False
) -> np.ndarray:
    """Random lines blurred at several scales (the published "lines" recipe).

    ``density`` x (H * W / 600) lines with uniformly random end points are drawn on the
    grid, then blurred as ``g1 + 2 g5 + 5 g10`` (Gaussian sigmas 1, 5, 10 px), the recipe of
    the published SIM-LINES benchmark. ``fine_detail=True`` adds a sharp copy
    (``0.5 g0.5``) so that 1-2 px wide lines dominate the contrast: a harder object whose
    finest features sit at the pixel size. Returns (H, W) float64 in [0, 1].
    """
    from scipy.ndimage import gaussian_filter

    H, W = shape
    n_lines = max(8, int(round(density * H * W / 600)))
    img = np.zeros((H, W), dtype=np.float64)
    ends = rng.uniform(0, 1, size=(n_lines, 4)) * np.array([W - 1, H - 1, W - 1, H - 1])
    for x0, y0, x1, y1 in ends:
        n = int(np.ceil(2 * np.hypot(x1 - x0, y1 - y0))) + 2
        t = np.linspace(0.0, 1.0, n)
        cols = np.rint(x0 + t * (x1 - x0)).astype(np.int64)
        rows = np.rint(y0 + t * (y1 - y0)).astype(np.int64)
        img[rows, cols] = 1.0
    blurred = gaussian_filter(img, 1.0) + 2 * gaussian_filter(img, 5.0) + 5 * gaussian_filter(img, 10.0)
    if fine_detail:
        blurred += 0.5 * gaussian_filter(img, 0.5)
    return _normalise01(blurred)


def gaussian_random_field(shape: tuple[int, int], rng: np.random.Generator, *, power: float = 3.0) -> np.ndarray:
    """Isotropic Gaussian random field with power spectrum ``|k|^-power``; (H, W) float64 in [0, 1]."""
    H, W = shape
    ky = np.fft.fftfreq(H)[:, None]
    kx = np.fft.fftfreq(W)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = np.inf
    amplitude = k ** (-power / 2)
    noise = rng.standard_normal((H, W)) + 1j * rng.standard_normal((H, W))
    field = np.fft.ifft2(noise * amplitude).real
    return _normalise01(field)


def siemens_star_pattern(shape: tuple[int, int], *, spokes: int = 36, radius: float | None = None) -> np.ndarray:
    """Siemens star of ``spokes`` dark/bright pairs centred in the image, anti-aliased by 4x supersampling.

    Pixels farther than ``radius`` (default 0.48 min(H, W)) from the centre are 0.
    Returns (H, W) float64 in [0, 1].
    """
    H, W = shape
    R = 0.48 * min(H, W) if radius is None else radius
    s = 4
    yy, xx = np.mgrid[0 : H * s, 0 : W * s].astype(np.float64)
    yy = (yy + 0.5) / s - 0.5 - (H - 1) / 2
    xx = (xx + 0.5) / s - 0.5 - (W - 1) / 2
    theta = np.arctan2(yy, xx)
    star = (np.sin(spokes * theta) > 0).astype(np.float64) * (np.hypot(yy, xx) <= R)
    return star.reshape(H, s, W, s).mean(axis=(1, 3))


def make_object(
    kind: ObjectKind,
    shape: tuple[int, int],
    *,
    rng: np.random.Generator,
    amp_min: float = 0.5,
    phase_max: float = 1.0,
) -> np.ndarray:
    """A complex test object.

    Parameters
    ----------
    kind : {"lines", "lines_fine", "grf", "siemens"}
        ``lines``: amplitude and phase from one random-lines pattern (published recipe);
        ``lines_fine``: the same with a sharp 1-2 px copy of the lines added; ``grf``: independent
        Gaussian random fields for amplitude and phase; ``siemens``: a Siemens star (bright
        spokes: amplitude 1, phase +phase_max; gaps and outside: amp_min, -phase_max).
    shape : (H, W)
    rng : numpy Generator
    amp_min : float in [0, 1]
    phase_max : float, radians

    Returns
    -------
    (H, W) complex64
    """
    if kind in ("lines", "lines_fine"):
        a = lines_pattern(shape, rng, fine_detail=kind == "lines_fine")
        ph = a
    elif kind == "grf":
        a = gaussian_random_field(shape, rng)
        ph = gaussian_random_field(shape, rng)
    elif kind == "siemens":
        a = siemens_star_pattern(shape)
        ph = a
    else:
        raise ValueError(f"unknown object kind {kind!r}; choose 'lines', 'lines_fine', 'grf' or 'siemens'")
    amplitude = amp_min + (1.0 - amp_min) * a
    phase = phase_max * (2.0 * ph - 1.0)
    return (amplitude * np.exp(1j * phase)).astype(np.complex64)
