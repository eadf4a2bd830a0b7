"""Each convention of docs/conventions.md has a test here that fails if the convention flips."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.grouping import group_neighbours
from ptychopinn.physics import (
    crop_center,
    estimate_normalisation,
    extract_patches,
    far_field,
    inverse_far_field,
    merge_patches,
    merge_patches_unnormalised,
    normalise_probe,
    translate,
    translate_adjoint,
)
from ptychopinn.physics.patches import extract_object_patches


def _asymmetric(H: int = 90, W: int = 110) -> np.ndarray:
    rows, cols = np.indices((H, W))
    return (rows * 1000 + cols + 1j * (cols * 7 - rows)).astype(np.complex64)


# --- positions --------------------------------------------------------------------------------------------------
def test_position_points_at_patch_pixel_N_over_2():
    obj = _asymmetric()
    N = 16
    x, y = 37, 52  # x = column, y = row
    patch = extract_object_patches(obj, np.array([[x, y]], dtype=float), N)[0]
    assert patch[N // 2, N // 2] == obj[y, x]
    assert patch[0, 0] == obj[y - N // 2, x - N // 2]
    assert patch[N - 1, 0] == obj[y + N // 2 - 1, x - N // 2]
    np.testing.assert_array_equal(patch, obj[y - N // 2 : y + N // 2, x - N // 2 : x + N // 2])
    swapped = extract_object_patches(obj, np.array([[y, x]], dtype=float), N)[0]
    assert not np.array_equal(swapped, patch)


def test_subpixel_position_interpolates_bilinearly_towards_larger_index():
    obj = _asymmetric()
    N = 8
    p0 = extract_object_patches(obj, np.array([[40.0, 30.0]]), N)[0]
    p1 = extract_object_patches(obj, np.array([[41.0, 30.0]]), N)[0]
    ph = extract_object_patches(obj, np.array([[40.25, 30.0]]), N)[0]
    np.testing.assert_allclose(ph, 0.75 * p0 + 0.25 * p1, rtol=1e-6)
    pv = extract_object_patches(obj, np.array([[40.0, 30.5]]), N)[0]
    p2 = extract_object_patches(obj, np.array([[40.0, 31.0]]), N)[0]
    np.testing.assert_allclose(pv, 0.5 * p0 + 0.5 * p2, rtol=1e-6)


def test_patch_outside_object_is_zero_filled():
    obj = np.ones((20, 20), dtype=np.complex64)
    patch = extract_object_patches(obj, np.array([[2.0, 2.0]]), 8)[0]
    assert np.all(patch[:2, :] == 0) and np.all(patch[:, :2] == 0)
    assert np.all(patch[2:, 2:] == 1)


# --- FFT --------------------------------------------------------------------------------------------------------
def test_zero_frequency_sits_at_N_over_2():
    N = 16
    F = far_field(np.ones((N, N), dtype=np.complex128))
    peak = np.unravel_index(np.argmax(np.abs(F)), F.shape)
    assert peak == (N // 2, N // 2)
    assert np.isclose(F[N // 2, N // 2], N)  # orthonormal: sum / N
    assert np.isclose(np.sum(np.abs(F)) - abs(F[N // 2, N // 2]), 0, atol=1e-9)


def test_plane_wave_along_columns_lands_right_of_centre():
    N = 16
    cols = np.arange(N)[None, :].repeat(N, axis=0)
    F = far_field(np.exp(2j * np.pi * 3 * cols / N))
    assert np.unravel_index(np.argmax(np.abs(F)), F.shape) == (N // 2, N // 2 + 3)


def test_fft_of_shifted_delta_no_input_ifftshift():
    N = 16
    delta = np.zeros((N, N), dtype=np.complex128)
    delta[0, 0] = 1
    F0 = far_field(delta)
    np.testing.assert_allclose(F0, np.full((N, N), 1 / N), atol=1e-12)  # delta at (0, 0): flat, real
    centred = np.zeros((N, N), dtype=np.complex128)
    centred[N // 2, N // 2] = 1
    F = far_field(centred)
    ky, kx = np.indices((N, N)) - N // 2
    np.testing.assert_allclose(F, np.exp(-1j * np.pi * (ky + kx)) / N, atol=1e-12)  # checkerboard phase
    np.testing.assert_allclose(np.abs(F), np.abs(F0), atol=1e-12)  # amplitudes are shift invariant


def test_parseval_and_inverse():
    rng = np.random.default_rng(0)
    psi = rng.standard_normal((3, 32, 32)) + 1j * rng.standard_normal((3, 32, 32))
    F = far_field(psi)
    np.testing.assert_allclose(np.sum(np.abs(F) ** 2, axis=(1, 2)), np.sum(np.abs(psi) ** 2, axis=(1, 2)))
    np.testing.assert_allclose(inverse_far_field(F), psi, atol=1e-12)
    assert far_field(psi.astype(np.complex64)).dtype == np.complex64


# --- translation ------------------------------------------------------------------------------------------------
def test_translate_moves_content_right_and_down():
    img = np.zeros((1, 12, 12))
    img[0, 5, 5] = 1
    out = translate(img, np.array([[2.0, 3.0]]))  # dx = 2 (columns), dy = 3 (rows)
    assert np.unravel_index(np.argmax(out[0]), (12, 12)) == (8, 7)
    half = translate(img, np.array([[0.5, 0.0]]))[0]
    assert half[5, 5] == pytest.approx(0.5) and half[5, 6] == pytest.approx(0.5)


def _adjoint_gap(A, AT, x, y) -> float:
    lhs = np.vdot(A(x), y)
    rhs = np.vdot(x, AT(y))
    return abs(lhs - rhs) / max(abs(lhs), 1e-30)


def test_translate_adjoint_is_exact():
    rng = np.random.default_rng(1)
    shifts = rng.uniform(-3, 3, (4, 2))
    x = rng.standard_normal((4, 20, 24)) + 1j * rng.standard_normal((4, 20, 24))
    y = rng.standard_normal((4, 20, 24)) + 1j * rng.standard_normal((4, 20, 24))
    gap = _adjoint_gap(lambda a: translate(a, shifts), lambda b: translate_adjoint(b, shifts), x, y)
    assert gap < 1e-12


def test_merge_unnormalised_and_extract_are_adjoint():
    rng = np.random.default_rng(2)
    B, C, N, M = 3, 4, 16, 26
    offsets = rng.uniform(-4.5, 4.5, (B, C, 2))
    p = rng.standard_normal((B, C, N, N)) + 1j * rng.standard_normal((B, C, N, N))
    c = rng.standard_normal((B, M, M)) + 1j * rng.standard_normal((B, M, M))
    gap = _adjoint_gap(
        lambda a: merge_patches_unnormalised(a, offsets, canvas_size=M),
        lambda b: extract_patches(b, offsets, N=N),
        p,
        c,
    )
    assert gap < 1e-12


def test_merge_extract_round_trip_integer_offsets():
    rng = np.random.default_rng(3)
    N, M = 16, 28
    canvas = rng.standard_normal((1, M, M)) + 1j * rng.standard_normal((1, M, M))
    offsets = np.array([[[-3.0, -2.0], [3.0, -2.0], [-3.0, 4.0], [3.0, 0.0]]])
    patches = extract_patches(canvas, offsets, N=N)
    merged, wsum = merge_patches(patches, offsets, canvas_size=M, weight=np.ones((N, N)))
    covered = wsum[0] > 0.5
    np.testing.assert_allclose(merged[0][covered], canvas[0][covered], rtol=1e-5)
    np.testing.assert_allclose(extract_patches(merged, offsets, N=N), patches, rtol=1e-5)


def test_group_offset_sign_member_minus_centre_matches_merge():
    """Offsets from grouping (member - centre) place member patches correctly on the group canvas."""
    obj = _asymmetric(60, 60)
    N = 16
    members = np.array([[26.0, 26.0], [30.0, 26.0], [26.0, 30.0], [30.0, 30.0]])
    groups = group_neighbours(members, gridsize=2, neighbor_count=3, seed=0)
    b = 0
    idx, off, centre = groups.indices[b], groups.offsets[b], groups.centres[b]
    np.testing.assert_allclose(off, members[idx] - centre)
    np.testing.assert_allclose(centre, [28.0, 28.0])
    patches = extract_object_patches(obj, members[idx], N)[None]
    merged, wsum = merge_patches(patches, off[None], canvas_size=N + 8, weight=np.ones((N, N)))
    group_patch = crop_center(merged, N)[0]
    expected = extract_object_patches(obj, centre[None], N)[0]
    np.testing.assert_allclose(group_patch, expected, rtol=1e-5)
    # the published "local offset" sign (centre - member) would mirror the members and fail
    wrong, _ = merge_patches(patches, -off[None], canvas_size=N + 8, weight=np.ones((N, N)))
    assert not np.allclose(crop_center(wrong, N)[0], expected, rtol=1e-3)


# --- scale ------------------------------------------------------------------------------------------------------
def test_network_sees_mean_power_N_over_2_squared():
    rng = np.random.default_rng(4)
    N = 32
    d = np.sqrt(rng.poisson(50.0, (10, N, N))).astype(np.float32)
    norm = estimate_normalisation(d)
    assert norm.mean_counts == pytest.approx(float(np.mean(np.sum(d.astype(float) ** 2, axis=(1, 2)))))
    x = norm.to_network(d)
    assert np.mean(np.sum(x.astype(float) ** 2, axis=(1, 2))) == pytest.approx((N / 2) ** 2, rel=1e-5)
    np.testing.assert_allclose(norm.to_counts_amplitude(x), d, rtol=1e-5)
    probe = normalise_probe(rng.standard_normal((N, N)) + 0j, reference_transmission=0.6)
    assert np.sum(np.abs(probe.astype(complex)) ** 2) == pytest.approx((N / 2) ** 2 / 0.36, rel=1e-5)
