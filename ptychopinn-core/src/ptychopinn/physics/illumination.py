"""Probe illumination and probe normalisation."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["illuminate", "normalise_probe", "probe_disk_mask"]


def probe_disk_mask(N: int, *, radius: float | None = None) -> np.ndarray:
    """(N, N) float32 hard disk of ``radius`` pixels (default N/4) centred on pixel (N/2, N/2)."""
    r = N / 4 if radius is None else radius
    yy, xx = np.mgrid[0:N, 0:N]
    return ((xx - N // 2) ** 2 + (yy - N // 2) ** 2 < r * r).astype(np.float32)


def normalise_probe(
    probe: npt.ArrayLike,
    *,
    reference_transmission: float,
    mask: bool = False,
) -> np.ndarray:
    """Scale a probe so that its power matches the normalised diffraction.

    The network sees diffraction normalised to a mean power of (N/2)^2 per pattern (see
    :mod:`ptychopinn.physics.normalisation`). The probe is scaled so that an object of RMS
    amplitude ``reference_transmission`` under the probe explains that power:
    ``sum |P|^2 = (N/2)^2 / reference_transmission^2``. The probe's shape and phase are kept.

    Parameters
    ----------
    probe : (N, N) complex
        Probe on the object pixel grid, any units.
    reference_transmission : float > 0
    mask : bool
        Multiply by :func:`probe_disk_mask` first.

    Returns
    -------
    (N, N) complex64
    """
    p = np.asarray(probe).astype(np.complex128)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ValueError(f"normalise_probe: probe must be (N, N), got {p.shape}")
    N = p.shape[0]
    if mask:
        p = p * probe_disk_mask(N)
    power = float(np.sum(np.abs(p) ** 2))
    if not power > 0:
        raise ValueError("normalise_probe: the probe has zero power")
    target = (N / 2) ** 2 / reference_transmission**2
    return (p * np.sqrt(target / power)).astype(np.complex64)


def illuminate(patches: npt.ArrayLike, probe: npt.ArrayLike) -> np.ndarray:
    """Exit waves ``probe * patches``.

    Parameters
    ----------
    patches : (..., N, N) complex
        Object transmission patches.
    probe : (N, N) complex

    Returns
    -------
    (..., N, N) complex
    """
    return np.asarray(patches) * np.asarray(probe)
