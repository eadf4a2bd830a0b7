"""Physics refinement (core's numpy reference): descent, the held-out rule, probe and position recovery,
and the reconstruct pipeline with data consistency."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ptychopinn.config import RefinementConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.metrics import evaluate
from ptychopinn.refinement import data_consistency, initial_state, refine, to_stitched
from ptychopinn.refinement.engine import mean_loss, split_holdout
from ptychopinn.refinement.operator import NumpyRefinementOperator
from ptychopinn.simulate import simulate_scan
from ptychopinn.stitching import crop_to_canvas, default_canvas


@pytest.fixture(scope="module")
def scan() -> ScanData:
    return simulate_scan(N=32, n_patterns=144, object_kind="lines", probe_kind="zoneplate", scan_kind="jittered",
                         step_px=3.0, nphotons=1e5, seed=3)


def _ssim(scan: ScanData, obj: np.ndarray, valid: np.ndarray) -> tuple[float, float]:
    canvas = default_canvas(scan.positions, scan.N)
    truth, _ = crop_to_canvas(scan.object, canvas)
    m = evaluate(obj, truth, valid=valid)
    return m["amplitude"]["ssim"], m["phase"]["ssim"]


def _run(scan: ScanData, cfg: RefinementConfig, **kw):  # type: ignore[no-untyped-def]
    problem, state = initial_state(scan, None, cfg, **kw)
    result = refine(problem, state, cfg)
    out = to_stitched(problem, result.state, default_canvas(scan.positions, scan.N), valid_threshold=0.1)
    return problem, state, result, out


def test_flat_start_converges_to_the_object_and_lowers_the_training_loss(scan: ScanData) -> None:
    cfg = RefinementConfig(enabled=True, max_iterations=25, holdout_fraction=0.1, batch_size=16)
    problem, start, result, out = _run(scan, cfg)
    report = result.report
    assert report.final_loss < 0.5 * report.initial_loss
    fit, _ = split_holdout(problem.n_patterns, cfg.holdout_fraction, cfg.seed)
    ref = NumpyRefinementOperator(problem)
    scaled = start.copy()
    scaled.object[...] *= report.object_scale
    assert mean_loss(ref, result.state, fit) < mean_loss(ref, scaled, fit)
    amp, phase = _ssim(scan, out.object, out.valid)
    assert amp > 0.8 and phase > 0.8, (amp, phase)


def test_heldout_rule_returns_the_state_with_the_lowest_heldout_loss(scan: ScanData) -> None:
    cfg = RefinementConfig(enabled=True, max_iterations=12, patience=2, min_delta=0.0, batch_size=16)
    problem, _, result, _ = _run(scan, cfg)
    held = np.asarray(result.report.heldout_loss)
    best = result.report.best_iteration
    assert held[best] == held.min()
    _, hold = split_holdout(problem.n_patterns, cfg.holdout_fraction, cfg.seed)
    assert mean_loss(NumpyRefinementOperator(problem), result.state, hold) == pytest.approx(held[best], rel=1e-9)
    if result.report.stopped_by == "held-out":
        assert result.report.iterations_run - best == cfg.patience


def test_low_dose_refinement_never_returns_a_worse_fit(scan: ScanData) -> None:
    """At 3 photons per pattern pixel-level noise dominates: whatever is returned fits no worse than the start."""
    low = simulate_scan(N=32, n_patterns=144, object_kind="lines", probe_kind="zoneplate", scan_kind="jittered",
                        step_px=3.0, nphotons=30.0, seed=3)
    cfg = RefinementConfig(enabled=True, max_iterations=8, patience=1, batch_size=16)
    _, _, result, _ = _run(low, cfg)
    assert result.report.final_loss <= result.report.initial_loss


def test_position_errors_are_recovered(scan: ScanData) -> None:
    rng = np.random.default_rng(7)
    error = rng.uniform(-2.0, 2.0, size=scan.positions.shape)
    error -= error.mean(axis=0)
    wrong = dataclasses.replace(scan, positions=scan.positions + error)
    cfg = RefinementConfig(enabled=True, max_iterations=40, refine_positions=True, positions_start_iteration=2,
                           batch_size=16, patience=6)
    problem, _, result, _ = _run(wrong, cfg)
    residual = result.state.positions - scan.positions
    residual -= residual.mean(axis=0)  # a global shift of object and positions together is not observable
    # Patterns on the scan's rim light object regions no other pattern sees, so the object there can
    # absorb a position error: the requirement (<= 0.2 px rms) is for patterns a quarter probe inside the rim.
    lo, hi = scan.positions.min(axis=0) + scan.N / 4, scan.positions.max(axis=0) - scan.N / 4
    interior = np.all((scan.positions >= lo) & (scan.positions <= hi), axis=1)
    assert interior.sum() > 30
    rms_after = float(np.sqrt(np.mean(np.sum(residual[interior] ** 2, axis=1))))
    rms_before = float(np.sqrt(np.mean(np.sum(error[interior] ** 2, axis=1))))
    median_all = float(np.median(np.sqrt(np.sum(residual**2, axis=1))))
    assert rms_before > 1.0
    assert rms_after <= 0.2, (rms_before, rms_after)
    assert median_all <= 0.2


def test_probe_perturbation_is_recovered(scan: ScanData) -> None:
    rng = np.random.default_rng(11)
    probe = np.asarray(scan.probe, dtype=np.complex128)
    smooth = np.fft.ifft2(np.fft.fft2(rng.normal(size=probe.shape) + 1j * rng.normal(size=probe.shape))
                          * (np.hypot(*np.meshgrid(np.fft.fftfreq(scan.N), np.fft.fftfreq(scan.N))) < 0.08))
    smooth /= np.abs(smooth).max()
    wrong = probe * (1 + 0.2 * smooth)
    cfg_fixed = RefinementConfig(enabled=True, max_iterations=30, batch_size=16, patience=4)
    cfg_probe = dataclasses.replace(cfg_fixed, refine_probe=True)
    _, _, fixed, _ = _run(scan, cfg_fixed, probe=wrong)
    _, _, refined, _ = _run(scan, cfg_probe, probe=wrong)

    def probe_error(p: np.ndarray) -> float:
        """Relative error after removing what blind ptychography cannot determine: a global complex
        factor and a linear phase ramp (shared with the object), fitted weighted by |P|^2."""
        weight = np.sqrt(np.abs(probe).ravel() ** 2)
        yy, xx = np.mgrid[: scan.N, : scan.N]
        ratio = p / np.where(np.abs(probe) > 0, probe, 1)
        centre = ratio[scan.N // 2, scan.N // 2] / abs(ratio[scan.N // 2, scan.N // 2])
        design = np.stack([np.ones(p.size), xx.ravel(), yy.ravel()], axis=1) * weight[:, None]
        coef = np.linalg.lstsq(design, np.angle(ratio / centre).ravel() * weight, rcond=None)[0]
        q = p * np.exp(-1j * (coef[0] + coef[1] * xx + coef[2] * yy)) / centre
        q = q * (np.vdot(q, probe) / abs(np.vdot(q, probe))) * np.linalg.norm(probe) / np.linalg.norm(q)
        return float(np.linalg.norm(q - probe) / np.linalg.norm(probe))

    before = probe_error(wrong)
    after = probe_error(refined.state.probe)
    assert after < 0.5 * before, (before, after)
    assert refined.report.final_loss < fixed.report.final_loss


def test_data_consistency_is_near_the_noise_floor_for_the_truth(scan: ScanData) -> None:
    cfg = RefinementConfig()
    problem, state = initial_state(scan, None, cfg)
    truth, _ = crop_to_canvas(scan.object, problem.canvas, dtype=np.complex128)
    good = dataclasses.replace(state, object=truth)
    flat = data_consistency(problem, state)
    exact = data_consistency(problem, good)
    assert exact.poisson_deviance.shape == (scan.n_patterns,)
    assert np.median(exact.poisson_deviance) < 0.6  # pure Poisson noise: about 0.5 per pixel at high counts
    assert np.median(exact.amplitude_error) < np.median(flat.amplitude_error) / 3
    assert np.median(flat.poisson_deviance) > 2 * np.median(exact.poisson_deviance)


def test_a_nan_gradient_never_reaches_the_result(scan: ScanData) -> None:
    """A broken operator (NaN gradients from the second batch on) ends the run; the result stays finite."""
    cfg = RefinementConfig(enabled=True, max_iterations=5, batch_size=16)
    problem, state = initial_state(scan, None, cfg)
    reference = NumpyRefinementOperator(problem)
    calls = {"n": 0}

    class Broken:
        name = "broken"

        def gradients(self, st, indices, *, probe=False, positions=False):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            g = reference.gradients(st, indices, probe=probe, positions=positions)
            if calls["n"] > 20:
                return dataclasses.replace(g, object_gradient=g.object_gradient * np.nan)
            return g

    result = refine(problem, state, cfg, operator=Broken())
    assert result.report.stopped_by == "non-finite"
    assert np.all(np.isfinite(result.state.object))
    assert result.report.final_loss <= result.report.initial_loss


def test_coarse_to_fine_schedule() -> None:
    from ptychopinn.refinement.engine import smoothing_schedule

    assert smoothing_schedule(RefinementConfig()) == (4.0, 2.0, 1.0, 0.0)
    assert smoothing_schedule(RefinementConfig(smoothing_px=3.0)) == (3.0, 1.5, 0.0)
    assert smoothing_schedule(RefinementConfig(smoothing_px=2.0, coarse_to_fine=False)) == (2.0,)
    assert smoothing_schedule(RefinementConfig(smoothing_px=0.0)) == (0.0,)


def test_low_dose_keeps_a_smoothed_stage_and_beats_unsmoothed_refinement() -> None:
    """At ~0.25 photons per pixel the held-out rule must stop before full-resolution steps fit the noise."""
    low = simulate_scan(N=32, n_patterns=196, object_kind="lines", probe_kind="zoneplate", scan_kind="jittered",
                        step_px=2.0, nphotons=300.0, seed=5)
    smooth = _run(low, RefinementConfig(enabled=True, batch_size=16))
    sharp = _run(low, RefinementConfig(enabled=True, batch_size=16, smoothing_px=0.0))
    assert smooth[2].report.smoothing_px is not None and smooth[2].report.smoothing_px > 0
    assert min(smooth[2].report.heldout_loss) < min(sharp[2].report.heldout_loss)
    assert _ssim(low, smooth[3].object, smooth[3].valid)[0] > _ssim(low, sharp[3].object, sharp[3].valid)[0]
