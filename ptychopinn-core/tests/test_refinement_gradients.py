"""The numpy reference refinement operator is the exact gradient of its robust loss (finite
differences), and a backend without the ``ptychopinn_refinement_operator`` hook falls back to it."""

from __future__ import annotations

import numpy as np

from ptychopinn.refinement import NumpyRefinementOperator, robust_half_deviance
from ptychopinn.refinement.operator import ROBUST_FRACTION
from ptychopinn.refinement.problem import bilinear_geometry
from ptychopinn.testing.conformance import reference_finite_differences, refinement_test_problem


def test_test_problem_reaches_both_loss_branches_and_zero_counts() -> None:
    problem, state = refinement_test_problem()
    a = NumpyRefinementOperator(problem).predicted_amplitudes(state, np.arange(problem.n_patterns))
    k = np.asarray(problem.amplitudes, dtype=np.float64) ** 2
    taylor = a < ROBUST_FRACTION * np.sqrt(k)
    assert 0.05 < taylor.mean() < 0.6, taylor.mean()
    assert np.any(k == 0) and np.any(k > 50)
    _, _, frac = bilinear_geometry(state.positions, problem.N, problem.canvas)
    assert np.all((frac > 0.05) & (frac < 0.95))  # sub-pixel, and finite differences stay in one pixel


def test_robust_half_deviance_is_continuous_with_its_derivative_at_the_branch_point() -> None:
    k = np.array([1.0, 7.0, 400.0])
    a0 = ROBUST_FRACTION * np.sqrt(k)
    h_lo, d_lo = robust_half_deviance(a0 * (1 - 1e-9), k)
    h_hi, d_hi = robust_half_deviance(a0, k)
    np.testing.assert_allclose(h_lo, h_hi, rtol=1e-7)
    np.testing.assert_allclose(d_lo, d_hi, rtol=1e-7)
    a = np.array([0.0, 0.3, 1.9, 2.5, 30.0])[:, None] * np.ones_like(k)
    eps = 1e-6
    numeric = (robust_half_deviance(a + eps, k)[0] - robust_half_deviance(a - eps, k)[0]) / (2 * eps)
    np.testing.assert_allclose(robust_half_deviance(a, k)[1], numeric, rtol=1e-6, atol=1e-6)


def test_reference_gradients_match_central_finite_differences() -> None:
    problem, state = refinement_test_problem(seed=1)
    indices = np.array([7, 1, 4, 10, 2])
    op = NumpyRefinementOperator(problem)
    g = op.gradients(state, indices, probe=True, positions=True)
    rows, cols, _ = bilinear_geometry(state.positions[indices], problem.N, problem.canvas)
    object_pixels = np.array([[rows[0] + 5, cols[0] + 7], [rows[1] + 9, cols[1] + 2], [rows[3] + 16, cols[3] + 16],
                              [rows[4], cols[4] + 3]])
    probe_pixels = np.array([[3, 4], [8, 8], [15, 0], [0, 15]])
    d_obj, d_probe, d_pos = reference_finite_differences(problem, state, indices, object_pixels=object_pixels,
                                                         probe_pixels=probe_pixels)
    analytic_obj = g.object_gradient[object_pixels[:, 0], object_pixels[:, 1]]
    assert np.all(np.abs(analytic_obj) > 1e-3 * np.abs(g.object_gradient).max())  # lit pixels, not trivial zeros
    np.testing.assert_allclose(analytic_obj, d_obj, rtol=1e-5, atol=1e-7 * np.abs(g.object_gradient).max())
    assert g.probe_gradient is not None and g.position_gradient is not None
    np.testing.assert_allclose(g.probe_gradient[probe_pixels[:, 0], probe_pixels[:, 1]], d_probe, rtol=1e-5,
                               atol=1e-7 * np.abs(g.probe_gradient).max())
    np.testing.assert_allclose(g.position_gradient, d_pos, rtol=1e-5, atol=1e-7 * np.abs(g.position_gradient).max())


def test_backend_without_the_hook_falls_back_to_the_numpy_reference() -> None:
    from ptychopinn.plugins.registry import get_backend

    backend = get_backend("numpy-test")
    assert not backend.implements("ptychopinn_refinement_operator")  # the fixture backend has no such hook
    problem, _ = refinement_test_problem()
    operator = backend.refinement_operator(problem)
    assert type(operator) is NumpyRefinementOperator and operator.name == "numpy"
    assert operator.problem is problem
