"""Framework-free test helpers shared by the backends' own test suites (not conformance checks).

:func:`check_refine_matches_numpy` runs core's refinement loop twice on a small simulated scan,
once with a backend's gradient operator and once with core's numpy reference, and asserts the
two runs agree; :func:`check_object_only_gradients` checks an operator asked for the object
gradient alone. Both backends' ``tests/test_refinement.py`` call them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ptychopinn.config import RefinementConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.refinement import NumpyRefinementOperator, RefinementProblem, initial_state, refine
from ptychopinn.simulate import simulate_scan
from ptychopinn.testing.refinement import refinement_test_problem

__all__ = ["check_object_only_gradients", "check_refine_matches_numpy", "refinement_scan"]


def refinement_scan(*, N: int = 16, n_patterns: int = 49, seed: int = 2) -> ScanData:
    """A small jittered simulated scan (3 px steps, 1e4 photons) for refinement tests."""
    return simulate_scan(N=N, n_patterns=n_patterns, scan_kind="jittered", step_px=3.0, nphotons=1e4, seed=seed)


def check_refine_matches_numpy(
    scan: ScanData, make_operator: Callable[[RefinementProblem], Any], *, operator_name: str, rtol: float = 1e-4
) -> None:
    """Four sweeps of object, probe and position refinement with ``make_operator(problem)`` equal
    the same sweeps with core's numpy operator.

    Parameters
    ----------
    scan : ScanData
        E.g. :func:`refinement_scan`.
    make_operator : callable
        The backend's operator for a problem.
    operator_name : str
        The ``name`` the operator reports.
    rtol : float
        Held-out loss relative tolerance; object, probe and positions agree to ``rtol`` times
        their largest magnitude.

    Raises
    ------
    AssertionError
        Naming the first quantity that differs.
    """
    cfg = RefinementConfig(enabled=True, max_iterations=4, refine_probe=True, refine_positions=True, batch_size=8,
                           min_delta=0.0, smoothing_px=0.0)  # full resolution from sweep 1: positions move
    problem, start = initial_state(scan, None, cfg)
    ours = refine(problem, start, cfg, operator=make_operator(problem))
    ref = refine(problem, start, cfg)
    assert ours.report.operator == operator_name and ref.report.operator == "numpy", ours.report.operator
    assert ours.report.best_iteration == ref.report.best_iteration > 0
    assert ours.report.final_loss < 0.5 * ours.report.initial_loss  # refinement did something
    np.testing.assert_allclose(ours.report.heldout_loss, ref.report.heldout_loss, rtol=rtol)
    for key in ("object", "probe", "positions"):
        got, want = getattr(ours.state, key), getattr(ref.state, key)
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * np.abs(want).max(), err_msg=key)
    assert not np.allclose(ref.state.positions, start.positions)  # positions moved, so their gradients mattered


def check_object_only_gradients(operator: Any, *, rtol: float = 1e-4) -> None:
    """An operator built for ``refinement_test_problem()`` and asked for the object gradient alone
    returns no probe or position gradient, and a (H, W) complex128 object gradient on the whole
    canvas equal to core's numpy reference to ``rtol`` times its largest magnitude."""
    problem, state = refinement_test_problem()
    indices = np.array([9, 0, 3, 4, 11, 6, 2])
    plain = operator.gradients(state, indices)
    assert plain.probe_gradient is None and plain.position_gradient is None
    ref = NumpyRefinementOperator(problem).gradients(state, indices)
    assert plain.object_gradient.dtype == np.complex128 and plain.object_gradient.shape == problem.canvas.shape
    np.testing.assert_allclose(plain.object_gradient, ref.object_gradient, rtol=0,
                               atol=rtol * np.abs(ref.object_gradient).max())
