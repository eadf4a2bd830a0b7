"""``refine`` tier: the refinement operator against core's numpy reference and against its own loss.

- :func:`check_refinement_gradients`: loss and the three gradients equal
  :class:`ptychopinn.refinement.NumpyRefinementOperator`'s (relative 1e-4), the state unchanged.
- :func:`check_object_gradient_directional`: a dot-product test — for random complex directions
  ``d`` the central difference of the operator's *own* loss, ``(L(O + eps d) - L(O - eps d)) / 2 eps``,
  equals ``2 Re sum(conj(dL/dO*) d)``. It needs no reference gradient, so it pins the Wirtinger
  convention (a doubled, conjugated, sign-flipped or mirrored gradient fails) even where the
  reference itself would be wrong.

The helpers :func:`refinement_test_problem`, :func:`refinement_gradient_errors` and
:func:`reference_finite_differences` are public (the backends' own tests use them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ptychopinn.refinement import NumpyRefinementOperator, RefinementOperator, RefinementProblem, RefinementState
from ptychopinn.results import CanvasSpec
from ptychopinn.testing.report import ConformanceFailure

__all__ = [
    "check_object_gradient_directional",
    "check_refinement_gradients",
    "reference_finite_differences",
    "refinement_gradient_errors",
    "refinement_test_problem",
]

def refinement_test_problem(
    *, N: int = 16, n_patterns: int = 12, seed: int = 0
) -> tuple[RefinementProblem, RefinementState]:
    """A small random refinement problem that reaches every branch of the robust loss.

    Random complex object on a canvas with a non-zero origin, random complex probe, sub-pixel
    positions (fractions away from 0 and 1, so finite differences do not cross a pixel), and
    Poisson counts of the predicted intensity times a random factor in [0.3, 6] per pixel: many
    pixels lie in the Taylor branch (``a < ROBUST_FRACTION sqrt(k)``), and pixel row 0 of every
    pattern measures 0 counts.

    Returns
    -------
    problem : RefinementProblem
        (M, N, N) float32 amplitudes.
    state : RefinementState
        Object (H, W) complex128, probe (N, N) complex128, positions (M, 2) float64.
    """
    rng = np.random.default_rng(seed)
    H, W = 3 * N + 3, 3 * N + 7
    canvas = CanvasSpec(shape=(H, W), origin=(-5, 3))
    obj = rng.uniform(0.3, 1.0, (H, W)) * np.exp(1j * rng.uniform(-np.pi, np.pi, (H, W)))
    probe = 5.0 * (rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N)))
    low = np.array(canvas.origin, dtype=np.float64) + N / 2 + 1
    span = np.array([W, H], dtype=np.float64) - N - 3
    positions = low + rng.integers(0, span.astype(np.int64), (n_patterns, 2)) + rng.uniform(0.1, 0.9, (n_patterns, 2))
    state = RefinementState(object=obj, probe=probe, positions=positions)
    empty = RefinementProblem(amplitudes=np.zeros((n_patterns, N, N), np.float32), canvas=canvas)
    intensity = NumpyRefinementOperator(empty).predicted_amplitudes(state, np.arange(n_patterns)) ** 2
    counts = rng.poisson(intensity * rng.uniform(0.3, 6.0, intensity.shape)).astype(np.float64)
    counts[:, 0, :] = 0
    return RefinementProblem(amplitudes=np.sqrt(counts).astype(np.float32), canvas=canvas), state


def refinement_gradient_errors(
    operator: RefinementOperator, problem: RefinementProblem, state: RefinementState, indices: np.ndarray
) -> dict[str, float]:
    """Max relative errors of ``operator`` against core's numpy reference on one batch.

    Each gradient is compared as ``max |g - g_ref| / max |g_ref|`` (probe and positions
    requested); a missing or misshapen array counts as error ``inf``.

    Returns
    -------
    dict
        ``loss``, ``object``, ``probe``, ``positions`` -> float.
    """
    ref = NumpyRefinementOperator(problem).gradients(state, indices, probe=True, positions=True)
    got = operator.gradients(state, indices, probe=True, positions=True)

    def rel(a: Any, b: np.ndarray) -> float:
        if a is None or np.shape(a) != b.shape:
            return float("inf")
        return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))

    return {
        "loss": abs(float(got.loss) - ref.loss) / abs(ref.loss),
        "object": rel(got.object_gradient, ref.object_gradient),
        "probe": rel(got.probe_gradient, ref.probe_gradient),  # type: ignore[arg-type]
        "positions": rel(got.position_gradient, ref.position_gradient),  # type: ignore[arg-type]
    }


def reference_finite_differences(
    problem: RefinementProblem, state: RefinementState, indices: np.ndarray, *,
    object_pixels: np.ndarray, probe_pixels: np.ndarray, eps: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central finite differences of the reference's robust loss (float64).

    Parameters
    ----------
    object_pixels, probe_pixels : (K, 2) int, (row, column) of the entries to differentiate
    eps : float
        Step, in the units of each variable.

    Returns
    -------
    d_object, d_probe : (K,) complex128
        ``dL/dz* = (dL/dRe z + i dL/dIm z) / 2`` at the given pixels.
    d_positions : (B, 2) float64
        dL/d(x, y) of every batch pattern.
    """
    op = NumpyRefinementOperator(problem)

    def loss(s: RefinementState) -> float:
        return op.gradients(s, indices).loss

    def wirtinger(key: str, pixels: np.ndarray) -> np.ndarray:
        out = np.empty(len(pixels), dtype=np.complex128)
        for n, (r, c) in enumerate(pixels):
            parts = []
            for step in (eps, 1j * eps):
                plus, minus = state.copy(), state.copy()
                getattr(plus, key)[r, c] += step
                getattr(minus, key)[r, c] -= step
                parts.append((loss(plus) - loss(minus)) / (2 * eps))
            out[n] = 0.5 * (parts[0] + 1j * parts[1])
        return out

    d_pos = np.empty((len(indices), 2))
    for b, m in enumerate(indices):
        for axis in (0, 1):
            plus, minus = state.copy(), state.copy()
            plus.positions[m, axis] += eps
            minus.positions[m, axis] -= eps
            d_pos[b, axis] = (loss(plus) - loss(minus)) / (2 * eps)
    return wirtinger("object", object_pixels), wirtinger("probe", probe_pixels), d_pos


def check_refinement_gradients(operator: Any, *, backend: str, rtol: float = 1e-4) -> None:
    """Loss and object/probe/position gradients equal the reference's on a fixed problem; state untouched."""
    problem, state = refinement_test_problem()
    before = state.copy()
    if getattr(operator, "name", None) != backend:
        got = getattr(operator, "name", None)
        raise ConformanceFailure(f"refinement operator.name is {got!r}, expected {backend!r}")
    indices = np.random.default_rng(4).permutation(problem.n_patterns)[: problem.n_patterns - 3]
    errors = refinement_gradient_errors(operator, problem, state, indices)
    for key in ("object", "probe", "positions"):
        if not np.array_equal(getattr(state, key), getattr(before, key)):
            raise ConformanceFailure(f"the refinement operator modified state.{key}; it must only read the state")
    bad = {name: err for name, err in errors.items() if not err <= rtol}
    if bad:
        raise ConformanceFailure(
            "refinement gradients differ from NumpyRefinementOperator: max relative errors "
            + ", ".join(f"{k} {v:.3g}" for k, v in bad.items())
            + f" > {rtol:g} (gradients are dL/dz* = (dL/dRe z + i dL/dIm z) / 2: autograd's .grad is twice that)"
        )


def check_object_gradient_directional(
    make_operator: Any, *, rtol: float = 1e-2, eps: float = 1e-2, n_directions: int = 3, seed: int = 5
) -> None:
    """Dot-product test of the object gradient against central differences of the operator's own loss.

    Parameters
    ----------
    make_operator : callable
        ``make_operator(problem) -> operator`` (the backend's refinement operator for a problem).
    rtol : float
        Relative tolerance; the default 1e-2 leaves room for a float32 loss (a summed loss of
        ~5e4 is resolved to ~3e-3) and for the O(eps^2) truncation error.
    eps : float
        Step along each direction ``d`` (``max |d| = 1``; the object amplitudes are <= 1).
    """
    problem, state = refinement_test_problem()
    operator = make_operator(problem)
    indices = np.arange(problem.n_patterns)
    gradient = np.asarray(operator.gradients(state, indices).object_gradient)
    if gradient.shape != state.object.shape:
        raise ConformanceFailure(f"object_gradient has shape {gradient.shape}, expected {state.object.shape}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(n_directions):
        d = rng.standard_normal(state.object.shape) + 1j * rng.standard_normal(state.object.shape)
        d /= np.max(np.abs(d))
        losses = []
        for sign in (1.0, -1.0):
            moved = state.copy()
            moved.object[...] += sign * eps * d
            losses.append(float(operator.gradients(moved, indices).loss))
        finite_difference = (losses[0] - losses[1]) / (2 * eps)
        predicted = 2.0 * float(np.real(np.sum(np.conj(gradient) * d)))
        errors.append((abs(finite_difference - predicted) / max(abs(finite_difference), 1e-30), finite_difference,
                       predicted))
    worst = max(errors)
    if not worst[0] <= rtol:
        raise ConformanceFailure(
            f"object gradient fails the directional-derivative test: (L(O + eps d) - L(O - eps d)) / 2 eps = "
            f"{worst[1]:.6g} but 2 Re <dL/dO*, d> = {worst[2]:.6g} (relative error {worst[0]:.3g} > {rtol:g}); the "
            f"gradient is not the conjugate Wirtinger derivative of the operator's own loss (doubled, conjugated, "
            f"sign-flipped or misplaced?)"
        )
