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
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
from ptychopinn.refinement.problem import RefinementProblem
from ptychopinn.refinement.windowed import (
    RefinementWindow,
    WindowedRefinementOperator,
    WindowGradients,
    robust_half_deviance_with,
    unshifted_amplitudes,
)

from ptychopinn_tf._env import apply_threads, tf_keras
from ptychopinn_tf.options import TFOptions, resolve_options

if TYPE_CHECKING:  # annotations only: TensorFlow is imported through tf_keras() at run time
    from tensorflow import Tensor

tf, _ = tf_keras()

__all__ = ["TFRefinementOperator", "batch_loss", "bilinear", "build_refinement_operator", "gather_windows",
           "loss_and_gradients", "robust_half_deviance"]

NAME = "tensorflow"
OPS = SimpleNamespace(sqrt=tf.sqrt, log=tf.math.log, where=tf.where, ones_like=tf.ones_like, zeros_like=tf.zeros_like)
"""TensorFlow's element-wise functions for core's :func:`~ptychopinn.refinement.windowed.robust_half_deviance_with`."""


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
    """Per-pixel robust Poisson half-deviance h(a, k) (..., float64), differentiable in a: core's
    formula (:func:`~ptychopinn.refinement.windowed.robust_half_deviance_with`) in TensorFlow."""
    return robust_half_deviance_with(amplitude, counts, OPS)


def batch_loss(
    obj: Tensor, probe: Tensor, positions: Tensor, rows: Tensor, cols: Tensor,
    amplitudes: Tensor,
) -> Tensor:
    """Robust half-deviance L of a batch (() float64), summed over patterns and pixels, differentiable
    in every input: ``object``, ``probe``, ``positions``, ``rows``, ``cols`` of core's
    :class:`~ptychopinn.refinement.windowed.RefinementWindow` as tensors, and the batch's measured
    amplitudes (B, N, N) in the unshifted FFT layout."""
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


class TFRefinementOperator(WindowedRefinementOperator):
    """Loss and Wirtinger gradients of refinement minibatches, by ``tf.GradientTape``.

    Core's :class:`~ptychopinn.refinement.windowed.WindowedRefinementOperator` handles empty
    batches, the window region and the canvas-sized result; this class runs the tape.

    Parameters
    ----------
    problem : RefinementProblem
        Its amplitudes are copied to the device once.
    options : TFOptions, mapping or None
        ``inference_device`` chooses the device (as for the predictor; None = TensorFlow's
        placement), ``intra_op_threads`` / ``inter_op_threads`` the CPU threads. The step is a
        ``tf.function`` (one trace per combination of requested gradients); ``jit_compile`` is
        not used, since the object window changes shape from batch to batch.
    """

    name: str = NAME

    def __init__(self, problem: RefinementProblem, options: object | None = None) -> None:
        super().__init__(problem)
        opts = resolve_options(options)
        apply_threads(opts)
        self.device = opts.inference_device
        with self.context():
            self._amplitudes = tf.constant(unshifted_amplitudes(problem, np.float32))
        self._steps: dict[tuple[bool, bool], Callable] = {}

    def context(self) -> contextlib.AbstractContextManager:
        """The device scope of ``inference_device`` (none when it is None)."""
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

    def window_gradients(self, window: RefinementWindow, *, probe: bool, positions: bool) -> WindowGradients:
        """The tape step on one batch's window region (complex64 forward model)."""
        loss, grads = self._step(probe, positions)(
            tf.constant(window.object, dtype=tf.complex64),
            tf.constant(window.probe, dtype=tf.complex64),
            tf.constant(window.positions, dtype=tf.float64),
            tf.constant(window.rows), tf.constant(window.cols),
            tf.gather(self._amplitudes, window.indices),
        )
        return WindowGradients(
            loss=float(loss.numpy()),
            object_gradient=grads[0].numpy(),
            probe_gradient=grads[1].numpy() if probe else None,
            position_gradient=grads[-1].numpy() if positions else None,
        )


def build_refinement_operator(problem: RefinementProblem, options: TFOptions) -> TFRefinementOperator:
    """The ``refine`` capability: this backend's gradient operator for ``problem``."""
    return TFRefinementOperator(problem, options)
