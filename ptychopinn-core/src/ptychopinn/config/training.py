"""Training configuration (backend-neutral)."""

from __future__ import annotations

from dataclasses import dataclass

from ptychopinn.config._checks import check_float, check_int
from ptychopinn.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """How to train a model. Framework execution options (device, precision, distribution
    strategy) are not here: they live in the backend's own options dataclass."""

    epochs: int = 50
    """Maximum number of passes over the training groups."""

    batch_size: int = 16
    """Groups per optimisation step."""

    learning_rate: float = 1e-3
    """Initial Adam learning rate."""

    nll_weight: float = 1.0
    """Weight of the Poisson negative log-likelihood on photon counts (taken relative to the
    saturated model, :func:`ptychopinn.physics.poisson_half_deviance`, so a perfect fit is 0)."""

    mae_weight: float = 0.0
    """Weight of the amplitude mean absolute error (normalised amplitude units)."""

    n_groups: int | None = None
    """Number of training groups; ``None`` = one group per scan point."""

    neighbor_count: int = 4
    """K of the K-nearest-neighbour pool a group is drawn from (gridsize > 1)."""

    validation_fraction: float = 0.05
    """Fraction of groups held out for validation (no pattern is shared with training)."""

    plateau_factor: float = 0.5
    """Learning-rate factor of the plateau schedule."""

    plateau_patience: int = 2
    """Epochs without validation improvement before the learning rate is reduced."""

    min_learning_rate: float = 1e-4
    """Floor of the plateau schedule."""

    plateau_min_delta: float = 1e-4
    """Smallest decrease of the monitored loss (absolute, loss units) that counts as an
    improvement, for the plateau schedule and for early stopping."""

    early_stopping_patience: int | None = 3
    """Epochs without improvement before training stops; ``None`` disables early stopping."""

    nphotons: float | None = None
    """Mean photons per pattern to assume. ``None`` (default): the stored amplitudes are
    sqrt(counts) and the counts are read from the data. A number: the amplitudes are in
    arbitrary units and are rescaled so that the mean total counts per pattern equal it."""

    seed: int = 0
    """Seed of grouping, the split, weight initialisation and shuffling."""

    backend: str | None = None
    """Backend to train with; ``None`` = core's selection rule."""

    def __post_init__(self) -> None:
        owner = "TrainingConfig"
        check_int(owner, "epochs", self.epochs, minimum=1)
        check_int(owner, "batch_size", self.batch_size, minimum=1)
        check_float(owner, "learning_rate", self.learning_rate, minimum=0.0, strict_minimum=True)
        check_float(owner, "nll_weight", self.nll_weight, minimum=0.0)
        check_float(owner, "mae_weight", self.mae_weight, minimum=0.0)
        if self.nll_weight == 0 and self.mae_weight == 0:
            raise ConfigError("TrainingConfig.nll_weight and TrainingConfig.mae_weight are both 0: nothing to train on")
        if self.n_groups is not None:
            check_int(owner, "n_groups", self.n_groups, minimum=1)
        check_int(owner, "neighbor_count", self.neighbor_count, minimum=1)
        check_float(owner, "validation_fraction", self.validation_fraction, minimum=0.0, maximum=0.5)
        check_float(owner, "plateau_factor", self.plateau_factor, minimum=0.0, maximum=1.0, strict_minimum=True)
        check_int(owner, "plateau_patience", self.plateau_patience, minimum=0)
        check_float(owner, "min_learning_rate", self.min_learning_rate, minimum=0.0)
        check_float(owner, "plateau_min_delta", self.plateau_min_delta, minimum=0.0)
        if self.early_stopping_patience is not None:
            check_int(owner, "early_stopping_patience", self.early_stopping_patience, minimum=0)
        if self.nphotons is not None:
            check_float(owner, "nphotons", self.nphotons, minimum=0.0, strict_minimum=True)
        check_int(owner, "seed", self.seed, minimum=0)
        if self.backend is not None and not isinstance(self.backend, str):
            raise ConfigError(f"TrainingConfig.backend must be a backend name or None, got {self.backend!r}")
