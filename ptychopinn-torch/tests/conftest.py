"""Small self-made scans for the torch backend tests (numpy oracle only, integer positions)."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.data import GroupedScan
from ptychopinn.physics import estimate_normalisation, far_field_amplitude, probe_disk_mask
from ptychopinn.results import TrainingData


def asymmetric_object(H: int, W: int, seed: int = 0) -> np.ndarray:
    """(H, W) complex64 object with no mirror symmetry: a ramp, an 'L' and random blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W] / max(H, W)
    amp = 0.55 + 0.25 * xx - 0.1 * yy
    phase = 0.8 * np.sin(6 * xx + 2 * yy**2)
    amp[H // 4 : H // 4 + 20, W // 3 : W // 3 + 5] += 0.3
    amp[H // 4 + 15 : H // 4 + 20, W // 3 : W // 3 + 18] += 0.3
    for _ in range(6):
        cy, cx = rng.integers(10, H - 10), rng.integers(10, W - 10)
        phase += 0.6 * np.exp(-((np.arange(H)[:, None] - cy) ** 2 + (np.arange(W)[None] - cx) ** 2) / 30.0)
    return (np.clip(amp, 0.05, 1.0) * np.exp(1j * phase)).astype(np.complex64)


def simulate(
    *, N: int = 64, grid: int = 6, step: int = 8, nphotons: float = 1e5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raster scan: (diffraction (M,N,N) float32 sqrt(counts), positions (M,2) (x,y), probe, object)."""
    rng = np.random.default_rng(seed)
    size = N + (grid - 1) * step + 8
    obj = asymmetric_object(size, size, seed)
    probe = (probe_disk_mask(N, radius=N / 4) * np.exp(0.3j * rng.standard_normal()) + 0).astype(np.complex64)
    pos = []
    diff = []
    for gy in range(grid):
        for gx in range(grid):
            x, y = N // 2 + 4 + gx * step, N // 2 + 4 + gy * step
            patch = obj[y - N // 2 : y + N // 2, x - N // 2 : x + N // 2]
            diff.append(far_field_amplitude(probe * patch))
            pos.append((x, y))
    d = np.asarray(diff, dtype=np.float64)
    d = d * np.sqrt(nphotons / np.mean(np.sum(d**2, axis=(1, 2))))
    d = np.sqrt(rng.poisson(d**2)).astype(np.float32)
    return d, np.asarray(pos, dtype=np.float64), probe, obj


def group(diff: np.ndarray, pos: np.ndarray, gridsize: int, *, grid: int) -> GroupedScan:
    """Gridsize 1: one group per pattern; gridsize 2: every 2x2 block of the raster."""
    if gridsize == 1:
        idx = np.arange(len(pos))[:, None]
    else:
        idx = np.asarray(
            [
                [gy * grid + gx, gy * grid + gx + 1, (gy + 1) * grid + gx, (gy + 1) * grid + gx + 1]
                for gy in range(grid - 1)
                for gx in range(grid - 1)
            ],
            dtype=np.int64,
        )
    centres = pos[idx].mean(axis=1)
    offsets = pos[idx] - centres[:, None, :]
    return GroupedScan(diffraction=diff, indices=idx.astype(np.int64), offsets=offsets, centres=centres)


@pytest.fixture(scope="session")
def small_scan() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return simulate()


def training_data(scan, gridsize: int, *, grid: int = 6, n_val: int = 4) -> TrainingData:
    diff, pos, probe, _ = scan
    g = group(diff, pos, gridsize, grid=grid)
    order = np.arange(g.n_groups)
    return TrainingData(
        train=g.select(order[n_val:]),
        validation=g.select(order[:n_val]) if n_val else None,
        probe=probe,
        normalisation=estimate_normalisation(diff),
    )
