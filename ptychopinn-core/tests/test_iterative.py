"""The reference rPIE solver reconstructs core's simulated scans (conventions agree end to end)."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.data.scan import ScanData
from ptychopinn.iterative import pie_reconstruct
from ptychopinn.metrics import evaluate
from ptychopinn.simulate import simulate_scan


def _truth_on(result, scan: ScanData) -> np.ndarray:
    x0, y0 = (int(v) for v in result.canvas.origin)
    H, W = result.object.shape
    padded = np.zeros((scan.object.shape[0] + 2 * H, scan.object.shape[1] + 2 * W), np.complex64)
    padded[H : H + scan.object.shape[0], W : W + scan.object.shape[1]] = scan.object
    return padded[H + y0 : H + y0 + H, W + x0 : W + x0 + W]


@pytest.fixture(scope="module")
def scan() -> ScanData:
    return simulate_scan(N=32, n_patterns=144, scan_kind="jittered", step_px=4.0, nphotons=1e6, seed=3)


def test_pie_recovers_simulated_object(scan: ScanData) -> None:
    errors: list[float] = []
    result = pie_reconstruct(scan, iterations=8, progress=lambda it, err: errors.append(err))
    assert len(errors) == 8
    assert errors[-1] < 0.2 * errors[0], errors
    metrics = evaluate(result.object, _truth_on(result, scan), valid=result.valid)
    assert metrics["amplitude"]["ssim"] > 0.85, metrics["amplitude"]
    assert metrics["phase"]["ssim"] > 0.85, metrics["phase"]
    assert abs(metrics["registration_shift_px"][0]) < 0.5 and abs(metrics["registration_shift_px"][1]) < 0.5


def test_pie_with_swapped_axes_does_not_converge(scan: ScanData) -> None:
    """Negative control: the same data with x and y exchanged must not fit (the solver is not convention-blind)."""
    good: list[float] = []
    bad: list[float] = []
    pie_reconstruct(scan, iterations=4, progress=lambda it, err: good.append(err))
    swapped = ScanData(diffraction=scan.diffraction, positions=scan.positions[:, ::-1].copy(), probe=scan.probe)
    pie_reconstruct(swapped, iterations=4, progress=lambda it, err: bad.append(err))
    assert bad[-1] > 5 * good[-1], (good, bad)


def test_pie_rejects_bad_options(scan: ScanData) -> None:
    with pytest.raises(ValueError, match="iterations"):
        pie_reconstruct(scan, iterations=0)
    with pytest.raises(ValueError, match="beta"):
        pie_reconstruct(scan, beta=2.0)
