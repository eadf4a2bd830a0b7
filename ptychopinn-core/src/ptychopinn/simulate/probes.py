"""Synthetic probes on the object pixel grid (shape only: unit peak amplitude).

``simulate_scan`` rescales the probe so that it is in sqrt(counts) units.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["ProbeKind", "disk_probe", "make_probe", "zone_plate_probe"]

ProbeKind = Literal["disk", "gaussian", "zoneplate"]


def disk_probe(N: int, *, radius: float | None = None, edge_sigma: float = 1.0) -> np.ndarray:
    """Flat-phase disk of ``radius`` px (default N/5) with a Gaussian-blurred edge, centred on (N/2, N/2)."""
    from scipy.ndimage import gaussian_filter

    R = N / 5 if radius is None else radius
    yy, xx = np.mgrid[0:N, 0:N]
    disk = (np.hypot(yy - N // 2, xx - N // 2) <= R).astype(np.float64)
    p = gaussian_filter(disk, edge_sigma) if edge_sigma > 0 else disk
    return (p / p.max()).astype(np.complex64)


def gaussian_probe(N: int, *, fwhm: float | None = None) -> np.ndarray:
    """Flat-phase Gaussian amplitude with intensity FWHM ``fwhm`` px (default N/4)."""
    f = N / 4 if fwhm is None else fwhm
    sigma = f / (2 * np.sqrt(2 * np.log(2))) * np.sqrt(2)  # amplitude sigma for an intensity FWHM f
    yy, xx = np.mgrid[0:N, 0:N]
    return np.exp(-((yy - N // 2) ** 2 + (xx - N // 2) ** 2) / (2 * sigma**2)).astype(np.complex64)


def zone_plate_probe(
    N: int, *, pupil_radius: float | None = None, central_stop: float = 0.3, defocus_waves: float | None = None
) -> np.ndarray:
    """Defocused zone-plate-like probe: an annular pupil with a quadratic (defocus) phase.

    The far-field pupil is an annulus (outer radius ``pupil_radius`` frequency pixels,
    default N/8; inner radius ``central_stop`` x outer) with ``defocus_waves`` waves of
    defocus at its rim (default ``pupil_radius / 4``, which makes the geometric beam
    radius about N/4 px). The probe is its inverse far field, so it has the ring
    structure and curved phase of an out-of-focus Fresnel zone plate.
    """
    from ptychopinn.physics.propagation import inverse_far_field

    ko = N / 8 if pupil_radius is None else pupil_radius
    c = ko / 4 if defocus_waves is None else defocus_waves
    ky, kx = np.mgrid[0:N, 0:N]
    rho = np.hypot(ky - N // 2, kx - N // 2) / ko
    pupil = ((rho <= 1.0) & (rho >= central_stop)).astype(np.float64)
    field = pupil * np.exp(1j * np.pi * c * rho**2)
    # inverse_far_field puts the real-space origin at pixel (0, 0); move it to (N/2, N/2).
    p = np.fft.fftshift(inverse_far_field(field))
    return (p / np.abs(p).max()).astype(np.complex64)


def make_probe(kind: ProbeKind, N: int) -> np.ndarray:
    """(N, N) complex64 probe of unit peak amplitude: ``disk``, ``gaussian`` or ``zoneplate``."""
    if kind == "disk":
        return disk_probe(N)
    if kind == "gaussian":
        return gaussian_probe(N)
    if kind == "zoneplate":
        return zone_plate_probe(N)
    raise ValueError(f"unknown probe kind {kind!r}; choose 'disk', 'gaussian' or 'zoneplate'")
