"""Scan summaries: photon counts, scan geometry, probe size and overlap (``ptychopinn inspect``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ptychopinn.data.scan import ScanData

__all__ = ["counts_per_pattern", "linear_overlap", "nearest_neighbour_step", "probe_diameter", "summarise_scan"]

_CHUNK = 1024


def probe_diameter(probe: npt.ArrayLike, *, power_fraction: float = 0.9) -> float:
    """Diameter (pixels) of the circle about the intensity centroid holding ``power_fraction`` of the power.

    Parameters
    ----------
    probe : (N, N) complex
    power_fraction : float in (0, 1]

    Returns
    -------
    float, object pixels
    """
    intensity = np.abs(np.asarray(probe, dtype=np.complex128)) ** 2
    total = float(intensity.sum())
    if not total > 0:
        return 0.0
    yy, xx = np.indices(intensity.shape, dtype=np.float64)
    cy = float((yy * intensity).sum() / total)
    cx = float((xx * intensity).sum() / total)
    r = np.hypot(yy - cy, xx - cx).ravel()
    order = np.argsort(r, kind="stable")
    cumulative = np.cumsum(intensity.ravel()[order])
    k = int(np.searchsorted(cumulative, power_fraction * total))
    return float(2.0 * r[order][min(k, r.size - 1)])


def nearest_neighbour_step(positions: npt.ArrayLike) -> float:
    """Median distance (pixels) from each scan point to its nearest neighbour (0 for one point)."""
    pos = np.asarray(positions, dtype=np.float64)
    if pos.shape[0] < 2:
        return 0.0
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(pos).query(pos, k=2)
    return float(np.median(dist[:, 1]))


def linear_overlap(step: float, diameter: float) -> float:
    """Linear probe overlap ``1 - step / diameter`` (may be negative when the probes do not touch)."""
    return float(1.0 - step / diameter) if diameter > 0 else 0.0


def counts_per_pattern(diffraction: npt.ArrayLike) -> np.ndarray:
    """(M,) float64 total photon counts of each pattern, ``sum(amplitude**2)``, streamed in chunks."""
    d = diffraction if isinstance(diffraction, np.ndarray) else np.asarray(diffraction)
    out = np.empty(d.shape[0], dtype=np.float64)
    for start in range(0, d.shape[0], _CHUNK):
        chunk = np.asarray(d[start : start + _CHUNK], dtype=np.float64)
        out[start : start + _CHUNK] = np.sum(chunk * chunk, axis=(1, 2))
    return out


def summarise_scan(scan: ScanData) -> dict[str, Any]:
    """JSON-ready summary of a validated scan.

    Returns
    -------
    dict
        ``patterns``, ``N``, ``counts_per_pattern`` (min/mean/median/max), ``scan_extent_px``
        (x/y min/max), ``step_px`` (median nearest-neighbour distance), ``probe_diameter_px``
        (90 % power), ``linear_overlap``, ``probe_power`` (sum |P|^2, counts when the probe is
        in sqrt(counts) units), ``object_shape``, ``memory_mapped``.
    """
    counts = counts_per_pattern(scan.diffraction)
    pos = scan.positions
    step = nearest_neighbour_step(pos)
    diameter = probe_diameter(scan.probe)
    return {
        "source": scan.source,
        "patterns": scan.n_patterns,
        "N": scan.N,
        "counts_per_pattern": {
            "min": float(counts.min()),
            "mean": float(counts.mean()),
            "median": float(np.median(counts)),
            "max": float(counts.max()),
        },
        "scan_extent_px": {
            "x_min": float(pos[:, 0].min()),
            "x_max": float(pos[:, 0].max()),
            "y_min": float(pos[:, 1].min()),
            "y_max": float(pos[:, 1].max()),
        },
        "step_px": step,
        "probe_diameter_px": diameter,
        "linear_overlap": linear_overlap(step, diameter),
        "probe_power": float(np.sum(np.abs(scan.probe.astype(np.complex128)) ** 2)),
        "object_shape": None if scan.object is None else list(scan.object.shape),
        "scan_index": scan.scan_index is not None,
        "memory_mapped": isinstance(scan.diffraction, np.memmap),
    }
