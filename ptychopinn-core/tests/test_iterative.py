"""The reference rPIE solver reconstructs core's simulated scans (conventions agree end to end)."""

from __future__ import annotations

import pytest

from ptychopinn.data.scan import ScanData
from ptychopinn.iterative import pie_reconstruct
from ptychopinn.metrics import evaluate
from ptychopinn.simulate import simulate_scan
from ptychopinn.stitching import crop_to_canvas


@pytest.fixture(scope="module")
def scan() -> ScanData:
    return simulate_scan(N=32, n_patterns=144, scan_kind="jittered", step_px=4.0, nphotons=1e6, seed=3)


def test_pie_recovers_simulated_object(scan: ScanData) -> None:
    errors: list[float] = []
    result = pie_reconstruct(scan, iterations=8, progress=lambda it, err: errors.append(err))
    assert len(errors) == 8
    assert errors[-1] < 0.2 * errors[0], errors
    truth, _ = crop_to_canvas(scan.object, result.canvas)
    metrics = evaluate(result.object, truth, valid=result.valid)
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
