"""``WindowedRefinementOperator``: the framework-free half of a backend's refinement operator.

A backend's operator (``ptychopinn_refinement_operator`` hook) differentiates the robust loss of
:mod:`ptychopinn.refinement.operator` with its framework's autograd. Everything around that step
is the same for every backend and lives here, once:

- an empty batch has zero loss and zero gradients (as core's reference);
- the batch's (N + 1) x (N + 1) windows are placed by core's checked rule
  (:func:`~ptychopinn.refinement.problem.window_corners`; ValueError off the canvas), and only the
  canvas region holding them is handed to the framework (:class:`RefinementWindow`);
- the object gradient of that region goes back onto a zero canvas and the result becomes a
  :class:`~ptychopinn.refinement.problem.BatchGradients` in core's dtypes.

A subclass implements :meth:`WindowedRefinementOperator.window_gradients` (and, optionally,
:meth:`~WindowedRefinementOperator.context`, e.g. a device scope or a thread count).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ptychopinn.refinement.operator import ROBUST_FRACTION
from ptychopinn.refinement.problem import BatchGradients, RefinementProblem, RefinementState, window_corners

__all__ = [
    "ArrayOps",
    "RefinementWindow",
    "WindowGradients",
    "WindowedRefinementOperator",
    "robust_half_deviance_with",
    "unshifted_amplitudes",
]


class ArrayOps(Protocol):
    """The element-wise functions :func:`robust_half_deviance_with` needs, from any array library
    (``numpy``, ``torch``, or a namespace of ``tf.sqrt``, ``tf.math.log``, ``tf.where`` ...)."""

    def sqrt(self, x: Any, /) -> Any: ...
    def log(self, x: Any, /) -> Any: ...
    def where(self, condition: Any, x: Any, y: Any, /) -> Any: ...
    def ones_like(self, x: Any, /) -> Any: ...
    def zeros_like(self, x: Any, /) -> Any: ...


def robust_half_deviance_with(amplitude: Any, counts: Any, ops: ArrayOps) -> Any:
    """Per-pixel robust Poisson half-deviance h(a, k) in any array library, differentiable in a.

    The same function as :func:`ptychopinn.refinement.operator.robust_half_deviance` (without its
    derivative), written with ``ops`` only so that a framework's autograd can differentiate it;
    both branches are finite everywhere (no ``inf * 0`` in the unused one).

    Parameters
    ----------
    amplitude : (...) float64 array of ``ops``' library, predicted amplitude a >= 0, sqrt(counts)
    counts : (...) float64 array of the same library, measured counts k >= 0
    ops : ArrayOps

    Returns
    -------
    (...) float64 array of the same library
    """
    a, k, c = amplitude, counts, ROBUST_FRACTION
    root = ops.sqrt(k)
    a0 = c * root
    inside = a >= a0
    safe_a = ops.where(inside & (a > 0), a, ops.ones_like(a))
    log_k = ops.where(k > 0, ops.log(ops.where(k > 0, k, ops.ones_like(k))), ops.zeros_like(k))
    h_in = a * a - k * ops.log(safe_a * safe_a) - (k - k * log_k)
    da = a - a0
    h_out = k * (c * c - 1.0 - 2.0 * np.log(c)) + (2 * a0 - 2 * root / c) * da + (1.0 + 1.0 / (c * c)) * da * da
    return ops.where(inside, h_in, h_out)


@dataclass(frozen=True, kw_only=True, eq=False)
class RefinementWindow:
    """The part of a refinement state that one minibatch touches."""

    indices: np.ndarray
    """(B,) int64 patterns of the batch (B >= 1)."""

    object: np.ndarray
    """(h, w) complex: the canvas region holding every window of the batch (a view of the state's object)."""

    probe: np.ndarray
    """(N, N) complex probe, sqrt(counts) units."""

    positions: np.ndarray
    """(B, 2) float64 object pixels (x, y) of the batch."""

    rows: np.ndarray
    """(B,) int64 top-left window rows, relative to :attr:`object`."""

    cols: np.ndarray
    """(B,) int64 top-left window columns, relative to :attr:`object`."""

    origin: tuple[int, int]
    """(row, column) of ``object[0, 0]`` on the canvas."""


@dataclass(frozen=True, kw_only=True, eq=False)
class WindowGradients:
    """What a backend's autograd step returns for a :class:`RefinementWindow` (arrays in any real/complex dtype)."""

    loss: float
    """Robust half-deviance of the batch."""

    object_gradient: np.ndarray
    """(h, w) dL/dO* on the window's region."""

    probe_gradient: np.ndarray | None = None
    """(N, N) dL/dP*, when asked for."""

    position_gradient: np.ndarray | None = None
    """(B, 2) dL/d(x, y), when asked for."""


def unshifted_amplitudes(problem: RefinementProblem, dtype: type = np.float32) -> np.ndarray:
    """(M, N, N) C-contiguous measured amplitudes in the unshifted FFT layout (``ifftshift``), as ``dtype``."""
    return np.ascontiguousarray(np.fft.ifftshift(np.asarray(problem.amplitudes), axes=(-2, -1)), dtype=dtype)


class WindowedRefinementOperator:
    """Base class of the backends' refinement operators (core's ``RefinementOperator`` protocol).

    Parameters
    ----------
    problem : RefinementProblem
    """

    name: str = "windowed"

    def __init__(self, problem: RefinementProblem) -> None:
        self.problem = problem

    def context(self) -> contextlib.AbstractContextManager[object]:
        """Context every autograd step runs in (default: none)."""
        return contextlib.nullcontext()

    def window_gradients(self, window: RefinementWindow, *, probe: bool, positions: bool) -> WindowGradients:
        """The framework's autograd step: loss and gradients of the batch in ``window``."""
        raise NotImplementedError(f"{type(self).__name__} must implement window_gradients")

    def gradients(
        self, state: RefinementState, indices: np.ndarray, *, probe: bool = False, positions: bool = False
    ) -> BatchGradients:
        """Robust loss of the patterns ``indices`` at ``state`` and its gradients.

        Parameters
        ----------
        state : RefinementState
            Object (H, W), probe (N, N), positions (M, 2); not modified.
        indices : (B,) int
            Patterns of the batch.
        probe, positions : bool
            Also return dL/dP* (N, N) complex128 / dL/d(x, y) (B, 2) float64.

        Returns
        -------
        BatchGradients
            Loss (float), dL/dO* (H, W) complex128 on the whole canvas (zero outside the batch's windows).

        Raises
        ------
        ValueError
            A window of the batch leaves the canvas.
        """
        idx = np.asarray(indices, dtype=np.int64)
        N, shape = self.problem.N, self.problem.canvas.shape
        if idx.size == 0:  # as the reference: zero loss, zero gradients
            return BatchGradients(
                loss=0.0, object_gradient=np.zeros(shape, dtype=np.complex128),
                probe_gradient=np.zeros((N, N), dtype=np.complex128) if probe else None,
                position_gradient=np.zeros((0, 2)) if positions else None,
            )
        where = np.asarray(state.positions[idx], dtype=np.float64)
        rows, cols, _ = window_corners(where, N, self.problem.canvas)
        r0, c0 = int(rows.min()), int(cols.min())
        r1, c1 = int(rows.max()) + N + 1, int(cols.max()) + N + 1
        window = RefinementWindow(
            indices=idx, object=state.object[r0:r1, c0:c1], probe=state.probe, positions=where,
            rows=rows - r0, cols=cols - c0, origin=(r0, c0),
        )
        with self.context():
            found = self.window_gradients(window, probe=probe, positions=positions)
        g_obj = np.zeros(shape, dtype=np.complex128)
        g_obj[r0:r1, c0:c1] = found.object_gradient
        return BatchGradients(
            loss=float(found.loss),
            object_gradient=g_obj,
            probe_gradient=np.asarray(found.probe_gradient, dtype=np.complex128) if probe else None,
            position_gradient=np.asarray(found.position_gradient, dtype=np.float64) if positions else None,
        )
