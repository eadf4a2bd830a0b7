"""``Predictor``: a built network, ready to run (backend API 2.0).

A backend with the ``infer`` capability returns one from ``ptychopinn_build_predictor``.
Core owns everything around it: it caches predictors per model (one build per model and
options), scales the input by ``Normalisation.network_scale``, slices the groups into
batches of ``InferenceConfig.batch_size``, merges a group's patches into one
(:func:`ptychopinn.physics.group_object`, numpy) and attaches the positions. The
predictor only runs the network of :mod:`ptychopinn.architecture` on canonical,
channels-first numpy arrays.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Predictor"]


@runtime_checkable
class Predictor(Protocol):
    """The network of one model on one backend.

    Attributes
    ----------
    backend : str
        Canonical name of the backend that runs it.
    """

    backend: str

    def predict(self, diffraction: np.ndarray) -> np.ndarray:
        """Run the network on one batch.

        Parameters
        ----------
        diffraction : (B, C, N, N) float32
            Diffraction amplitudes in network units (stored amplitude x ``network_scale``),
            channel ``c`` = group member ``c``. B is at most ``InferenceConfig.batch_size``.

        Returns
        -------
        (B, C_out, N, N) complex64
            The object patches ``amp * exp(i * phase)`` the architecture outputs (before the
            physics): ``C_out = C`` when ``object_big`` else 1. Finite.
        """
        ...  # pragma: no cover
