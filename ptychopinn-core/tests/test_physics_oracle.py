"""Review tests of the numpy physics oracle: losses, gradients, forward model and overlap constraint."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.physics import (
    amplitude_mae,
    canvas_size_for,
    center_window,
    constrained_patches,
    far_field,
    forward_amplitude,
    group_object,
    merge_patches,
    poisson_half_deviance,
    poisson_nll,
    probe_disk_mask,
)
from ptychopinn.physics.patches import extract_object_patches


def test_poisson_nll_value_and_gradient():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 3.0, (2, 4, 4))
    k = rng.poisson(a**2).astype(float)
    obs = np.sqrt(k)
    lam = a**2
    assert poisson_nll(a, obs) == pytest.approx(np.mean(lam - k * np.log(lam + 1e-12)))
    from scipy.special import gammaln

    assert poisson_nll(a, obs, full=True) == pytest.approx(np.mean(lam - k * np.log(lam + 1e-12) + gammaln(k + 1)))
    # d/da mean(a^2 - k log a^2) = (2a - 2k/a) / n, checked by central differences
    h = 1e-6
    e = np.zeros_like(a)
    e[1, 2, 3] = h
    numeric = (poisson_nll(a + e, obs) - poisson_nll(a - e, obs)) / (2 * h)
    analytic = (2 * a[1, 2, 3] - 2 * k[1, 2, 3] / a[1, 2, 3]) / a.size
    assert numeric == pytest.approx(analytic, rel=1e-5)
    # minimised by the observed amplitudes (per element, lam = k)
    assert poisson_nll(np.sqrt(k + 1e-3), obs) < poisson_nll(1.1 * np.sqrt(k + 1e-3), obs)


def test_poisson_half_deviance_is_the_nll_relative_to_the_saturated_model():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 3.0, (2, 4, 4))
    k = rng.poisson(a**2).astype(float)
    k[0, 0, :2] = 0.0  # zero counts: 0 log 0 = 0
    obs = np.sqrt(k)
    lam = a**2
    with np.errstate(divide="ignore", invalid="ignore"):
        klogk = np.where(k > 0, k * np.log(k), 0.0)
    expected = np.mean(lam - k * np.log(lam + 1e-12) - k + klogk)
    assert poisson_half_deviance(a, obs) == pytest.approx(expected)
    # 0 for a perfect fit, positive otherwise; the same gradient as the NLL (a constant apart)
    assert poisson_half_deviance(obs, obs) == pytest.approx(0.0, abs=1e-9)
    assert poisson_half_deviance(a, obs) > 0
    assert poisson_half_deviance(a, obs) - poisson_nll(a, obs) == pytest.approx(-poisson_nll(obs, obs), abs=1e-9)


def test_amplitude_mae():
    assert amplitude_mae(np.ones((3, 3)), np.zeros((3, 3))) == pytest.approx(1.0)


def test_probe_disk_mask_centre_and_radius():
    m = probe_disk_mask(16)
    assert m[8, 8] == 1 and m[8, 8 + 3] == 1 and m[8, 8 + 4] == 0 and m[8, 8 - 4] == 0


def test_forward_amplitude_gridsize1_is_far_field_of_probe_times_patch():
    rng = np.random.default_rng(1)
    N = 16
    obj_p = rng.uniform(0.5, 1, (3, 1, N, N)) * np.exp(1j * rng.uniform(-1, 1, (3, 1, N, N)))
    P = rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N))
    A = forward_amplitude(obj_p, P, None, log_scale=0.2)
    np.testing.assert_allclose(A, np.exp(0.2) * np.abs(far_field(obj_p * P)), rtol=1e-12)


def test_overlap_constraint_keeps_consistent_patches_in_the_window():
    """Patches cut from one object at the members' positions are a fixed point of merge+extract
    wherever the central windows cover the patch."""
    rng = np.random.default_rng(2)
    obj = rng.uniform(0.5, 1, (80, 80)) * np.exp(1j * rng.uniform(-1, 1, (80, 80)))
    N = 16
    pos = np.array([[36.0, 36.0], [40.0, 36.0], [36.0, 42.0], [40.0, 42.0]])  # integer centre offsets: exact
    centre = pos.mean(axis=0)
    offsets = (pos - centre)[None]
    obj_p = extract_object_patches(obj, pos, N)[None].astype(np.complex128)
    out = constrained_patches(obj_p, offsets)
    window = center_window(N).astype(bool)
    np.testing.assert_allclose(out[0][:, window], obj_p[0][:, window], rtol=1e-5)
    M = canvas_size_for(offsets, N)
    _, wsum = merge_patches(obj_p, offsets, canvas_size=M)
    assert wsum.max() <= 4 + 1e-9
    # the merged canvas is a convex combination: never larger than the largest patch value
    canvas, _ = merge_patches(obj_p, offsets, canvas_size=M)
    assert np.abs(canvas).max() <= np.abs(obj_p).max() + 1e-9


def test_group_object_gridsize1_identity_and_gridsize2_centre():
    rng = np.random.default_rng(3)
    obj_p = rng.standard_normal((2, 1, 8, 8)) + 0j
    np.testing.assert_array_equal(group_object(obj_p, None), obj_p[:, 0])
    same = np.repeat(obj_p, 4, axis=1)
    offsets = np.zeros((2, 4, 2))
    g = group_object(same, offsets)
    window = center_window(8).astype(bool)
    np.testing.assert_allclose(g[:, window], obj_p[:, 0][:, window], rtol=1e-5)
