"""Scan trajectories: raster, Fermat spiral, jittered raster (relative positions, pixels)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

__all__ = ["ScanKind", "make_positions"]

ScanKind = Literal["raster", "spiral", "jittered"]

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def make_positions(
    kind: ScanKind,
    n_patterns: int,
    step_px: float,
    *,
    rng: np.random.Generator,
    jitter_px: float | None = None,
) -> np.ndarray:
    """Scan positions relative to the first grid point, (M, 2) float64 as (x, y) pixels.

    Parameters
    ----------
    kind : {"raster", "spiral", "jittered"}
        ``raster``: row-major grid of ceil(sqrt(M)) columns; ``spiral``: Fermat spiral
        (golden-angle) with one point per ``step_px**2`` of area, so neighbours are about
        ``step_px`` apart; ``jittered``: raster plus uniform jitter in [-jitter, jitter].
    n_patterns : int
    step_px : float > 0
    rng : numpy Generator (used by ``jittered``)
    jitter_px : float, optional
        Default ``0.25 * step_px``.
    """
    if n_patterns < 1:
        raise ValueError(f"n_patterns must be >= 1, got {n_patterns}")
    if not step_px > 0:
        raise ValueError(f"step_px must be > 0, got {step_px}")
    if kind in ("raster", "jittered"):
        nx = math.ceil(math.sqrt(n_patterns))
        k = np.arange(n_patterns)
        pos = np.stack([(k % nx) * step_px, (k // nx) * step_px], axis=1).astype(np.float64)
        if kind == "jittered":
            j = 0.25 * step_px if jitter_px is None else jitter_px
            pos = pos + rng.uniform(-j, j, size=pos.shape)
        return pos
    if kind == "spiral":
        kf = np.arange(n_patterns, dtype=np.float64)
        r = step_px * np.sqrt(kf / math.pi)
        theta = kf * _GOLDEN_ANGLE
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    raise ValueError(f"unknown scan kind {kind!r}; choose 'raster', 'spiral' or 'jittered'")
