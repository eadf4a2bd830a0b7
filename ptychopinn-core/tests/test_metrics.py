"""Metrics: sub-pixel registration, phase-offset invariance, SSIM vs scikit-image, PSNR, FRC."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.metrics import align, evaluate, fourier_shift, frc, mae, psnr, register_translation, ssim
from ptychopinn.simulate import make_object


def _obj(shape=(96, 112), seed=0, kind="grf") -> np.ndarray:
    return make_object(kind, shape, rng=np.random.default_rng(seed)).astype(np.complex128)


@pytest.mark.parametrize("shift", [(0.37, -1.23), (2.5, 0.0), (-0.04, 0.81), (-3.66, 2.29)])
@pytest.mark.parametrize("normalization", [None, "phase"])
def test_registration_recovers_subpixel_shift(shift, normalization):
    truth = _obj()
    moved = fourier_shift(truth, (-shift[0], -shift[1]))  # the reconstruction is displaced by -shift
    dx, dy = register_translation(truth, moved, normalization=normalization)
    assert abs(dx - shift[0]) <= 0.05 and abs(dy - shift[1]) <= 0.05


def test_registration_with_noise_and_phase_offset():
    truth = _obj(seed=1)
    rng = np.random.default_rng(2)
    moved = fourier_shift(truth, (1.3, -0.6)) * np.exp(1j * 2.0)
    moved = moved + 0.05 * (rng.standard_normal(moved.shape) + 1j * rng.standard_normal(moved.shape))
    dx, dy = register_translation(truth, moved)
    assert abs(dx + 1.3) <= 0.05 and abs(dy - 0.6) <= 0.05


def test_evaluate_undoes_shift_offset_and_scale():
    truth = _obj(seed=3)
    recon = 1.7 * fourier_shift(truth, (0.4, -0.3)) * np.exp(-1j * 0.9)
    m = evaluate(recon, truth)
    assert m["registration_shift_px"] == pytest.approx([-0.4, 0.3], abs=0.05)
    assert m["amplitude_scale"] == pytest.approx(1 / 1.7, rel=1e-3)
    assert m["phase_offset_rad"] == pytest.approx(0.9, abs=1e-3)
    assert m["amplitude"]["ssim"] > 0.99 and m["phase"]["ssim"] > 0.99
    assert m["amplitude"]["psnr_db"] > 35


@pytest.mark.parametrize("offset", [0.7, -2.5, np.pi])
def test_metrics_invariant_to_global_phase_offset(offset):
    truth = _obj(seed=4, kind="lines")
    rng = np.random.default_rng(5)
    recon = truth * (1 + 0.05 * rng.standard_normal(truth.shape)) * np.exp(0.1j * rng.standard_normal(truth.shape))
    valid = np.zeros(truth.shape, bool)
    valid[10:-10, 12:-12] = True
    base = evaluate(recon, truth, valid=valid)
    other = evaluate(recon * np.exp(1j * offset), truth, valid=valid)
    for channel in ("amplitude", "phase"):
        for key in ("ssim", "psnr_db", "mae", "frc50_cycles_per_px", "frc_1_7_cycles_per_px"):
            assert other[channel][key] == pytest.approx(base[channel][key], rel=1e-6, abs=1e-9), (channel, key)


def test_phase_ramp_removal():
    truth = _obj(seed=6)
    rows, cols = np.indices(truth.shape)
    recon = truth * np.exp(1j * (0.02 * cols - 0.03 * rows + 0.5))
    plain = evaluate(recon, truth, register=False)
    ramped = evaluate(recon, truth, register=False, remove_phase_ramp=True)
    assert ramped["phase"]["mae"] < 1e-6 < plain["phase"]["mae"]
    assert ramped["phase_ramp"][1] == pytest.approx(-0.02, abs=1e-6)


def test_ssim_matches_scikit_image():
    skimage_metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(7)
    a = np.abs(_obj(seed=8))
    b = a + 0.05 * rng.standard_normal(a.shape)
    r = float(a.max() - a.min())
    ref = skimage_metrics.structural_similarity(
        b, a, data_range=r, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim(b, a, data_range=r) == pytest.approx(ref, rel=1e-9)
    assert ssim(a, a, data_range=r) == pytest.approx(1.0)


def test_psnr_uses_true_data_range_and_mae():
    truth = np.linspace(0.2, 0.7, 100).reshape(10, 10)
    recon = truth + 0.01
    assert psnr(recon, truth) == pytest.approx(10 * np.log10(0.5**2 / 0.01**2))
    assert mae(recon, truth) == pytest.approx(0.01)
    assert psnr(truth, truth) == np.inf


def test_frc_identical_is_one_and_noise_lowers_resolution():
    truth = np.abs(_obj((128, 128), seed=9, kind="lines"))
    same = frc(truth, truth)
    np.testing.assert_allclose(same.curve[1:], 1.0, atol=1e-9)
    assert same.frc50 == pytest.approx(0.5) and same.frequency[-1] == pytest.approx(0.5)
    rng = np.random.default_rng(10)
    noisy = frc(truth + 0.05 * rng.standard_normal(truth.shape), truth)
    noisier = frc(truth + 0.3 * rng.standard_normal(truth.shape), truth)
    assert noisier.frc50 < noisy.frc50 <= 0.5
    assert noisier.frc_1_7 >= noisier.frc50


def test_align_crops_wrapped_border():
    truth = _obj(seed=11)
    al = align(fourier_shift(truth, (2.2, 0.0)), truth)
    assert not al.mask[:, :3].any() and not al.mask[:, -3:].any() and al.mask[50, 50]


def test_evaluate_output_is_json_ready():
    import json

    truth = _obj(seed=12)
    text = json.dumps(evaluate(truth * 0.9, truth))
    assert '"frc_curves"' in text and "NaN" not in text
