"""Physics refinement after the network: options of :func:`ptychopinn.refinement.refine`.

Refinement is maximum-likelihood fitting of the object (optionally the probe and the scan
positions) to the measured patterns under the Poisson model the network was trained with
(``docs/conventions.md``, "Refinement"). When it stops is decided by data: a fraction of the
patterns is held out, and the state with the lowest held-out Poisson loss is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from ptychopinn.config._checks import check_float, check_int
from ptychopinn.errors import ConfigError

__all__ = ["RefinementConfig"]


@dataclass(frozen=True, kw_only=True)
class RefinementConfig:
    """What to refine and when to stop (all step sizes are dimensionless multiples of the
    illumination-normalised rPIE-type step; 1 is a full step)."""

    enabled: bool = False
    """Run refinement after the network's stitched object (``--refine`` on the command line)."""

    max_iterations: int = 60
    """Upper bound on sweeps over the refinement patterns (the held-out rule usually stops earlier)."""

    refine_probe: bool = False
    """Also refine the probe (complex, per pixel), starting at ``probe_start_iteration``."""

    refine_positions: bool = False
    """Also refine the scan positions (sub-pixel), starting at ``positions_start_iteration``."""

    object_step: float = 1.0
    """Object step size (1 = the full illumination-normalised step)."""

    probe_step: float = 1.0
    """Probe step size (1 = the full object-intensity-normalised step)."""

    regularisation: float = 0.1
    """rPIE's beta in [0, 1]: blend of the local illumination (0) and its maximum (1) in the
    step normaliser; larger values damp updates in weakly lit pixels."""

    smoothing_px: float = 4.0
    """Standard deviation (object pixels) of a Gaussian low-pass applied to object steps (0 = none):
    a noise-aware preconditioner. With ``coarse_to_fine`` it is the first stage's width."""

    coarse_to_fine: bool = True
    """Stages of decreasing step smoothing (``smoothing_px``, halved while >= 1 px, then 0); a stage
    ends when the held-out loss stalls for ``patience`` sweeps and the next continues from the best
    state, so low-dose data stop at a coarse stage (noise is not fitted) and high-dose data reach
    full resolution. Without held-out patterns only the last stage runs."""

    momentum: float = 0.0
    """Sweep-level heavy-ball factor in [0, 1): after each sweep the object moves on by this
    fraction of its accumulated change (accelerates the slowly converging low frequencies)."""

    position_step_px: float = 0.5
    """Largest position change per sweep and pattern, object pixels."""

    max_position_shift_px: float = 3.0
    """Largest total position change from the measured position, object pixels (bound)."""

    probe_start_iteration: int = 2
    """First sweep (1-based) that updates the probe."""

    positions_start_iteration: int = 2
    """First sweep (1-based) that updates the positions."""

    holdout_fraction: float = 0.1
    """Fraction of patterns held out to decide when to stop (0 = no held-out rule: run
    ``max_iterations`` sweeps and keep the last state)."""

    patience: int = 3
    """Stop after this many sweeps without a held-out improvement larger than ``min_delta``."""

    min_delta: float = 1e-4
    """Held-out Poisson half-deviance (per pixel) improvement that counts as progress."""

    batch_size: int = 32
    """Patterns per update (minibatch)."""

    final_pass: bool = False
    """After the held-out rule chose the state, one more sweep over all patterns (held-out included)."""

    seed: int = 0
    """Seed of the held-out split and of the pattern order."""

    def __post_init__(self) -> None:
        owner = "RefinementConfig"
        for name in ("enabled", "refine_probe", "refine_positions", "final_pass", "coarse_to_fine"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{owner}.{name} must be true or false, got {getattr(self, name)!r}")
        check_int(owner, "max_iterations", self.max_iterations, minimum=0)
        check_float(owner, "object_step", self.object_step, minimum=0.0, maximum=2.0)
        check_float(owner, "probe_step", self.probe_step, minimum=0.0, maximum=2.0)
        check_float(owner, "regularisation", self.regularisation, minimum=0.0, maximum=1.0)
        check_float(owner, "smoothing_px", self.smoothing_px, minimum=0.0, maximum=16.0)
        check_float(owner, "momentum", self.momentum, minimum=0.0, maximum=0.99)
        check_float(owner, "position_step_px", self.position_step_px, minimum=0.0, strict_minimum=True)
        check_float(owner, "max_position_shift_px", self.max_position_shift_px, minimum=0.0, maximum=64.0)
        check_int(owner, "probe_start_iteration", self.probe_start_iteration, minimum=1)
        check_int(owner, "positions_start_iteration", self.positions_start_iteration, minimum=1)
        check_float(owner, "holdout_fraction", self.holdout_fraction, minimum=0.0, maximum=0.5)
        check_int(owner, "patience", self.patience, minimum=1)
        check_float(owner, "min_delta", self.min_delta, minimum=0.0)
        check_int(owner, "batch_size", self.batch_size, minimum=1)
        check_int(owner, "seed", self.seed, minimum=0)
