"""The complete differentiable forward model of PtychoPINN, in numpy (the oracle).

Every backend implements a differentiable twin of :func:`forward_amplitude` and
:func:`group_object` and is tested against them (``docs/conventions.md``)::

    canvas   = merge(O, offsets)           if C > 1 and object_big    (B, M, M)
             = pad(O[:, 0])                if C > 1 and not object_big
    patches  = extract(canvas, offsets)    if C > 1, else O            (B, C, N, N)
    A_hat    = exp(log_scale) * |far_field(probe * patches)|           (B, C, N, N)

All quantities are in network units (see :mod:`ptychopinn.physics.normalisation`); the
probe is the normalised probe (:func:`ptychopinn.physics.normalise_probe`).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ptychopinn.physics.illumination import illuminate
from ptychopinn.physics.overlap import canvas_size_for, extract_patches, merge_patches, pad_center
from ptychopinn.physics.propagation import far_field_amplitude

__all__ = ["constrained_patches", "forward_amplitude", "group_object"]


def _group_canvas(
    object_patches: np.ndarray, offsets: np.ndarray, *, object_big: bool, canvas_size: int | None
) -> np.ndarray:
    B, C, N, _ = object_patches.shape
    M = canvas_size if canvas_size is not None else canvas_size_for(offsets, N)
    if object_big:
        canvas, _ = merge_patches(object_patches, offsets, canvas_size=M)
        return canvas
    if C != 1 and object_patches.shape[1] != 1:
        raise ValueError("object_big=False expects one predicted patch per group, shape (B, 1, N, N)")
    return pad_center(object_patches[:, 0], M)


def constrained_patches(
    object_patches: npt.ArrayLike,
    offsets: npt.ArrayLike | None,
    *,
    object_big: bool = True,
    canvas_size: int | None = None,
) -> np.ndarray:
    """Object patches after the overlap constraint (identity for gridsize 1).

    Parameters
    ----------
    object_patches : (B, C', N, N) complex
        Network output; C' = C (object_big) or 1 (not object_big).
    offsets : (B, C, 2) float, object pixels (dx, dy), or None when C = 1
    object_big : bool
    canvas_size : int, optional
        Canvas side M; default :func:`canvas_size_for`.

    Returns
    -------
    (B, C, N, N) complex
    """
    o = np.asarray(object_patches)
    if offsets is None or np.asarray(offsets).shape[1] == 1:
        return o
    off = np.asarray(offsets, dtype=np.float64)
    canvas = _group_canvas(o, off, object_big=object_big, canvas_size=canvas_size)
    return extract_patches(canvas, off, N=o.shape[-1])


def forward_amplitude(
    object_patches: npt.ArrayLike,
    probe: npt.ArrayLike,
    offsets: npt.ArrayLike | None = None,
    *,
    object_big: bool = True,
    log_scale: float = 0.0,
    canvas_size: int | None = None,
) -> np.ndarray:
    """Predicted diffraction amplitudes of a batch of groups (network units).

    Parameters
    ----------
    object_patches : (B, C', N, N) complex
    probe : (N, N) complex, normalised probe
    offsets : (B, C, 2) float, object pixels, or None for gridsize 1
    object_big : bool
    log_scale : float
        Global log amplitude scale w (0 unless trained).
    canvas_size : int, optional

    Returns
    -------
    (B, C, N, N) float
    """
    patches = constrained_patches(object_patches, offsets, object_big=object_big, canvas_size=canvas_size)
    return math.exp(log_scale) * far_field_amplitude(illuminate(patches, probe))


def group_object(
    object_patches: npt.ArrayLike,
    offsets: npt.ArrayLike | None,
    *,
    object_big: bool = True,
) -> np.ndarray:
    """The object patch a group contributes to the reconstruction (inference output).

    gridsize 1: the patch itself. gridsize > 1: the central N x N of the group canvas,
    centred on the group centre.

    Returns
    -------
    (B, N, N) complex
    """
    o = np.asarray(object_patches)
    if offsets is None or np.asarray(offsets).shape[1] == 1:
        return o[:, 0]
    off = np.asarray(offsets, dtype=np.float64)
    # Only the central N x N of the group canvas is kept, and the zero-fill translation commutes
    # with cropping: merging on an N x N canvas gives exactly that crop, without the M x M work.
    return _group_canvas(o, off, object_big=object_big, canvas_size=o.shape[-1])
