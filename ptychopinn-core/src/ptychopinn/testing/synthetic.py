"""A tiny, fast synthetic scan for conformance and unit tests (not a simulator for science).

For realistic simulated data use :func:`ptychopinn.simulate.simulate_scan`.
"""

from __future__ import annotations

import numpy as np

from ptychopinn.data.scan import ScanData
from ptychopinn.physics.illumination import probe_disk_mask
from ptychopinn.physics.propagation import far_field_amplitude

__all__ = ["synthetic_scan"]


def _smooth(rng: np.random.Generator, shape: tuple[int, int], width: float) -> np.ndarray:
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    out = np.real(np.fft.ifft2(np.fft.fft2(noise) * np.exp(-((kx**2 + ky**2) * (width**2)))))
    return (out - out.min()) / (np.ptp(out) + 1e-12)


def synthetic_scan(
    *,
    N: int = 64,
    n_side: int = 4,
    step_px: int = 8,
    photons: float = 1e5,
    seed: int = 0,
) -> ScanData:
    """A raster scan of a smooth random object with a soft disk probe and Poisson noise.

    Parameters
    ----------
    N : int
        Pattern side in pixels.
    n_side : int
        The raster has ``n_side**2`` points.
    step_px : int
        Raster step in object pixels (integer positions).
    photons : float
        Mean total counts per pattern before Poisson noise.
    seed : int

    Returns
    -------
    ScanData
        ``diffraction`` (M, N, N) float32 sqrt(counts), integer ``positions`` (x, y),
        ``probe`` (N, N) complex64, ``object`` (H, W) complex64 ground truth.
    """
    from ptychopinn.physics.patches import extract_object_patches

    rng = np.random.default_rng(seed)
    size = N + (n_side - 1) * step_px + N // 2
    amplitude = 0.5 + 0.4 * _smooth(rng, (size, size), 12.0)
    phase = 1.0 * (_smooth(rng, (size, size), 12.0) - 0.5)
    obj = (amplitude * np.exp(1j * phase)).astype(np.complex64)
    yy, xx = np.mgrid[0:N, 0:N]
    r2 = (xx - N // 2) ** 2 + (yy - N // 2) ** 2
    probe = (probe_disk_mask(N) * np.exp(-r2 / (2 * (N / 6) ** 2)) * np.exp(0.3j * r2 / N)).astype(np.complex64)
    start = N // 2 + N // 4
    grid = start + step_px * np.arange(n_side, dtype=np.float64)
    xs, ys = np.meshgrid(grid, grid)
    positions = np.stack([xs.ravel(), ys.ravel()], axis=1)
    patches = extract_object_patches(obj, positions, N)
    amps = far_field_amplitude(patches * probe).astype(np.float64)
    scale = photons / np.mean(np.sum(amps**2, axis=(1, 2)))
    counts = rng.poisson(amps**2 * scale)
    return ScanData(
        diffraction=np.sqrt(counts).astype(np.float32),
        positions=positions,
        probe=(probe * np.sqrt(scale)).astype(np.complex64),
        object=obj,
        source=f"synthetic_scan(seed={seed})",
    )
