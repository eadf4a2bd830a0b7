"""The refinement loop: preconditioned maximum-likelihood updates stopped by held-out patterns.

Each sweep visits the refinement patterns in random minibatches. For a batch with gradients
from the operator (``dL/dO*``, ``dL/dP*``, ``dL/dx``; :mod:`ptychopinn.refinement.operator`)::

    O  -= a_O * (dL/dO*) / 2 / ((1 - beta) I_O + beta max I_O)     I_O = sum_m E_m^T |P|^2
    P  -= a_P * (dL/dP*) / 2 / ((1 - beta) I_P + beta max I_P)     I_P = sum_m |E_m(O)|^2
    x_m -= C_m^-1 (dL/dx_m) / 4      (Gauss-Newton; C_m = Re <J, J>, J = P dE_m/dx; clipped)

Half the Wirtinger gradient of the Poisson half-deviance is, near a fit, the amplitude residual
``psi - psi'`` of rPIE, so step 1 is rPIE's step and the fixed point is the Poisson maximum
likelihood. A fraction of the patterns is held out: after every sweep their Poisson loss is
evaluated and the state with the lowest held-out loss is returned (the held-out rule), so
refinement cannot fit noise at low dose beyond what the data support. If no sweep improves the
held-out loss, the initial state is returned unchanged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ptychopinn.config.refinement import RefinementConfig
from ptychopinn.refinement.operator import NumpyRefinementOperator
from ptychopinn.refinement.problem import BatchGradients, RefinementProblem, RefinementState

__all__ = ["RefinementOperator", "RefinementReport", "RefinementResult", "refine", "split_holdout"]


class RefinementOperator(Protocol):
    """What a backend's ``ptychopinn_refinement_operator`` hook returns (see the backend guide)."""

    name: str

    def gradients(
        self, state: RefinementState, indices: np.ndarray, *, probe: bool = False, positions: bool = False
    ) -> BatchGradients:
        """Loss and Wirtinger gradients of the patterns ``indices`` at ``state``."""
        ...


@dataclass(frozen=True, kw_only=True)
class RefinementReport:
    """What a refinement run did (JSON-ready through :meth:`to_dict`)."""

    operator: str
    """Who computed the gradients: ``numpy`` (core's reference) or a backend name."""

    iterations_run: int
    """Sweeps run."""

    best_iteration: int
    """Sweep whose state was kept (0 = the initial state: refinement made no held-out progress)."""

    stopped_by: str
    """``held-out`` (no held-out progress for ``patience`` sweeps), ``max_iterations``, ``non-finite``
    (a sweep produced NaN/Inf: the best finite state is kept) or ``disabled``."""

    n_refined_patterns: int
    """Patterns the updates used."""

    n_heldout_patterns: int
    """Patterns held out for the stopping rule."""

    heldout_loss: tuple[float, ...]
    """Held-out Poisson half-deviance per pixel before sweep 1 and after every sweep."""

    train_loss: tuple[float, ...]
    """Robust half-deviance per pixel over each sweep's batches (measured before each update)."""

    initial_loss: float
    """Poisson half-deviance per pixel of all patterns at the initial state (after the scale fit)."""

    final_loss: float
    """The same at the returned state."""

    object_scale: float
    """Global factor applied to the initial object so that its total counts match the data."""

    position_shift_rms_px: float
    """RMS of the returned positions' change from the measured ones, object pixels."""

    refined_probe: bool
    """Whether the probe was refined."""

    refined_positions: bool
    """Whether positions were refined."""

    wall_time_s: float
    """Seconds spent."""

    smoothing_px: float | None = None
    """Step smoothing of the stage whose state was kept (None when the start was kept)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        from dataclasses import asdict

        out = asdict(self)
        out["heldout_loss"] = list(self.heldout_loss)
        out["train_loss"] = list(self.train_loss)
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class RefinementResult:
    """Refined state, its problem and the report."""

    state: RefinementState
    """Refined object (on ``problem.canvas``), probe and positions."""

    problem: RefinementProblem
    """The data it was fitted to."""

    report: RefinementReport
    """What happened."""


_STAGE_GAIN_FRACTION = 0.1
"""A coarse stage also ends when a sweep gains less than this fraction of the stage's best sweep
(diminishing returns), so high-dose data reach the fine stages quickly."""


def smoothing_schedule(config: RefinementConfig) -> tuple[float, ...]:
    """Step-smoothing widths of the stages: ``smoothing_px``, halved while >= 1, then 0 (coarse to
    fine); just ``(smoothing_px,)`` without ``coarse_to_fine``."""
    if not config.coarse_to_fine or config.smoothing_px <= 0:
        return (config.smoothing_px,)
    widths = [config.smoothing_px]
    while widths[-1] / 2 >= 1.0:
        widths.append(widths[-1] / 2)
    return (*widths, 0.0)


def split_holdout(n_patterns: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(refine, heldout) pattern indices; at least one held out when ``fraction > 0`` and M >= 2."""
    rng = np.random.default_rng(seed)
    n_hold = int(round(fraction * n_patterns))
    if fraction > 0 and n_hold == 0 and n_patterns >= 2:
        n_hold = 1
    order = rng.permutation(n_patterns)
    return np.sort(order[n_hold:]), np.sort(order[:n_hold])


def fit_object_scale(reference: NumpyRefinementOperator, state: RefinementState, *, chunk: int = 256) -> float:
    """Poisson maximum-likelihood global intensity scale: ``s^2 = sum k / sum |F(P E(O))|^2``."""
    predicted = measured = 0.0
    for first in range(0, reference.problem.n_patterns, chunk):
        idx = np.arange(first, min(first + chunk, reference.problem.n_patterns))
        predicted += float(np.sum(reference.predicted_amplitudes(state, idx, shifted=False) ** 2))
        measured += float(np.sum(reference.counts(idx)))
    return math.sqrt(measured / predicted) if predicted > 0 and measured > 0 else 1.0


def mean_loss(reference: NumpyRefinementOperator, state: RefinementState, indices: np.ndarray,
              *, chunk: int = 256) -> float:
    """Poisson half-deviance per pixel averaged over ``indices`` (exact, float64)."""
    if indices.size == 0:
        return float("nan")
    losses = [reference.pattern_losses(state, indices[i : i + chunk]) for i in range(0, indices.size, chunk)]
    return float(np.mean(np.concatenate(losses)))


class _Sweeper:
    """Applies the preconditioned updates of one sweep (state arrays are changed in place)."""

    def __init__(self, operator: RefinementOperator, reference: NumpyRefinementOperator,
                 config: RefinementConfig, measured: np.ndarray) -> None:
        self.op, self.ref, self.cfg, self.measured = operator, reference, config, measured
        self.sigma = config.smoothing_px
        """Current smoothing of object steps (object pixels; changes between coarse-to-fine stages)."""

    @staticmethod
    def _normalise(x: np.ndarray, beta: float) -> np.ndarray:
        peak = float(x.max()) if x.size else 0.0
        return (1.0 - beta) * x + beta * peak + 1e-12 * max(peak, 1e-30)

    def run(self, state: RefinementState, indices: np.ndarray, rng: np.random.Generator, *,
            update_object: bool, probe: bool, positions: bool) -> float:
        cfg, N2 = self.cfg, self.ref.problem.N ** 2
        order = rng.permutation(indices)
        total = 0.0
        for first in range(0, order.size, cfg.batch_size):
            idx = np.sort(order[first : first + cfg.batch_size])
            g = self.op.gradients(state, idx, probe=probe, positions=positions)
            total += g.loss
            o_norm = self.ref.object_illumination(state.probe, state.positions[idx]) if update_object else None
            p_norm = self.ref.probe_illumination(state, idx) if probe else None
            curvature = self.ref.position_curvature(state, idx) if positions else None
            if o_norm is not None:
                obj = state.object
                step = cfg.object_step * 0.5 * g.object_gradient / self._normalise(o_norm, cfg.regularisation)
                obj -= self._smooth(step) if self.sigma > 0 else step
            if p_norm is not None and g.probe_gradient is not None:
                pr = state.probe
                pr -= cfg.probe_step * 0.5 * g.probe_gradient / self._normalise(p_norm, cfg.regularisation)
            if curvature is not None and g.position_gradient is not None:
                self._move(state, idx, curvature, g.position_gradient)
        return total / max(order.size * N2, 1)

    def _smooth(self, step: np.ndarray) -> np.ndarray:
        """Gaussian low-pass of an object step (``smoothing_px`` standard deviation, object pixels)."""
        from scipy.ndimage import gaussian_filter

        sigma = self.sigma
        return np.asarray(gaussian_filter(step.real, sigma) + 1j * gaussian_filter(step.imag, sigma))

    def _move(self, state: RefinementState, idx: np.ndarray, curvature: np.ndarray, grad: np.ndarray) -> None:
        cfg = self.cfg
        damping = 1e-3 * np.trace(curvature, axis1=1, axis2=2)[:, None, None] * np.eye(2) + 1e-12 * np.eye(2)
        step = -np.linalg.solve(curvature + damping, 0.25 * grad[:, :, None])[:, :, 0]
        step = np.clip(step, -cfg.position_step_px, cfg.position_step_px)
        pos = state.positions
        offset = np.clip(pos[idx] + step - self.measured[idx], -cfg.max_position_shift_px, cfg.max_position_shift_px)
        pos[idx] = self.measured[idx] + offset


def refine(
    problem: RefinementProblem,
    initial: RefinementState,
    config: RefinementConfig,
    *,
    operator: RefinementOperator | None = None,
    fit_scale: bool = True,
    progress: Callable[[int, float, float], None] | None = None,
    on_sweep: Callable[[int, RefinementState], None] | None = None,
) -> RefinementResult:
    """Refine ``initial`` against ``problem`` (see the module docstring).

    Parameters
    ----------
    problem : RefinementProblem
    initial : RefinementState
        Not modified.
    config : RefinementConfig
    operator : RefinementOperator, optional
        A backend's gradient operator; default core's numpy reference.
    fit_scale : bool
        First scale the object so that its total predicted counts equal the measured ones.
    progress : callable(sweep, train_loss, heldout_loss), optional
    on_sweep : callable(sweep, state), optional
        Called with the current state after every sweep (diagnostics; must not modify it).

    Returns
    -------
    RefinementResult
    """
    start = time.perf_counter()
    reference = NumpyRefinementOperator(problem)
    op: RefinementOperator = operator if operator is not None else reference
    state = initial.copy()
    scale = fit_object_scale(reference, state) if fit_scale else 1.0
    obj = state.object
    obj *= scale
    measured = initial.positions.copy()
    everything = np.arange(problem.n_patterns)
    initial_loss = mean_loss(reference, state, everything)
    fit, hold = split_holdout(problem.n_patterns, config.holdout_fraction, config.seed)
    rng = np.random.default_rng(config.seed + 1)
    sweeper = _Sweeper(op, reference, config, measured)
    start_state = state.copy()
    best_state, best_it = start_state, 0  # never changed in place: improvements store copies
    best_loss = mean_loss(reference, state, hold)
    held: list[float] = [best_loss]
    trained: list[float] = []
    stopped_by = "max_iterations"
    it = 0
    velocity: np.ndarray | None = None
    # without held-out patterns nothing decides when a stage ends: run the last (finest) stage only
    sigmas = smoothing_schedule(config) if hold.size else smoothing_schedule(config)[-1:]
    stage, last_improvement, best_sigma, stage_gain = 0, 0, sigmas[0], 0.0
    sweeper.sigma = sigmas[0]
    for it in range(1, config.max_iterations + 1):
        probe = config.refine_probe and it >= config.probe_start_iteration
        positions = config.refine_positions and it >= config.positions_start_iteration and sweeper.sigma == 0
        before = state.object.copy() if config.momentum > 0 else None
        trained.append(sweeper.run(state, fit, rng, update_object=True, probe=probe, positions=positions))
        if before is not None:  # sweep-level heavy-ball step: continue along this sweep's change
            step = state.object - before
            if velocity is not None:
                step += config.momentum * velocity
            obj = state.object
            obj += config.momentum * step
            velocity = step
        if positions and hold.size:  # held-out patterns follow the object (positions only, no object update)
            sweeper.run(state, hold, rng, update_object=False, probe=False, positions=True)
        loss = mean_loss(reference, state, hold)
        if not (np.isfinite(trained[-1]) and np.all(np.isfinite(state.object))):
            stopped_by = "non-finite"  # a diverged or broken operator: keep the best finite state
            held.append(float("nan"))
            break
        held.append(loss)
        if progress is not None:
            progress(it, trained[-1], loss)
        if on_sweep is not None:
            on_sweep(it, state)
        if not hold.size:
            best_state, best_it = state, it
            continue
        gain = held[-2] - loss if np.isfinite(held[-2]) else 0.0
        stage_gain = max(stage_gain, gain)
        diminishing = stage + 1 < len(sigmas) and 0 < gain < _STAGE_GAIN_FRACTION * stage_gain
        if loss < best_loss - config.min_delta:
            best_state, best_it, best_loss, best_sigma = state.copy(), it, loss, sweeper.sigma
            last_improvement = it
        if diminishing or (it - last_improvement >= config.patience and best_it != it):
            if stage + 1 < len(sigmas):  # coarse-to-fine: continue from the best state with finer steps
                stage += 1
                sweeper.sigma = sigmas[stage]
                state, velocity, last_improvement, stage_gain = best_state.copy(), None, it, 0.0
                continue
            stopped_by = "held-out"
            break
    state = best_state
    if config.final_pass and best_it > 0:
        sweeper.run(state, everything, rng, update_object=True, probe=config.refine_probe,
                    positions=config.refine_positions)
    final_loss = mean_loss(reference, state, everything)
    if best_it > 0 and not (final_loss <= initial_loss and np.all(np.isfinite(state.object))):
        # never return a worse (or non-finite) fit than the start
        state, best_it, final_loss = start_state, 0, initial_loss
    shift = state.positions - measured
    report = RefinementReport(
        operator=getattr(op, "name", type(op).__name__),
        iterations_run=it if config.max_iterations else 0,
        best_iteration=best_it,
        stopped_by=stopped_by if config.max_iterations else "disabled",
        n_refined_patterns=int(fit.size),
        n_heldout_patterns=int(hold.size),
        heldout_loss=tuple(held),
        train_loss=tuple(trained),
        initial_loss=initial_loss,
        final_loss=final_loss,
        object_scale=scale,
        position_shift_rms_px=float(np.sqrt(np.mean(np.sum(shift**2, axis=1)))) if shift.size else 0.0,
        smoothing_px=float(best_sigma) if best_it > 0 else None,
        refined_probe=config.refine_probe,
        refined_positions=config.refine_positions,
        wall_time_s=time.perf_counter() - start,
    )
    return RefinementResult(state=state, problem=problem, report=report)
