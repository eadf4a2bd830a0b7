"""The TensorFlow refinement operator: tf.GradientTape reproduces core's numpy reference operator."""

from __future__ import annotations

import numpy as np
import pytest
from ptychopinn.config import RefinementConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.refinement import NumpyRefinementOperator, initial_state, refine
from ptychopinn.refinement.problem import bilinear_geometry
from ptychopinn.simulate import simulate_scan
from ptychopinn.testing.conformance import (
    reference_finite_differences,
    refinement_gradient_errors,
    refinement_test_problem,
)

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.refinement import TFRefinementOperator

tf, _ = tf_keras()

OPTIONS = TFOptions(inference_device="/cpu:0")
RTOL = 1e-4


def test_autograd_of_a_real_loss_is_twice_the_conjugate_wirtinger_derivative() -> None:
    """The operator halves the tape's gradient: for L = |z|^2, dL/dz* = z and TensorFlow must give 2 z."""
    z = tf.constant([1.5 - 0.5j, -2.0 + 3.0j], dtype=tf.complex64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.reduce_sum(tf.abs(z) ** 2)
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), 2 * z.numpy(), rtol=1e-6)


def test_loss_and_gradients_match_the_numpy_reference() -> None:
    problem, state = refinement_test_problem()
    operator = TFRefinementOperator(problem, OPTIONS)
    indices = np.array([9, 0, 3, 4, 11, 6, 2])
    errors = refinement_gradient_errors(operator, problem, state, indices)
    assert max(errors.values()) < RTOL, errors
    plain = operator.gradients(state, indices)
    assert plain.probe_gradient is None and plain.position_gradient is None
    ref = NumpyRefinementOperator(problem).gradients(state, indices)
    np.testing.assert_allclose(plain.object_gradient, ref.object_gradient, rtol=0,
                               atol=RTOL * np.abs(ref.object_gradient).max())
    assert plain.object_gradient.dtype == np.complex128 and plain.object_gradient.shape == problem.canvas.shape


def test_reference_gradients_match_central_finite_differences() -> None:
    problem, state = refinement_test_problem(seed=1)
    indices = np.array([7, 1, 4])
    g = NumpyRefinementOperator(problem).gradients(state, indices, probe=True, positions=True)
    rows, cols, _ = bilinear_geometry(state.positions[indices], problem.N, problem.canvas)
    object_pixels = np.array([[rows[0] + 5, cols[0] + 7], [rows[2] + 16, cols[2] + 1]])
    probe_pixels = np.array([[3, 4], [15, 0]])
    d_obj, d_probe, d_pos = reference_finite_differences(problem, state, indices, object_pixels=object_pixels,
                                                         probe_pixels=probe_pixels)
    assert g.probe_gradient is not None and g.position_gradient is not None
    np.testing.assert_allclose(g.object_gradient[object_pixels[:, 0], object_pixels[:, 1]], d_obj, rtol=1e-5)
    np.testing.assert_allclose(g.probe_gradient[probe_pixels[:, 0], probe_pixels[:, 1]], d_probe, rtol=1e-5)
    np.testing.assert_allclose(g.position_gradient, d_pos, rtol=1e-5, atol=1e-7 * np.abs(d_pos).max())


@pytest.fixture(scope="module")
def scan() -> ScanData:
    return simulate_scan(N=16, n_patterns=49, scan_kind="jittered", step_px=3.0, nphotons=1e4, seed=2)


def test_refine_with_the_tf_operator_matches_refine_with_numpy(scan: ScanData) -> None:
    cfg = RefinementConfig(enabled=True, max_iterations=4, refine_probe=True, refine_positions=True, batch_size=8,
                           min_delta=0.0, smoothing_px=0.0)  # full resolution from sweep 1: positions move
    problem, start = initial_state(scan, None, cfg)
    ours = refine(problem, start, cfg, operator=TFRefinementOperator(problem, OPTIONS))
    ref = refine(problem, start, cfg)
    assert ours.report.operator == "tensorflow" and ref.report.operator == "numpy"
    assert ours.report.best_iteration == ref.report.best_iteration > 0
    assert ours.report.final_loss < 0.5 * ours.report.initial_loss  # refinement did something
    np.testing.assert_allclose(ours.report.heldout_loss, ref.report.heldout_loss, rtol=RTOL)
    for key in ("object", "probe", "positions"):
        got, want = getattr(ours.state, key), getattr(ref.state, key)
        np.testing.assert_allclose(got, want, rtol=0, atol=RTOL * np.abs(want).max(), err_msg=key)
    assert not np.allclose(ref.state.positions, start.positions)  # positions moved, so their gradients mattered


def test_plugin_returns_the_tf_operator() -> None:
    import ptychopinn

    backend = ptychopinn.get_backend("tensorflow")
    assert backend.info.api_version == (2, 0) and "refine" in backend.capabilities
    problem, state = refinement_test_problem()
    operator = backend.refinement_operator(problem, {"inference_device": "/cpu:0"})
    assert isinstance(operator, TFRefinementOperator) and operator.name == "tensorflow"
    assert operator.device == "/cpu:0"
    indices = np.arange(problem.n_patterns)
    errors = refinement_gradient_errors(operator, problem, state, indices)
    assert max(errors.values()) < RTOL, errors
