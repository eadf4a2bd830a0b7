"""The TensorFlow refinement operator: tf.GradientTape reproduces core's numpy reference operator."""

from __future__ import annotations

import numpy as np
from ptychopinn.testing.conformance import refinement_gradient_errors, refinement_test_problem
from ptychopinn.testing.fixtures import check_object_only_gradients, check_refine_matches_numpy, refinement_scan
from ptychopinn.testing.refinement import check_refinement_gradients

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
    operator = TFRefinementOperator(refinement_test_problem()[0], OPTIONS)
    check_refinement_gradients(operator, backend="tensorflow", rtol=RTOL)
    check_object_only_gradients(operator, rtol=RTOL)


def test_refine_with_the_tf_operator_matches_refine_with_numpy() -> None:
    make_operator = lambda problem: TFRefinementOperator(problem, OPTIONS)  # noqa: E731
    check_refine_matches_numpy(refinement_scan(), make_operator, operator_name="tensorflow", rtol=RTOL)


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
