"""The PyTorch refinement operator: torch autograd reproduces core's numpy reference operator."""

from __future__ import annotations

import numpy as np
import torch

from ptychopinn.testing.conformance import refinement_gradient_errors, refinement_test_problem
from ptychopinn.testing.fixtures import check_object_only_gradients, check_refine_matches_numpy, refinement_scan
from ptychopinn.testing.refinement import check_refinement_gradients
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.refinement import TorchRefinementOperator

OPTIONS = TorchOptions(accelerator="cpu", num_threads=1)
RTOL = 1e-4


def test_autograd_of_a_real_loss_is_twice_the_conjugate_wirtinger_derivative() -> None:
    """The operator halves ``.grad``: for L = |z|^2, dL/dz* = z and torch must give 2 z."""
    z = torch.tensor([1.5 - 0.5j, -2.0 + 3.0j], dtype=torch.complex64, requires_grad=True)
    (z.abs() ** 2).sum().backward()
    assert z.grad is not None
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.detach().numpy(), rtol=1e-6)


def test_loss_and_gradients_match_the_numpy_reference() -> None:
    operator = TorchRefinementOperator(refinement_test_problem()[0], OPTIONS)
    check_refinement_gradients(operator, backend="pytorch", rtol=RTOL)
    check_object_only_gradients(operator, rtol=RTOL)


def test_float64_precision_matches_the_reference_to_double_precision() -> None:
    problem, state = refinement_test_problem(seed=2)
    operator = TorchRefinementOperator(problem, {"accelerator": "cpu", "precision": "64-true"})
    errors = refinement_gradient_errors(operator, problem, state, np.arange(problem.n_patterns))
    assert max(errors.values()) < 1e-10, errors


def test_refine_with_the_torch_operator_matches_refine_with_numpy() -> None:
    make_operator = lambda problem: TorchRefinementOperator(problem, OPTIONS)  # noqa: E731
    check_refine_matches_numpy(refinement_scan(), make_operator, operator_name="pytorch", rtol=RTOL)


def test_plugin_returns_the_torch_operator() -> None:
    import ptychopinn

    backend = ptychopinn.get_backend("pytorch")
    assert backend.info.api_version == (2, 0) and "refine" in backend.info.capabilities
    problem, state = refinement_test_problem()
    operator = backend.refinement_operator(problem, {"accelerator": "cpu", "num_threads": 1})
    assert isinstance(operator, TorchRefinementOperator) and operator.name == "pytorch"
    assert operator.device == torch.device("cpu")
    indices = np.arange(problem.n_patterns)
    errors = refinement_gradient_errors(operator, problem, state, indices)
    assert max(errors.values()) < RTOL, errors
