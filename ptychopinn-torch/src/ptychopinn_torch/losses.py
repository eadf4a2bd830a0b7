"""Training losses (twins of ``ptychopinn.physics.losses``), means over every element."""

from __future__ import annotations

import torch

from ptychopinn.physics import LOG_EPS

__all__ = ["pinn_loss", "supervised_loss"]


def pinn_loss(
    predicted: torch.Tensor,
    observed: torch.Tensor,
    *,
    input_scale: float,
    nll_weight: float,
    mae_weight: float,
) -> torch.Tensor:
    """Self-supervised loss on diffraction amplitudes in network units.

    ``nll_weight * mean(lam - k log(lam + 1e-12) - (k - k log k)) + mae_weight * mean|A_hat - X|``
    with counts ``lam = (A_hat / s)^2`` and ``k = (X / s)^2``, ``s = input_scale``: the Poisson NLL
    relative to the saturated model (``ptychopinn.physics.poisson_half_deviance``), 0 for a perfect fit.

    Parameters
    ----------
    predicted, observed : (B, C, N, N) float, network units
    input_scale : float
        ``Normalisation.input_scale`` (network units per sqrt(count)).
    """
    total = predicted.new_zeros(())
    if nll_weight:
        lam = (predicted / input_scale) ** 2
        k = (observed / input_scale) ** 2
        # Subtract the saturated NLL k - k log k element by element: it carries no gradient, and the
        # float32 rounding of the two O(k log k) terms averages out over the mean (about 1e-5 absolute).
        saturated = k - torch.special.xlogy(k, k)
        total = total + nll_weight * torch.mean(lam - k * torch.log(lam + LOG_EPS) - saturated)
    if mae_weight:
        total = total + mae_weight * torch.mean(torch.abs(predicted - observed))
    return total


def supervised_loss(obj: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """``mean|amp - |GT|| + mean|phase - angle(GT)|`` for (B, C, N, N) complex patches."""
    return torch.mean(torch.abs(obj.abs() - truth.abs())) + torch.mean(torch.abs(torch.angle(obj) - torch.angle(truth)))
