"""Data consistency: how well an object (with probe and positions) explains the measured patterns.

This is the number a user without ground truth can trust. Per pattern m, with predicted
amplitude ``a_m = |far_field(P E_m(O))|`` and measured amplitude ``A_m`` (sqrt counts):

- ``poisson_deviance``: Poisson half-deviance per pixel (the training loss; 0 = perfect fit;
  about 0.5 per pixel is the expected value of pure Poisson noise at high counts);
- ``amplitude_error``: relative amplitude error ``||a_m - A_m|| / ||A_m||``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ptychopinn.refinement.operator import NumpyRefinementOperator
from ptychopinn.refinement.problem import RefinementProblem, RefinementState

__all__ = ["DataConsistency", "data_consistency"]


@dataclass(frozen=True, kw_only=True, eq=False)
class DataConsistency:
    """Per-pattern data consistency of one reconstruction."""

    poisson_deviance: np.ndarray
    """(M,) float64 Poisson half-deviance per pixel of each pattern."""

    amplitude_error: np.ndarray
    """(M,) float64 relative amplitude error of each pattern."""

    def summary(self) -> dict[str, Any]:
        """Mean, median and 90th percentile of both measures (JSON-ready)."""
        out: dict[str, Any] = {"n_patterns": int(self.poisson_deviance.size)}
        for name, values in (("poisson_deviance", self.poisson_deviance), ("amplitude_error", self.amplitude_error)):
            finite = values[np.isfinite(values)]
            out[name] = {
                "mean": float(np.mean(finite)) if finite.size else None,
                "median": float(np.median(finite)) if finite.size else None,
                "p90": float(np.percentile(finite, 90)) if finite.size else None,
            }
        return out


def data_consistency(problem: RefinementProblem, state: RefinementState, *, chunk: int = 256) -> DataConsistency:
    """Per-pattern Poisson half-deviance and relative amplitude error of ``state`` on ``problem``."""
    from scipy.special import xlogy

    from ptychopinn.physics.losses import LOG_EPS

    reference = NumpyRefinementOperator(problem)
    deviance = np.empty(problem.n_patterns)
    error = np.empty(problem.n_patterns)
    for first in range(0, problem.n_patterns, chunk):
        idx = np.arange(first, min(first + chunk, problem.n_patterns))
        predicted = reference.predicted_amplitudes(state, idx, shifted=False)
        k = reference.counts(idx)
        measured = np.sqrt(k)
        lam = predicted**2
        terms = lam - k * np.log(lam + LOG_EPS) - (k - xlogy(k, k))
        deviance[idx] = terms.reshape(idx.size, -1).mean(axis=1)
        norm = np.sqrt(np.sum(measured**2, axis=(1, 2)))
        diff = np.sqrt(np.sum((predicted - measured) ** 2, axis=(1, 2)))
        error[idx] = np.where(norm > 0, diff / np.where(norm > 0, norm, 1.0), np.where(diff > 0, np.inf, 0.0))
    return DataConsistency(poisson_deviance=deviance, amplitude_error=error)
