"""Records of a refinement problem: the measured data, the current state, a batch's gradients.

These are what cross the core <-> backend boundary for refinement (numpy arrays and frozen
dataclasses only, like :mod:`ptychopinn.results`).

Geometry (``docs/conventions.md``): the refinement canvas is an integer-aligned grid whose
pixel (row 0, column 0) is object position ``canvas.origin``; pattern m illuminates the
bilinearly interpolated N x N patch whose pixel (N/2, N/2) sits on ``positions[m]``, exactly
as in the simulator, :func:`ptychopinn.iterative.pie_reconstruct` and the stitcher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ptychopinn.physics.patches import patch_origin
from ptychopinn.results import CanvasSpec

__all__ = ["BatchGradients", "RefinementProblem", "RefinementState", "bilinear_geometry", "window_corners"]


@dataclass(frozen=True, kw_only=True, eq=False)
class RefinementProblem:
    """The measured data a refinement fits (fixed during the run)."""

    amplitudes: np.ndarray
    """(M, N, N) float32 measured amplitudes, sqrt(counts)."""

    canvas: CanvasSpec
    """Geometry of the object canvas being refined (large enough for every allowed position)."""

    @property
    def n_patterns(self) -> int:
        """M."""
        return int(self.amplitudes.shape[0])

    @property
    def N(self) -> int:
        """Pattern side in pixels."""
        return int(self.amplitudes.shape[-1])


@dataclass(frozen=True, kw_only=True, eq=False)
class RefinementState:
    """What refinement changes: object, probe, positions."""

    object: np.ndarray
    """(H, W) complex128 object transmission on ``problem.canvas``."""

    probe: np.ndarray
    """(N, N) complex128 probe in sqrt(counts) units (``|far_field(probe * patch)|**2`` = expected counts)."""

    positions: np.ndarray
    """(M, 2) float64 scan positions, object pixels (x, y)."""

    def copy(self) -> RefinementState:
        """A deep copy (the engine updates arrays in place)."""
        return RefinementState(object=self.object.copy(), probe=self.probe.copy(), positions=self.positions.copy())


@dataclass(frozen=True, kw_only=True, eq=False)
class BatchGradients:
    """Loss and Wirtinger gradients of one batch (what a backend's refinement operator returns).

    ``L`` is the *robust* Poisson half-deviance summed over the batch's pixels
    (:func:`ptychopinn.refinement.operator.robust_half_deviance`); gradients with respect to
    complex arrays are the conjugate Wirtinger derivatives ``dL/dz* = (dL/dRe z + i dL/dIm z) / 2``.
    """

    loss: float
    """L, summed over the batch's patterns and pixels."""

    object_gradient: np.ndarray
    """(H, W) complex128 dL/dO* on the canvas."""

    probe_gradient: np.ndarray | None
    """(N, N) complex128 dL/dP*, or None when not requested."""

    position_gradient: np.ndarray | None
    """(B, 2) float64 dL/d(x, y) per batch pattern, object pixels^-1, or None when not requested."""


def bilinear_geometry(positions: np.ndarray, N: int, canvas: CanvasSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer window corners on the canvas and bilinear weights of each position.

    Parameters
    ----------
    positions : (B, 2) float64, object pixels (x, y)
    N : int
    canvas : CanvasSpec

    Returns
    -------
    rows, cols : (B,) int64
        Canvas row/column of the top-left pixel of each (N + 1) x (N + 1) window.
    frac : (B, 2) float64
        (fx, fy) in [0, 1): the weights of the window's right column / bottom row.
    """
    corner, frac = patch_origin(positions, N)
    rows = corner[:, 1] - int(round(canvas.origin[1]))
    cols = corner[:, 0] - int(round(canvas.origin[0]))
    return rows, cols, frac


def window_corners(positions: np.ndarray, N: int, canvas: CanvasSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`bilinear_geometry`, checked: every (N + 1) x (N + 1) window lies on the canvas.

    The one bounds rule of every refinement operator (core's reference and the backends').

    Returns
    -------
    rows, cols : (B,) int64
    frac : (B, 2) float64

    Raises
    ------
    ValueError
        A window leaves the canvas (a position moved further than the canvas margin allows).
    """
    H, W = canvas.shape
    rows, cols, frac = bilinear_geometry(positions, N, canvas)
    if rows.size and (rows.min() < 0 or cols.min() < 0 or rows.max() + N + 1 > H or cols.max() + N + 1 > W):
        raise ValueError(
            f"refinement: a position moved off the {H}x{W} refinement canvas (rows {rows.min()}..{rows.max()}, "
            f"columns {cols.min()}..{cols.max()}); the canvas margin must exceed max_position_shift_px"
        )
    return rows, cols, frac
