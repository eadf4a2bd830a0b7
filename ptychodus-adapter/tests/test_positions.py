"""The half-pixel test: Ptychodus's own forward model vs core's convention after the adapter's conversion.

Ptychodus 1.7's simulator (``ptychodus.api.simulate.diffraction.generate_diffraction_data``)
places the probe with its (N-1)/2 centred-pixel convention. The adapter converts its
positions to core's (patch pixel (N/2, N/2) on the position). If the conversion is right,
core's forward model (patch cut at the converted position, x probe, far field) reproduces
Ptychodus's patterns to float precision; a half-pixel error in either axis does not.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_product, metres_for_object_pixels
from ptychodus.api.reconstruct import ReconstructInput
from ptychodus.api.simulate.diffraction import generate_diffraction_data

from ptychopinn.physics import far_field
from ptychopinn.physics.patches import extract_object_patches
from ptychopinn_ptychodus.convert import scan_from_reconstruct_input

N = 64


def _textured_object(shape: tuple[int, int], seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    amp = 0.6 + 0.4 * rng.random(shape)
    phase = rng.uniform(-1.5, 1.5, shape)
    return amp * np.exp(1j * phase)


def _probe() -> np.ndarray:
    yy, xx = np.mgrid[:N, :N]
    r2 = (xx - N / 2) ** 2 + (yy - N / 2) ** 2
    # asymmetric, smooth probe so that shifts and flips change the patterns
    return np.exp(-r2 / (2 * 9.0**2)) * np.exp(1j * 0.02 * (xx - 0.3 * yy))


def _simulate(obj: np.ndarray, probe: np.ndarray, x_px: np.ndarray, y_px: np.ndarray):
    x_m, y_m = metres_for_object_pixels(x_px, y_px, obj.shape)
    product = make_product(obj, probe, x_m, y_m)
    data = generate_diffraction_data(product)  # Ptychodus's own forward model, no noise
    bad = np.zeros((N, N), dtype=bool)
    return ReconstructInput(diffraction_patterns=data.get_patterns(), bad_pixels=bad, product=product)


def _relative_error(reference: np.ndarray, candidate: np.ndarray) -> float:
    scale = reference.sum() / candidate.sum()  # Ptychodus's Fresnel transform has its own constant
    return float(np.linalg.norm(reference - scale * candidate) / np.linalg.norm(reference))


def _core_counts(obj: np.ndarray, probe: np.ndarray, positions: np.ndarray) -> np.ndarray:
    patches = extract_object_patches(obj, positions, N)
    return np.abs(far_field(probe[np.newaxis] * patches)) ** 2


@pytest.fixture(scope="module")
def simulated():
    obj = _textured_object((160, 176))
    probe = _probe()
    # Ptychodus object pixels where its patch bounds are integral (no Fourier sub-pixel shift):
    # x_px - (N-1)/2 integer, i.e. x_px = k + 31.5
    ks = np.array([10, 25, 40, 57, 70])
    x_px = np.concatenate([ks + 31.5, ks[::-1] + 35.5])
    y_px = np.concatenate([ks[::-1] + 31.5, ks + 20.5])
    return obj, probe, x_px, y_px, _simulate(obj, probe, x_px, y_px)


def test_converted_positions_are_ptychodus_pixels_plus_half(simulated):
    obj, probe, x_px, y_px, parameters = simulated
    scan = scan_from_reconstruct_input(parameters)
    np.testing.assert_allclose(scan.positions[:, 0], x_px + 0.5, atol=1e-6)
    np.testing.assert_allclose(scan.positions[:, 1], y_px + 0.5, atol=1e-6)


def test_core_forward_model_reproduces_ptychodus_patterns(simulated):
    obj, probe, _, _, parameters = simulated
    scan = scan_from_reconstruct_input(parameters)
    counts = np.asarray(scan.diffraction, dtype=np.float64) ** 2
    np.testing.assert_allclose(counts, parameters.diffraction_patterns, rtol=1e-5, atol=1e-6 * counts.max())
    err = _relative_error(parameters.diffraction_patterns, _core_counts(obj, scan.probe, scan.positions))
    assert err < 1e-4, f"core's forward model at the converted positions differs from Ptychodus's by {err:.2e}"


@pytest.mark.parametrize("shift", [(0.5, 0.0), (0.0, 0.5), (-0.5, 0.0), (0.0, -0.5), (1.0, 0.0)])
def test_a_half_pixel_error_is_detected(simulated, shift):
    """The comparison above is sensitive: a half-pixel (or one-pixel) slip fails it by orders of magnitude."""
    obj, probe, _, _, parameters = simulated
    scan = scan_from_reconstruct_input(parameters)
    wrong = scan.positions + np.asarray(shift)
    err = _relative_error(parameters.diffraction_patterns, _core_counts(obj, scan.probe, wrong))
    assert err > 1e-2, f"a {shift} px position error went unnoticed (relative error {err:.2e})"
