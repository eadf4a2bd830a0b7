"""A reference iterative solver: regularised PIE (rPIE) with a known probe, on core's oracle.

This is the yardstick the learned backends are measured against (``benchmarks/
iterative_baseline.py``): it uses the same conventions as the simulator and the forward model
(``docs/conventions.md``) — patch pixel (N/2, N/2) on the scan position, bilinear sub-pixel
placement, the orthonormal centred far field — so a scan simulated by
:mod:`ptychopinn.simulate` is solved to near the noise floor in a few sweeps. It is a
single-threaded numpy loop meant for benchmark-sized scans (thousands of patterns), not a
production solver: the probe is not refined and positions are not corrected.

Update (Maiden, Johnson & Li 2017, rPIE), for each pattern m in a random order::

    psi   = P * E_m(O)
    psi'  = F^-1[ A_m * F(psi) / |F(psi)| ]
    O    += alpha * E_m^T[ conj(P) * (psi' - psi) ] / ((1 - beta) |P|^2 + beta max|P|^2)

where ``E_m`` cuts the bilinearly interpolated patch at position m and ``E_m^T`` is its exact
adjoint (scatter with the same four weights).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ptychopinn.data.scan import ScanData
from ptychopinn.physics.normalisation import mean_counts_per_pattern
from ptychopinn.physics.patches import patch_origin
from ptychopinn.physics.propagation import far_field, inverse_far_field
from ptychopinn.results import CanvasSpec, StitchedObject
from ptychopinn.stitching import default_canvas, valid_mask

__all__ = ["pie_reconstruct"]

_OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))
"""(row, column) offsets of the four bilinear neighbours, in the order of the weights."""


def _gather(canvas: np.ndarray, r: int, c: int, w: np.ndarray, N: int) -> np.ndarray:
    """E_m: the bilinearly interpolated N x N patch whose top-left neighbour is canvas pixel (r, c)."""
    return sum(w[k] * canvas[r + dr : r + dr + N, c + dc : c + dc + N] for k, (dr, dc) in enumerate(_OFFSETS))


def _scatter_add(canvas: np.ndarray, r: int, c: int, w: np.ndarray, values: np.ndarray) -> None:
    """E_m^T: add an N x N array back with the same four weights (the exact adjoint of :func:`_gather`)."""
    N = values.shape[0]
    for k, (dr, dc) in enumerate(_OFFSETS):
        canvas[r + dr : r + dr + N, c + dc : c + dc + N] += w[k] * values


def pie_reconstruct(
    scan: ScanData,
    *,
    iterations: int = 10,
    alpha: float = 1.0,
    beta: float = 0.1,
    seed: int = 0,
    valid_threshold: float = 0.1,
    progress: Callable[[int, float], None] | None = None,
) -> StitchedObject:
    """Reconstruct the object of ``scan`` by rPIE with the scan's probe held fixed.

    Parameters
    ----------
    scan : ScanData
        Amplitudes ``diffraction`` (M, N, N) sqrt(counts), ``positions`` (M, 2) object
        pixels (x, y), ``probe`` (N, N) complex in the units the amplitudes imply.
    iterations : int
        Sweeps over all patterns.
    alpha : float
        Object step size (1 = full rPIE step).
    beta : float in [0, 1]
        rPIE regularisation: 0 is the plain (illumination-normalised) gradient step, 1 the
        ePIE step normalised by the probe's peak intensity.
    seed : int
        Seed of the pattern order.
    valid_threshold : float
        A canvas pixel is valid when its summed illumination is at least this fraction of
        the median over lit pixels (as in :class:`ptychopinn.stitching.Stitcher`).
    progress : callable(iteration, fourier_error), optional
        Called after every sweep with the sweep's relative Fourier-magnitude error
        ``sum (|F psi| - A)^2 / sum A^2``.

    Returns
    -------
    StitchedObject
        ``object`` (H, W) complex64 on :func:`ptychopinn.stitching.default_canvas`
        (starting from 1 everywhere), ``weight`` the summed probe intensity |P|^2 on the
        canvas, ``valid`` the lit pixels.
    """
    if iterations < 1:
        raise ValueError(f"pie_reconstruct: iterations must be >= 1, got {iterations}")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"pie_reconstruct: beta must be in [0, 1], got {beta}")
    N = scan.N
    probe = np.asarray(scan.probe).astype(np.complex128)
    amplitudes = np.asarray(scan.diffraction)
    positions = np.asarray(scan.positions, dtype=np.float64)
    canvas: CanvasSpec = default_canvas(positions, N)
    corner, frac = patch_origin(positions, N)
    rows = corner[:, 1] - int(canvas.origin[1])
    cols = corner[:, 0] - int(canvas.origin[0])
    fx, fy = frac[:, 0], frac[:, 1]
    weights = np.stack([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx], axis=1)

    obj = np.ones(canvas.shape, dtype=np.complex128)
    intensity = np.abs(probe) ** 2
    denominator = (1.0 - beta) * intensity + beta * float(intensity.max())
    denominator = np.maximum(denominator, 1e-12 * float(intensity.max()))
    conj_probe_step = alpha * np.conj(probe) / denominator
    total_signal = mean_counts_per_pattern(amplitudes) * positions.shape[0] or 1.0
    rng = np.random.default_rng(seed)

    for it in range(iterations):
        error = 0.0
        for m in rng.permutation(positions.shape[0]):
            r, c, w = rows[m], cols[m], weights[m]
            psi = probe * _gather(obj, r, c, w, N)
            field = far_field(psi)
            modulus = np.abs(field)
            target = amplitudes[m]
            error += float(np.sum((modulus - target) ** 2))
            corrected = inverse_far_field(target * np.exp(1j * np.angle(field)))
            _scatter_add(obj, r, c, w, conj_probe_step * (corrected - psi))
        if progress is not None:
            progress(it + 1, error / total_signal)

    coverage = np.zeros(canvas.shape, dtype=np.float64)
    for m in range(positions.shape[0]):
        _scatter_add(coverage, rows[m], cols[m], weights[m], intensity)
    valid = valid_mask(coverage, valid_threshold)
    obj[~valid] = 0
    return StitchedObject(
        object=obj.astype(np.complex64), weight=coverage.astype(np.float32), valid=valid, canvas=canvas
    )
