"""The torch physics agrees with core's numpy oracle (float32, <= 1e-5 relative)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptychopinn import physics as oracle
from ptychopinn_torch import physics as tp

RTOL = 1e-5


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _cplx(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


def _offsets(rng: np.random.Generator, B: int, C: int, reach: float = 6.0) -> np.ndarray:
    off = rng.uniform(-reach, reach, size=(B, C, 2))
    return off - off.mean(axis=1, keepdims=True)


@pytest.mark.parametrize("shape", [(5, 16, 16), (3, 20, 24)])
def test_translate_matches_oracle_subpixel(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(0)
    img = _cplx(rng, *shape)
    shifts = rng.uniform(-7.5, 7.5, size=(shape[0], 2))
    shifts[0] = (3.0, -2.0)  # integer shift
    want = oracle.translate(img, shifts)
    got = tp.translate(torch.from_numpy(img), torch.from_numpy(shifts)).numpy()
    assert got.dtype == np.complex64
    assert _rel(got, want) <= RTOL


def test_translate_moves_content_right_and_down() -> None:
    img = torch.zeros(1, 8, 8)
    img[0, 2, 3] = 1.0
    out = tp.translate(img, torch.tensor([[2.0, 1.0]]))
    assert out[0, 3, 5] == 1.0 and float(out.sum()) == 1.0


@pytest.mark.parametrize("C", [4, 9])
def test_merge_and_extract_match_oracle(C: int) -> None:
    rng = np.random.default_rng(1)
    B, N = 6, 16
    p = _cplx(rng, B, C, N, N)
    off = _offsets(rng, B, C)
    M = oracle.canvas_size_for(off, N)
    want_canvas, want_w = oracle.merge_patches(p, off, canvas_size=M)
    canvas, wsum = tp.merge_patches(torch.from_numpy(p), torch.from_numpy(off.astype(np.float32)), canvas_size=M)
    assert _rel(canvas.numpy(), want_canvas) <= RTOL
    assert _rel(wsum.numpy(), want_w) <= RTOL
    want_ex = oracle.extract_patches(want_canvas, off, N=N)
    got_ex = tp.extract_patches(torch.from_numpy(want_canvas.astype(np.complex64)), torch.from_numpy(off), N=N)
    assert got_ex.shape == (B, C, N, N)
    assert _rel(got_ex.numpy(), want_ex) <= RTOL


@pytest.mark.parametrize("gridsize", [1, 2])
@pytest.mark.parametrize("object_big", [True, False])
def test_forward_amplitude_matches_oracle(gridsize: int, object_big: bool) -> None:
    rng = np.random.default_rng(2 + gridsize)
    B, N, C = 4, 32, gridsize * gridsize
    c_out = C if object_big else 1
    obj = _cplx(rng, B, c_out, N, N)
    probe = oracle.normalise_probe(_cplx(rng, N, N), reference_transmission=0.6, mask=True)
    off = _offsets(rng, B, C) if C > 1 else None
    want = oracle.forward_amplitude(obj, probe, off, object_big=object_big, log_scale=0.3)
    got = tp.forward_amplitude(
        torch.from_numpy(obj),
        torch.from_numpy(probe),
        None if off is None else torch.from_numpy(off.astype(np.float32)),
        object_big=object_big,
        log_scale=torch.tensor(0.3),
    )
    assert got.dtype == torch.float32 and got.shape == (B, C, N, N)
    assert _rel(got.numpy(), want) <= RTOL


@pytest.mark.parametrize("gridsize", [1, 2, 3])
def test_group_object_matches_oracle(gridsize: int) -> None:
    rng = np.random.default_rng(7)
    B, N, C = 5, 16, gridsize * gridsize
    obj = _cplx(rng, B, C, N, N)
    off = _offsets(rng, B, C, reach=4.3) if C > 1 else None
    want = oracle.group_object(obj, off)
    got = tp.group_object(torch.from_numpy(obj), None if off is None else torch.from_numpy(off))
    assert got.shape == (B, N, N)
    assert _rel(got.numpy(), want) <= RTOL


def test_physics_is_differentiable_through_merge() -> None:
    rng = np.random.default_rng(3)
    obj = torch.from_numpy(_cplx(rng, 2, 4, 16, 16)).requires_grad_(True)
    off = torch.from_numpy(_offsets(rng, 2, 4).astype(np.float32))
    probe = torch.from_numpy(oracle.normalise_probe(_cplx(rng, 16, 16), reference_transmission=0.6))
    tp.forward_amplitude(obj, probe, off).sum().backward()
    assert obj.grad is not None and torch.isfinite(obj.grad).all() and obj.grad.abs().sum() > 0


@pytest.mark.parametrize("counts", [3.0, 1e4])
def test_pinn_loss_matches_oracle_float32(counts: float) -> None:
    """The training loss is the oracle's half deviance (+ MAE), also at high counts where float32 could cancel."""
    from ptychopinn_torch.losses import pinn_loss

    rng = np.random.default_rng(7)
    s = 0.05  # network units per sqrt(count)
    truth = np.sqrt(counts) * rng.uniform(0.2, 1.5, (4, 1, 16, 16))
    k = rng.poisson(truth**2).astype(np.float64)
    k[0, 0, 0, :3] = 0.0
    predicted = (truth * rng.uniform(0.9, 1.1, truth.shape) * s).astype(np.float32)
    observed = (np.sqrt(k) * s).astype(np.float32)
    got = float(pinn_loss(torch.from_numpy(predicted), torch.from_numpy(observed), input_scale=s, nll_weight=1.0,
                          mae_weight=0.5))
    ref = oracle.poisson_half_deviance(predicted.astype(np.float64) / s, observed.astype(np.float64) / s)
    ref += 0.5 * oracle.amplitude_mae(predicted, observed)
    assert got == pytest.approx(ref, rel=1e-4)
    # gradient = that of the plain NLL (the saturated term is data only)
    p = torch.from_numpy(predicted).requires_grad_(True)
    pinn_loss(p, torch.from_numpy(observed), input_scale=s, nll_weight=1.0, mae_weight=0.0).backward()
    lam = (predicted.astype(np.float64) / s) ** 2
    analytic = (1.0 - k / (lam + oracle.LOG_EPS)) * 2 * predicted / s**2 / predicted.size
    np.testing.assert_allclose(p.grad.numpy(), analytic, rtol=1e-3, atol=1e-6 * np.abs(analytic).max())
