"""The post-network stage of :func:`ptychopinn.reconstruct`: data consistency, optional refinement,
and the check that a scan's probe matches the model's training probe."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ptychopinn.config.refinement import RefinementConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.refinement.consistency import DataConsistency, data_consistency
from ptychopinn.refinement.engine import RefinementOperator, RefinementReport, fit_object_scale, refine
from ptychopinn.refinement.operator import NumpyRefinementOperator
from ptychopinn.refinement.problem import RefinementProblem, RefinementState
from ptychopinn.refinement.setup import initial_state, to_stitched
from ptychopinn.results import StitchedObject

__all__ = ["PostNetwork", "ProbeMismatchWarning", "object_consistency", "post_network", "probe_mismatch"]

PROBE_MISMATCH_TOLERANCE: float = 0.1
"""Relative probe difference (after removing the global phase and normalising the energy) above
which reconstructing with a model trained on another probe warns."""


class ProbeMismatchWarning(UserWarning):
    """The scan's probe differs from the probe the model was trained with."""


def probe_mismatch(scan_probe: np.ndarray, model_probe: np.ndarray) -> float:
    """``min_phi || p_s - e^{i phi} p_m || / || p_m ||`` with both probes scaled to unit energy.

    Returns ``inf`` when the shapes differ or a probe is zero.
    """
    a = np.asarray(scan_probe, dtype=np.complex128)
    b = np.asarray(model_probe, dtype=np.complex128)
    if a.shape != b.shape:
        return float("inf")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if not (na > 0 and nb > 0):
        return float("inf")
    a, b = a / na, b / nb
    overlap = np.vdot(b, a)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.linalg.norm(a - phase * b))


@dataclass(frozen=True, kw_only=True, eq=False)
class PostNetwork:
    """What the post-network stage produced."""

    object: StitchedObject
    """The final object: refined when refinement ran and was kept, else the network's."""

    network_object: StitchedObject
    """The network-only stitched object."""

    consistency: dict[str, DataConsistency]
    """``"network"`` (network object after the global scale fit) and, when refinement ran, ``"refined"``."""

    refinement: RefinementReport | None
    """The refinement run, or None."""

    probe: np.ndarray | None
    """(N, N) complex64 refined probe, or None when the probe was not refined."""

    positions: np.ndarray | None
    """(M, 2) float64 refined positions (object pixels (x, y)), or None when not refined."""

    probe_mismatch: float | None
    """:func:`probe_mismatch` of the scan's and the model's probe (None without a model probe)."""


def post_network(
    scan: ScanData,
    stitched: StitchedObject,
    config: RefinementConfig,
    *,
    valid_threshold: float,
    model_probe: np.ndarray | None = None,
    consistency: bool = True,
    operator_factory: Callable[[RefinementProblem], RefinementOperator] | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> PostNetwork:
    """Data consistency of the network's object, then (if enabled) refinement and its consistency.

    Parameters
    ----------
    scan : ScanData
    stitched : StitchedObject
        The network's stitched object.
    config : RefinementConfig
    valid_threshold : float
        Of the refined object's valid mask (``InferenceConfig.valid_threshold``).
    model_probe : (N, N) complex, optional
        The model's training probe; a relative difference above :data:`PROBE_MISMATCH_TOLERANCE`
        issues a :class:`ProbeMismatchWarning`.
    consistency : bool
        Compute data consistency (network and refined).
    operator_factory : callable(problem) -> operator, optional
        The backend's refinement operator (``Backend.refinement_operator``); default core's numpy one.
    progress : callable(sweep, train_loss, heldout_loss), optional
    """
    mismatch = None
    if model_probe is not None:
        mismatch = probe_mismatch(scan.probe, model_probe)
        if mismatch > PROBE_MISMATCH_TOLERANCE:
            where = f"{scan.source}: " if scan.source else ""
            warnings.warn(
                f"{where}the scan's probe differs from the model's training probe by {mismatch:.1%} "
                f"(tolerance {PROBE_MISMATCH_TOLERANCE:.0%}); the network's answer may be poor — refinement "
                "(--refine) fits the object to this scan's data",
                ProbeMismatchWarning,
                stacklevel=3,
            )
    results: dict[str, DataConsistency] = {}
    problem, start = initial_state(scan, stitched, config)
    if consistency:
        results["network"] = _scaled_consistency(problem, start)
    if not config.enabled:
        return PostNetwork(object=stitched, network_object=stitched, consistency=results, refinement=None,
                           probe=None, positions=None, probe_mismatch=mismatch)
    operator = operator_factory(problem) if operator_factory is not None else None
    result = refine(problem, start, config, operator=operator, progress=progress)
    state: RefinementState = result.state
    if consistency:
        results["refined"] = data_consistency(problem, state)
    refined = to_stitched(problem, state, stitched.canvas, valid_threshold=valid_threshold, backend=stitched.backend)
    return PostNetwork(
        object=refined,
        network_object=stitched,
        consistency=results,
        refinement=result.report,
        probe=state.probe.astype(np.complex64) if config.refine_probe else None,
        positions=state.positions.copy() if config.refine_positions else None,
        probe_mismatch=mismatch,
    )


def _scaled_consistency(problem: RefinementProblem, state: RefinementState) -> DataConsistency:
    scaled = state.copy()
    obj = scaled.object
    obj *= fit_object_scale(NumpyRefinementOperator(problem), scaled)
    return data_consistency(problem, scaled)


def object_consistency(
    scan: ScanData, stitched: StitchedObject, *, probe: np.ndarray | None = None, positions: np.ndarray | None = None
) -> DataConsistency:
    """Data consistency of any stitched object with ``scan`` (after the global intensity scale fit).

    Parameters
    ----------
    scan : ScanData
    stitched : StitchedObject
        Object, valid mask and canvas (e.g. read back from ``reconstruction.npz``).
    probe : (N, N) complex, optional
        A refined probe to use instead of ``scan.probe``.
    positions : (M, 2) float, optional
        Refined positions to use instead of ``scan.positions``.
    """
    import dataclasses

    config, pos = RefinementConfig(), None
    if positions is not None:
        pos = np.asarray(positions, dtype=np.float64)
        if pos.shape != scan.positions.shape:
            raise ValueError(f"positions: expected shape {scan.positions.shape} like the scan's, found {pos.shape}")
        moved = float(np.abs(pos - scan.positions).max()) if pos.size else 0.0
        # the canvas stays the one of the measured positions, widened by the largest change
        config = RefinementConfig(refine_positions=True, max_position_shift_px=min(64.0, float(np.ceil(moved))))
    problem, state = initial_state(scan, stitched, config, probe=probe)
    if pos is not None:
        state = dataclasses.replace(state, positions=pos.copy())
    return _scaled_consistency(problem, state)
