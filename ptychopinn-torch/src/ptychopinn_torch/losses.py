"""Training losses: core's formulas (:mod:`ptychopinn.physics.array_losses`) in torch.

Means over every element; channels-first tensors.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch

from ptychopinn.physics.array_losses import pinn_loss_with, supervised_loss_with

__all__ = ["OPS", "pinn_loss", "supervised_loss"]

OPS = SimpleNamespace(log=torch.log, xlogy=torch.special.xlogy, abs=torch.abs, angle=torch.angle, mean=torch.mean)
"""torch's functions for core's loss formulas."""


def pinn_loss(
    predicted: torch.Tensor, observed: torch.Tensor, *, input_scale: float, nll_weight: float, mae_weight: float
) -> torch.Tensor:
    """:func:`~ptychopinn.physics.array_losses.pinn_loss_with` on (B, C, N, N) float amplitudes in
    network units: a () tensor."""
    return pinn_loss_with(
        predicted, observed, input_scale=input_scale, nll_weight=nll_weight, mae_weight=mae_weight, ops=OPS
    )


def supervised_loss(obj: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """:func:`~ptychopinn.physics.array_losses.supervised_loss_with` on (B, C, N, N) complex patches."""
    return supervised_loss_with(obj, truth, OPS)
