"""Refinement gradient operator of the TensorFlow backend (the ``ptychopinn_refinement_operator`` hook).

The forward model is core's (:mod:`ptychopinn.refinement.operator`), written in TensorFlow;
the gradients come from ``tf.GradientTape`` of the robust Poisson half-deviance, not from
hand-written adjoints. For pattern m of a batch::

    psi_m = P * E_m(O)                 E_m: bilinear N x N cut at positions[m] (differentiable in x, y)
    a_m   = |fft2(psi_m, norm="ortho")|  compared with ifftshift(measured counts)
    L     = sum_m sum_pixels h(a_m, k_m)

Autograd convention: for a real loss L and a complex source z, ``tape.gradient`` returns
``dL/dRe z + i dL/dIm z = 2 dL/dz*``; this module returns ``dL/dz*`` (core's definition), i.e.
half of the tape's gradient. The forward model runs in complex64 (the backend's physics is
always float32/complex64, whatever the network precision); the per-pixel loss is evaluated in
float64.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from ptychopinn.refinement.operator import ROBUST_FRACTION
from ptychopinn.refinement.problem import BatchGradients, RefinementProblem, RefinementState
from ptychopinn.refinement.problem import window_corners as checked_corners
from ptychopinn.results import CanvasSpec

from ptychopinn_tf._env import apply_threads, tf_keras
from ptychopinn_tf.options import TFOptions, resolve_options

if TYPE_CHECKING:  # annotations only: TensorFlow is imported through tf_keras() at run time
    from tensorflow import Tensor

tf, _ = tf_keras()

__all__ = ["TFRefinementOperator", "batch_loss", "bilinear", "build_refinement_operator", "gather_windows",
           "loss_and_gradients", "robust_half_deviance", "window_corners"]

NAME = "tensorflow"


def window_corners(positions: np.ndarray, N: int, canvas: CanvasSpec) -> tuple[np.ndarray, np.ndarray]:
    """Canvas row/column of the top-left pixel of each (N + 1) x (N + 1) window: core's checked rule
    (:func:`ptychopinn.refinement.problem.window_corners`; ValueError off the canvas)."""
    rows, cols, _ = checked_corners(positions, N, canvas)
    return rows, cols


def gather_windows(obj: Tensor, rows: Tensor, cols: Tensor, N: int) -> Tensor:
    """(B, N + 1, N + 1) windows of ``obj`` (H, W) with top-left pixels (rows, cols) (B,) int64."""
    ar = tf.range(N + 1, dtype=tf.int64)
    width = tf.cast(tf.shape(obj)[-1], tf.int64)
    flat = (rows[:, None, None] + ar[None, :, None]) * width + (cols[:, None, None] + ar[None, None, :])
    return tf.gather(tf.reshape(obj, [-1]), flat)


def bilinear(win: Tensor, frac: Tensor) -> Tensor:
    """(B, N, N) bilinear patches from (B, N + 1, N + 1) windows and (B, 2) real (fx, fy)."""
    weights = tf.complex(frac, tf.zeros_like(frac))  # (not tf.cast: its gradient warns about the imaginary part)
    fx = weights[:, 0, None, None]
    fy = weights[:, 1, None, None]
    return ((1 - fy) * ((1 - fx) * win[:, :-1, :-1] + fx * win[:, :-1, 1:])
            + fy * ((1 - fx) * win[:, 1:, :-1] + fx * win[:, 1:, 1:]))


def robust_half_deviance(amplitude: Tensor, counts: Tensor) -> Tensor:
    """Per-pixel robust Poisson half-deviance h(a, k), differentiable in a (core's formula).

    Parameters
    ----------
    amplitude : (...) float64, predicted amplitude a >= 0, sqrt(counts)
    counts : (...) float64, measured counts k >= 0

    Returns
    -------
    (...) float64
    """
    a, k, c = amplitude, counts, ROBUST_FRACTION
    root = tf.sqrt(k)
    a0 = c * root
    inside = a >= a0
    safe_a = tf.where(inside & (a > 0), a, tf.ones_like(a))  # no inf * 0 in the unused branch
    log_k = tf.where(k > 0, tf.math.log(tf.where(k > 0, k, tf.ones_like(k))), tf.zeros_like(k))
    h_in = a * a - k * tf.math.log(safe_a * safe_a) - (k - k * log_k)
    da = a - a0
    h_out = k * (c * c - 1.0 - 2.0 * np.log(c)) + (2 * a0 - 2 * root / c) * da + (1.0 + 1.0 / (c * c)) * da * da
    return tf.where(inside, h_in, h_out)


def batch_loss(
    obj: Tensor, probe: Tensor, positions: Tensor, rows: Tensor, cols: Tensor,
    amplitudes: Tensor,
) -> Tensor:
    """Robust half-deviance L of a batch, summed over patterns and pixels (differentiable in all inputs).

    Parameters
    ----------
    obj : (h, w) complex64, the object (or the part of the canvas that holds every window)
    probe : (N, N) complex64, sqrt(counts) units
    positions : (B, 2) float64, object pixels (x, y)
    rows, cols : (B,) int64, window corners on ``obj`` (:func:`window_corners`, shifted to ``obj``)
    amplitudes : (B, N, N) float32, measured amplitudes in the unshifted FFT layout (``ifftshift``)

    Returns
    -------
    () float64
    """
    N = probe.shape[-1]
    start = positions - N / 2
    frac = tf.cast(start - tf.stop_gradient(tf.floor(start)), tf.float32)  # d/dx flows through the weights
    patches = bilinear(gather_windows(obj, rows, cols, N), frac)
    field = tf.signal.fft2d(probe * patches) / tf.cast(N, tf.complex64)  # orthonormal: 1/sqrt(N^2)
    k = tf.cast(amplitudes, tf.float64) ** 2
    return tf.reduce_sum(robust_half_deviance(tf.cast(tf.abs(field), tf.float64), k))


def loss_and_gradients(
    obj: Tensor, probe: Tensor, positions: Tensor, rows: Tensor, cols: Tensor,
    amplitudes: Tensor, *, with_probe: bool, with_positions: bool,
) -> tuple[Tensor, list[Tensor]]:
    """:func:`batch_loss` and its gradients in core's convention, by ``tf.GradientTape``.

    Returns
    -------
    loss : () float64
    gradients : list
        dL/dobj* (h, w) complex64, then dL/dP* (N, N) complex64 if ``with_probe``, then
        dL/d(x, y) (B, 2) float64 if ``with_positions``. The tape gives ``2 dL/dz*`` for
        complex sources; the complex ones are halved here.
    """
    sources = [obj] + ([probe] if with_probe else []) + ([positions] if with_positions else [])
    with tf.GradientTape() as tape:
        tape.watch(sources)
        loss = batch_loss(obj, probe, positions, rows, cols, amplitudes)
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, sources)]
    return loss, [0.5 * g if g.dtype.is_complex else g for g in grads]


class TFRefinementOperator:
    """Loss and Wirtinger gradients of refinement minibatches, by ``tf.GradientTape``.

    Parameters
    ----------
    problem : RefinementProblem
        Its amplitudes are copied to the device once.
    options : TFOptions, mapping or None
        ``inference_device`` chooses the device (as for ``infer``; None = TensorFlow's
        placement), ``intra_op_threads`` / ``inter_op_threads`` the CPU threads. The step is a
        ``tf.function`` (one trace per combination of requested gradients); ``jit_compile`` is
        not used, since the object window changes shape from batch to batch.
    """

    name: str = NAME

    def __init__(self, problem: RefinementProblem, options: object | None = None) -> None:
        opts = resolve_options(options)
        apply_threads(opts)
        self.problem = problem
        self.device = opts.inference_device
        shifted = np.fft.ifftshift(np.asarray(problem.amplitudes), axes=(-2, -1))
        with self._on_device():
            self._amplitudes = tf.constant(np.ascontiguousarray(shifted, dtype=np.float32))
        self._steps: dict[tuple[bool, bool], Callable] = {}

    def _on_device(self) -> contextlib.AbstractContextManager:
        return tf.device(self.device) if self.device else contextlib.nullcontext()

    def _step(self, probe: bool, positions: bool) -> Callable:
        """The compiled :func:`loss_and_gradients` for one combination of requested gradients."""
        if (probe, positions) not in self._steps:
            N = self.problem.N
            spec = (
                tf.TensorSpec((None, None), tf.complex64), tf.TensorSpec((N, N), tf.complex64),
                tf.TensorSpec((None, 2), tf.float64), tf.TensorSpec((None,), tf.int64),
                tf.TensorSpec((None,), tf.int64), tf.TensorSpec((None, N, N), tf.float32),
            )
            step = functools.partial(loss_and_gradients, with_probe=probe, with_positions=positions)
            self._steps[(probe, positions)] = tf.function(step, input_signature=spec)
        return self._steps[(probe, positions)]

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
        """
        idx = np.asarray(indices, dtype=np.int64)
        N = self.problem.N
        if idx.size == 0:  # as the reference: zero loss, zero gradients
            return BatchGradients(
                loss=0.0, object_gradient=np.zeros(self.problem.canvas.shape, dtype=np.complex128),
                probe_gradient=np.zeros((N, N), dtype=np.complex128) if probe else None,
                position_gradient=np.zeros((0, 2)) if positions else None,
            )
        rows, cols = window_corners(state.positions[idx], N, self.problem.canvas)
        r0, c0 = int(rows.min()), int(cols.min())
        r1, c1 = int(rows.max()) + N + 1, int(cols.max()) + N + 1
        with self._on_device():
            loss, grads = self._step(probe, positions)(
                tf.constant(state.object[r0:r1, c0:c1], dtype=tf.complex64),
                tf.constant(state.probe, dtype=tf.complex64),
                tf.constant(state.positions[idx], dtype=tf.float64),
                tf.constant(rows - r0), tf.constant(cols - c0),
                tf.gather(self._amplitudes, idx),
            )
        g_obj = np.zeros(self.problem.canvas.shape, dtype=np.complex128)
        g_obj[r0:r1, c0:c1] = grads[0].numpy()
        return BatchGradients(
            loss=float(loss.numpy()),
            object_gradient=g_obj,
            probe_gradient=grads[1].numpy().astype(np.complex128) if probe else None,
            position_gradient=grads[-1].numpy().astype(np.float64) if positions else None,
        )


def build_refinement_operator(problem: RefinementProblem, options: TFOptions) -> TFRefinementOperator:
    """The ``refine`` capability: this backend's gradient operator for ``problem``."""
    return TFRefinementOperator(problem, options)
