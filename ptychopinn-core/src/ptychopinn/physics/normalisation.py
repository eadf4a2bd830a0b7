"""Photon scale and input normalisation.

Stored diffraction is an amplitude, sqrt(photon counts) (``docs/conventions.md``). The
network sees every pattern multiplied by one dataset-wide constant, ``input_scale``, chosen
so that the mean total power per pattern is (N/2)^2 (the power a unit-modulus object
filling the central N/2 x N/2 window would diffract). Predicted amplitudes are mapped back to
sqrt(counts) by dividing by the same constant, and the Poisson loss is evaluated on counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Normalisation", "estimate_normalisation", "mean_counts_per_pattern"]

_CHUNK = 1024


@dataclass(frozen=True, kw_only=True)
class Normalisation:
    """Dataset constants that map stored amplitudes to counts and to network units."""

    N: int
    """Pattern side in pixels."""

    mean_counts: float
    """Mean total photon counts per pattern, after ``amplitude_scale``."""

    amplitude_scale: float = 1.0
    """Stored amplitude x ``amplitude_scale`` = sqrt(counts). 1.0 for files that follow the
    data contract; other values come from ``TrainingConfig.nphotons``."""

    def __post_init__(self) -> None:
        if not (self.mean_counts > 0 and math.isfinite(self.mean_counts)):
            raise ValueError(f"Normalisation.mean_counts must be finite and > 0, got {self.mean_counts!r}")
        if not (self.amplitude_scale > 0 and math.isfinite(self.amplitude_scale)):
            raise ValueError(f"Normalisation.amplitude_scale must be finite and > 0, got {self.amplitude_scale!r}")

    @property
    def input_scale(self) -> float:
        """sqrt(counts) x ``input_scale`` = network units: ``(N/2) / sqrt(mean_counts)``."""
        return (self.N / 2) / math.sqrt(self.mean_counts)

    @property
    def network_scale(self) -> float:
        """Stored amplitude x ``network_scale`` = network input (``amplitude_scale * input_scale``)."""
        return self.amplitude_scale * self.input_scale

    def to_network(self, diffraction: npt.ArrayLike) -> np.ndarray:
        """Stored amplitudes (..., N, N) -> network input, float32."""
        return (np.asarray(diffraction, dtype=np.float32) * np.float32(self.network_scale)).astype(np.float32)

    def to_counts_amplitude(self, network_amplitude: npt.ArrayLike) -> np.ndarray:
        """Network-unit amplitudes -> sqrt(counts)."""
        return np.asarray(network_amplitude) / self.input_scale

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready form (bundle manifests)."""
        return {"N": self.N, "mean_counts": self.mean_counts, "amplitude_scale": self.amplitude_scale}


def mean_counts_per_pattern(diffraction: npt.ArrayLike) -> float:
    """Mean over patterns of ``sum(amplitude**2)``, streamed in chunks (memory-mapped input is fine).

    Parameters
    ----------
    diffraction : (M, N, N) float, sqrt(counts)
    """
    d = np.asarray(diffraction) if not isinstance(diffraction, np.ndarray) else diffraction
    total = 0.0
    for start in range(0, d.shape[0], _CHUNK):
        chunk = np.asarray(d[start : start + _CHUNK], dtype=np.float64)
        total += float(np.sum(chunk * chunk))
    return total / d.shape[0]


def estimate_normalisation(diffraction: npt.ArrayLike, *, nphotons: float | None = None) -> Normalisation:
    """Estimate the dataset constants from diffraction amplitudes.

    Parameters
    ----------
    diffraction : (M, N, N) float
        Stored amplitudes: sqrt(counts), or arbitrary units when ``nphotons`` is given.
    nphotons : float, optional
        Mean total counts per pattern to assume; the stored amplitudes are then rescaled
        by ``amplitude_scale = sqrt(nphotons / mean(sum d^2))``.

    Returns
    -------
    Normalisation
    """
    d = diffraction if isinstance(diffraction, np.ndarray) else np.asarray(diffraction)
    if d.ndim != 3 or d.shape[1] != d.shape[2] or d.shape[0] == 0:
        raise ValueError(f"estimate_normalisation: diffraction must be (M, N, N) with M > 0, got {d.shape}")
    measured = mean_counts_per_pattern(d)
    if not measured > 0:
        raise ValueError("estimate_normalisation: every diffraction pattern is zero")
    if nphotons is None:
        return Normalisation(N=d.shape[1], mean_counts=measured)
    return Normalisation(N=d.shape[1], mean_counts=float(nphotons), amplitude_scale=math.sqrt(nphotons / measured))
