"""Data-fidelity losses on diffraction amplitudes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["LOG_EPS", "amplitude_mae", "poisson_half_deviance", "poisson_nll"]

LOG_EPS: float = 1e-12
"""Added to the Poisson rate inside the logarithm (rate 0 would give -inf)."""


def poisson_nll(
    predicted_amplitude: npt.ArrayLike,
    observed_amplitude: npt.ArrayLike,
    *,
    full: bool = False,
) -> float:
    """Mean Poisson negative log-likelihood of observed counts.

    Rate ``lam = predicted_amplitude**2`` and counts ``k = observed_amplitude**2``, both in
    photon counts (amplitudes in sqrt(counts)):

        mean( lam - k * log(lam + LOG_EPS) [+ log(k!)] )

    Parameters
    ----------
    predicted_amplitude, observed_amplitude : (..., N, N) float, sqrt(counts)
    full : bool
        Add the data-only term ``log(k!)`` (does not change gradients).

    Returns
    -------
    float
        Mean over every element.
    """
    lam = np.asarray(predicted_amplitude, dtype=np.float64) ** 2
    k = np.asarray(observed_amplitude, dtype=np.float64) ** 2
    terms = lam - k * np.log(lam + LOG_EPS)
    if full:
        from scipy.special import gammaln

        terms = terms + gammaln(k + 1.0)
    return float(np.mean(terms))


def poisson_half_deviance(predicted_amplitude: npt.ArrayLike, observed_amplitude: npt.ArrayLike) -> float:
    """Mean Poisson NLL minus its minimum over the rate (the saturated model ``lam = k``).

    The training loss of every backend (``docs/conventions.md``): it has the gradient of
    :func:`poisson_nll` but is 0 for a perfect fit and positive otherwise, so loss values,
    plateau detection and early stopping are on an O(1) scale instead of riding on a
    data-dependent offset of order the counts (about -2300 per pixel at 1e6 photons/pattern):

        mean( lam - k * log(lam + LOG_EPS) - (k - k * log(k)) ),   0 * log(0) = 0

    Parameters
    ----------
    predicted_amplitude, observed_amplitude : (..., N, N) float, sqrt(counts)

    Returns
    -------
    float
        Mean over every element (half the mean unit Poisson deviance).
    """
    from scipy.special import xlogy

    k = np.asarray(observed_amplitude, dtype=np.float64) ** 2
    return poisson_nll(predicted_amplitude, observed_amplitude) - float(np.mean(k - xlogy(k, k)))


def amplitude_mae(predicted_amplitude: npt.ArrayLike, observed_amplitude: npt.ArrayLike) -> float:
    """Mean absolute error between amplitudes (any consistent units)."""
    a = np.asarray(predicted_amplitude, dtype=np.float64)
    b = np.asarray(observed_amplitude, dtype=np.float64)
    return float(np.mean(np.abs(a - b)))
