"""From a scan and a stitched object to a refinement problem, and back to a stitched object."""

from __future__ import annotations

import math

import numpy as np

from ptychopinn.config.refinement import RefinementConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.refinement.operator import NumpyRefinementOperator
from ptychopinn.refinement.problem import RefinementProblem, RefinementState
from ptychopinn.results import CanvasSpec, StitchedObject
from ptychopinn.stitching import crop_to_canvas, default_canvas, valid_mask

__all__ = ["initial_state", "refinement_canvas", "to_stitched"]


def refinement_canvas(positions: np.ndarray, N: int, config: RefinementConfig) -> CanvasSpec:
    """:func:`~ptychopinn.stitching.default_canvas` of the scan, widened on every side by the
    largest allowed position change plus one pixel (so a refined position never leaves it)."""
    base = default_canvas(positions, N)
    margin = (math.ceil(config.max_position_shift_px) + 1) if config.refine_positions else 1
    return CanvasSpec(
        shape=(base.shape[0] + 2 * margin, base.shape[1] + 2 * margin),
        origin=(base.origin[0] - margin, base.origin[1] - margin),
    )


def _relative(canvas: CanvasSpec, frame: CanvasSpec) -> CanvasSpec:
    """``canvas`` expressed with ``frame``'s pixel (0, 0) as the origin."""
    origin = (canvas.origin[0] - frame.origin[0], canvas.origin[1] - frame.origin[1])
    return CanvasSpec(shape=canvas.shape, origin=origin)


def initial_state(
    scan: ScanData, start: StitchedObject | None, config: RefinementConfig, *, probe: np.ndarray | None = None
) -> tuple[RefinementProblem, RefinementState]:
    """The problem and starting state for refining ``scan``.

    Parameters
    ----------
    scan : ScanData
        Measured amplitudes, positions and probe.
    start : StitchedObject or None
        The network's stitched object (any canvas); None starts from a flat object (1 everywhere).
        Pixels it has no value for (zero weight) are filled with the median modulus of the valid ones.
    config : RefinementConfig
    probe : (N, N) complex, optional
        Starting probe instead of ``scan.probe``.

    Returns
    -------
    problem, state
    """
    positions = np.asarray(scan.positions, dtype=np.float64)
    canvas = refinement_canvas(positions, scan.N, config)
    obj = np.ones(canvas.shape, dtype=np.complex128)
    if start is not None:
        valid = np.asarray(start.valid, dtype=bool)
        known = (np.asarray(start.weight) > 0) if np.shape(start.weight) == valid.shape else valid
        known = (known & (np.abs(start.object) > 0)) | valid
        source = np.asarray(start.object, dtype=np.complex128)
        fill = float(np.median(np.abs(source[valid]))) if valid.any() else 1.0
        source = np.where(known, source, fill)
        cut, inside = crop_to_canvas(source, _relative(canvas, start.canvas), dtype=np.complex128)
        obj = np.where(inside, cut, fill)
    problem = RefinementProblem(amplitudes=np.asarray(scan.diffraction), canvas=canvas)
    state = RefinementState(
        object=obj,
        probe=np.array(scan.probe if probe is None else probe, dtype=np.complex128),
        positions=positions.copy(),
    )
    return problem, state


def to_stitched(
    problem: RefinementProblem, state: RefinementState, output: CanvasSpec, *, valid_threshold: float,
    backend: str | None = None,
) -> StitchedObject:
    """The refined object cut onto ``output`` (normally the network's canvas), with its coverage.

    ``weight`` is the refined probe's summed intensity at the refined positions and ``valid``
    follows :func:`~ptychopinn.stitching.valid_mask`; the object is 0 where nothing is lit
    (weight 0), like the stitcher's.
    """
    reference = NumpyRefinementOperator(problem)
    coverage = reference.object_illumination(state.probe, state.positions)
    rel = _relative(output, problem.canvas)
    obj, inside = crop_to_canvas(state.object, rel, dtype=np.complex128)
    weight, _ = crop_to_canvas(coverage, rel, dtype=np.float64)
    valid = valid_mask(weight, valid_threshold) & inside
    obj[~(inside & (weight > 0))] = 0
    return StitchedObject(object=obj.astype(np.complex64), weight=weight.astype(np.float32), valid=valid,
                          canvas=output, backend=backend)
