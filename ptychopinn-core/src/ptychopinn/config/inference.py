"""Inference and stitching configuration (backend-neutral)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ptychopinn.config._checks import check_choice, check_float, check_int
from ptychopinn.config.refinement import RefinementConfig
from ptychopinn.errors import ConfigError

NormalisationSource = Literal["data", "model"]
StitchWeight = Literal["probe", "window"]


@dataclass(frozen=True, kw_only=True)
class InferenceConfig:
    """How to reconstruct a scan with a trained model."""

    batch_size: int = 256
    """Groups per forward pass."""

    neighbor_count: int = 4
    """K of the K-nearest-neighbour pool for gridsize > 1 (one group per scan point)."""

    normalisation: NormalisationSource = "data"
    """``"data"``: compute the input scale on the scan being reconstructed (robust to a
    different dose); ``"model"``: reuse the constants stored with the model."""

    stitch_weight: StitchWeight = "probe"
    """Weight of each patch when stitching: probe intensity |P|^2 or a flat central window."""

    stitch_window_px: int | None = None
    """Side of the central window for ``stitch_weight="window"`` (default N/2)."""

    valid_threshold: float = 0.1
    """A canvas pixel is valid (sufficiently lit) when its summed weight is at least this
    fraction of the median summed weight over pixels that received any weight."""

    seed: int = 0
    """Seed of grouping (gridsize > 1)."""

    backend: str | None = None
    """Backend to infer with; ``None`` = the backend recorded in the bundle."""

    refinement: RefinementConfig = field(default_factory=RefinementConfig)
    """Physics refinement after the network (``[inference.refinement]`` in a configuration file)."""

    data_consistency: bool = True
    """Report per-pattern data consistency (Poisson deviance, amplitude error) of the network's
    object and of the refined one."""

    def __post_init__(self) -> None:
        owner = "InferenceConfig"
        check_int(owner, "batch_size", self.batch_size, minimum=1)
        check_int(owner, "neighbor_count", self.neighbor_count, minimum=1)
        check_choice(owner, "normalisation", self.normalisation, ("data", "model"))
        check_choice(owner, "stitch_weight", self.stitch_weight, ("probe", "window"))
        if self.stitch_window_px is not None:
            check_int(owner, "stitch_window_px", self.stitch_window_px, minimum=1)
        check_float(owner, "valid_threshold", self.valid_threshold, minimum=0.0, maximum=1.0)
        check_int(owner, "seed", self.seed, minimum=0)
        if not isinstance(self.refinement, RefinementConfig):
            raise ConfigError(
                f"InferenceConfig.refinement must be a RefinementConfig, got {type(self.refinement).__name__}"
            )
        if not isinstance(self.data_consistency, bool):
            raise ConfigError(f"InferenceConfig.data_consistency must be true or false, got {self.data_consistency!r}")
        if self.backend is not None and not isinstance(self.backend, str):
            raise ConfigError(f"InferenceConfig.backend must be a backend name or None, got {self.backend!r}")
