"""The torch physics agrees with core's numpy oracle (float32, <= 1e-5 relative); groups never mix or mirror."""

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
    got = tp.predicted_amplitude(
        torch.from_numpy(obj),
        torch.from_numpy(probe),
        None if off is None else torch.from_numpy(off.astype(np.float32)),
        object_big=object_big,
        log_scale=torch.tensor(0.3),
    )
    assert got.dtype == torch.float32 and got.shape == (B, C, N, N)
    assert _rel(got.numpy(), want) <= RTOL


@pytest.mark.parametrize("gridsize", [1, 2])
def test_numpy_forward_amplitude_is_the_hook_and_matches_oracle(gridsize: int) -> None:
    from ptychopinn_torch import _plugin

    rng = np.random.default_rng(11)
    B, N, C = 3, 32, gridsize * gridsize
    obj = _cplx(rng, B, C, N, N)
    probe = oracle.normalise_probe(_cplx(rng, N, N), reference_transmission=0.6)
    off = _offsets(rng, B, C) if C > 1 else None
    want = oracle.forward_amplitude(obj, probe, off, object_big=True, log_scale=-0.2)
    got = tp.forward_amplitude(obj, probe, off, object_big=True, log_scale=-0.2)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (B, C, N, N)
    assert _rel(got, want) <= RTOL
    hook = _plugin.PLUGIN.ptychopinn_physics_forward(
        object_patches=obj, probe=probe, offsets=off, object_big=True, log_scale=-0.2
    )
    np.testing.assert_array_equal(hook, got)


def _true_groups(N: int = 64, grid: int = 7, step: int = 6):
    """True member patches of a raster scan over an asymmetric object, grouped 2 x 2."""
    from conftest import asymmetric_object, group

    size = N + (grid - 1) * step + 8
    obj = asymmetric_object(size, size, seed=3)
    pos, patches = [], []
    for gy in range(grid):
        for gx in range(grid):
            x, y = N // 2 + 4 + gx * step, N // 2 + 4 + gy * step
            pos.append((x, y))
            patches.append(obj[y - N // 2 : y + N // 2, x - N // 2 : x + N // 2])
    g = group(np.zeros((len(pos), N, N), np.float32), np.asarray(pos, np.float64), 2, grid=grid)
    return np.asarray(patches), g


def test_consistent_patches_reproduce_their_diffraction_and_mirrored_offsets_do_not() -> None:
    """True member patches merged at +offset and re-extracted give back the true diffraction;
    with the offsets mirrored (the sign error the reference code once had) they do not."""
    patches, g = _true_groups()
    N = patches.shape[-1]
    probe = oracle.normalise_probe(oracle.probe_disk_mask(N, radius=N / 4 - 1).astype(np.complex64),
                                   reference_transmission=0.6)
    obj = torch.from_numpy(patches[g.indices])
    want = oracle.far_field_amplitude(probe * patches[g.indices])
    got = tp.predicted_amplitude(obj, torch.from_numpy(probe), torch.from_numpy(g.offsets)).numpy()
    assert _rel(got, want) < 1e-4
    mirrored = tp.predicted_amplitude(obj, torch.from_numpy(probe), torch.from_numpy(-g.offsets)).numpy()
    assert _rel(mirrored, want) > 1e-2


@pytest.mark.parametrize("batch", [1, 3, 16, 40])
def test_groups_are_independent_at_any_batch_size(batch: int) -> None:
    rng = np.random.default_rng(0)
    B, N = 40, 64  # 40 x 4 = 160 >= 64: the size at which the published code merged a whole minibatch
    obj = torch.from_numpy(_cplx(rng, B, 4, N, N))
    off = torch.from_numpy(rng.uniform(-5, 5, (B, 4, 2)).astype(np.float32))
    probe = torch.from_numpy(oracle.normalise_probe(np.ones((N, N), np.complex64), reference_transmission=0.6))
    single = torch.cat([tp.predicted_amplitude(obj[i : i + 1], probe, off[i : i + 1]) for i in range(B)])
    starts = range(0, B, batch)
    batched = torch.cat([tp.predicted_amplitude(obj[i : i + batch], probe, off[i : i + batch]) for i in starts])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)
    zeroed = obj.clone()
    zeroed[1:] = 0  # group 0 does not depend on the other groups' content
    torch.testing.assert_close(tp.predicted_amplitude(zeroed, probe, off)[0], single[0], rtol=1e-5, atol=1e-5)


def test_physics_is_differentiable_through_merge() -> None:
    rng = np.random.default_rng(3)
    obj = torch.from_numpy(_cplx(rng, 2, 4, 16, 16)).requires_grad_(True)
    off = torch.from_numpy(_offsets(rng, 2, 4).astype(np.float32))
    probe = torch.from_numpy(oracle.normalise_probe(_cplx(rng, 16, 16), reference_transmission=0.6))
    tp.predicted_amplitude(obj, probe, off).sum().backward()
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
