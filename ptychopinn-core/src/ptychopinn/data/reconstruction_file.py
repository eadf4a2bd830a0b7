"""``reconstruction.npz``: the one writer and reader of a reconstruction file (``docs/data-contract.md``).

Keys (all written atomically in one NPZ):

==========================  =====================  ==============================================
key                         shape, dtype           meaning
==========================  =====================  ==============================================
``object``                  (H, W) complex64       final object (refined when refinement ran)
``weight``                  (H, W) float32         summed illumination / stitching weight
``valid``                   (H, W) bool            sufficiently lit pixels
``canvas_origin``           (2,) float64           object position (x0, y0) of canvas pixel (0, 0)
``backend``                 (1,) str               backend that ran the network
``model_backend``           (1,) str               backend that trained the model
``network_object``          (H, W) complex64       network-only object (only when refined)
``probe``                   (N, N) complex64       refined probe (only when the probe was refined)
``positions``               (M, 2) float64         refined positions (x, y) (only when refined)
``pattern_deviance``        (M,) float64           per-pattern Poisson half-deviance of ``object``
``pattern_amplitude_error``  (M,) float64          per-pattern relative amplitude error of ``object``
==========================  =====================  ==============================================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.api import Reconstruction

__all__ = ["reconstruction_arrays", "write_reconstruction"]


def reconstruction_arrays(result: Reconstruction) -> dict[str, np.ndarray]:
    """The arrays of ``reconstruction.npz`` for ``result`` (see the module docstring)."""
    obj = result.object
    arrays: dict[str, np.ndarray] = {
        "object": obj.object,
        "weight": obj.weight,
        "valid": obj.valid,
        "canvas_origin": np.asarray(obj.canvas.origin, dtype=np.float64),
        "backend": np.asarray([result.backend]),
        "model_backend": np.asarray([result.model_backend]),
    }
    if result.network_object is not None:
        arrays["network_object"] = result.network_object.object
    if result.refined_probe is not None:
        arrays["probe"] = np.asarray(result.refined_probe, dtype=np.complex64)
    if result.refined_positions is not None:
        arrays["positions"] = np.asarray(result.refined_positions, dtype=np.float64)
    final = result.consistency.get("refined") or result.consistency.get("network")
    if final is not None:
        arrays["pattern_deviance"] = final.poisson_deviance
        arrays["pattern_amplitude_error"] = final.amplitude_error
    return arrays


def write_reconstruction(path: str | os.PathLike[str], result: Reconstruction) -> Path:
    """Write ``result`` as a reconstruction NPZ (atomically); returns the path."""
    from ptychopinn.data.npz import write_npz

    return write_npz(path, reconstruction_arrays(result))
