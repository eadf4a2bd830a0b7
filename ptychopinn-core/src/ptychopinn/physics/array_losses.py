"""The training losses written once for any array library (the backends' autograd twins).

:func:`pinn_loss_with` and :func:`supervised_loss_with` are the formulas every training backend
minimises, expressed with a small namespace of element-wise functions (:class:`LossOps`:
``torch`` itself, or a namespace of ``tf.math`` functions) so that each framework differentiates
the same code. The numpy definitions they agree with are :mod:`ptychopinn.physics.losses`.
Framework-free: nothing here imports a framework.
"""

from __future__ import annotations

from typing import Any, Protocol

from ptychopinn.physics.losses import LOG_EPS

__all__ = ["LossOps", "pinn_loss_with", "supervised_loss_with"]


class LossOps(Protocol):
    """Element-wise functions and a full mean, from one array library."""

    def log(self, x: Any, /) -> Any: ...
    def xlogy(self, x: Any, y: Any, /) -> Any: ...
    def abs(self, x: Any, /) -> Any: ...
    def angle(self, x: Any, /) -> Any: ...
    def mean(self, x: Any, /) -> Any: ...


def pinn_loss_with(
    predicted: Any, observed: Any, *, input_scale: float, nll_weight: float, mae_weight: float, ops: LossOps
) -> Any:
    """Self-supervised loss on diffraction amplitudes in network units.

    ``nll_weight * mean(lam - k log(lam + 1e-12) - (k - k log k)) + mae_weight * mean|A_hat - X|``
    with counts ``lam = (A_hat / s)^2`` and ``k = (X / s)^2``, ``s = input_scale``: the Poisson NLL
    relative to the saturated model (:func:`ptychopinn.physics.poisson_half_deviance`), 0 for a
    perfect fit. The saturated term ``k - k log k`` carries no gradient; it is subtracted element by
    element, so the float32 rounding of the two O(k log k) terms averages out over the mean.

    Parameters
    ----------
    predicted, observed : (B, C, N, N) float arrays of ``ops``' library, network units
    input_scale : float
        ``Normalisation.input_scale`` (network units per sqrt(count)).
    nll_weight, mae_weight : float
        ``TrainingConfig`` weights; a zero weight skips its term.
    ops : LossOps

    Returns
    -------
    () float array of the same library
    """
    total = None
    if nll_weight:
        lam = (predicted / input_scale) ** 2
        k = (observed / input_scale) ** 2
        total = nll_weight * ops.mean(lam - k * ops.log(lam + LOG_EPS) - (k - ops.xlogy(k, k)))
    if mae_weight:
        mae = mae_weight * ops.mean(ops.abs(predicted - observed))
        total = mae if total is None else total + mae
    return 0.0 * ops.mean(predicted) if total is None else total


def supervised_loss_with(obj: Any, truth: Any, ops: LossOps) -> Any:
    """``mean|amp - |GT|| + mean|phase - angle(GT)|`` of (B, C, N, N) complex patches.

    ``obj`` may have one channel, broadcast over the group's channels. Returns a () float array.
    """
    return ops.mean(ops.abs(ops.abs(obj) - ops.abs(truth))) + ops.mean(ops.abs(ops.angle(obj) - ops.angle(truth)))
