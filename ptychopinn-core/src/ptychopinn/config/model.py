"""Model configuration: the architecture and physics of the network, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ptychopinn.config._checks import check_bool, check_choice, check_float, check_int

ModelType = Literal["pinn", "supervised"]
AmpActivation = Literal["sigmoid", "swish", "softplus", "relu"]

SUPPORTED_PATCH_SIZES: tuple[int, ...] = (64, 128, 256)
ARCHITECTURES: tuple[str, ...] = ("published", "fast")
"""Architectures core knows (:mod:`ptychopinn.architecture`)."""


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Architecture and forward-physics settings of a PtychoPINN model.

    One schema for every backend; a bundle stores it so that any backend can rebuild the
    same network. See ``docs/architecture-model.md`` and ``docs/conventions.md``.
    """

    N: int = 64
    """Patch (and diffraction pattern) side in pixels; one of 64, 128, 256."""

    architecture: str = "published"
    """Network architecture: ``"published"`` (the original PtychoPINN CNN, ~1.6 GFLOP per
    pattern at N=64, n=2) or ``"fast"`` (cost-aware, ~0.2 GFLOP); see ``docs/architecture-model.md``."""

    gridsize: int = 1
    """Side of the group of neighbouring patterns a sample holds; C = gridsize**2 patterns."""

    n_filters_scale: int = 2
    """Width multiplier of the CNN (N=64: encoder 32n, 64n, 128n filters)."""

    model_type: ModelType = "pinn"
    """``"pinn"``: self-supervised physics loss on the diffraction; ``"supervised"``: MAE on
    ground-truth object patches (amplitude and phase)."""

    amp_activation: AmpActivation = "sigmoid"
    """Activation of the amplitude head."""

    object_big: bool = True
    """For gridsize > 1: merge the C predicted patches on one canvas and re-extract them
    (the real-space overlap constraint) before the physics model."""

    probe_big: bool = True
    """Add the low-resolution border branch that predicts the object outside the central
    N/2 x N/2 window of each patch."""

    pad_object: bool = True
    """Predict the object at full resolution only in the central N/2 x N/2 window."""

    probe_mask: bool = False
    """Multiply the probe by a hard disk of radius N/4 before illumination."""

    reference_transmission: float = 0.6
    """RMS object amplitude under the probe that the normalised probe is scaled to explain:
    sum |P|^2 = (N/2)^2 / reference_transmission^2 (see ``docs/conventions.md``)."""

    intensity_scale_trainable: bool = False
    """Train a global log-scale w multiplying the predicted amplitude by exp(w) (w starts at 0)."""

    def __post_init__(self) -> None:
        owner = "ModelConfig"
        check_int(owner, "N", self.N)
        check_choice(owner, "N", self.N, SUPPORTED_PATCH_SIZES)
        check_choice(owner, "architecture", self.architecture, ARCHITECTURES)
        check_int(owner, "gridsize", self.gridsize, minimum=1)
        check_int(owner, "n_filters_scale", self.n_filters_scale, minimum=1)
        check_choice(owner, "model_type", self.model_type, ("pinn", "supervised"))
        check_choice(owner, "amp_activation", self.amp_activation, ("sigmoid", "swish", "softplus", "relu"))
        for name in ("object_big", "probe_big", "pad_object", "probe_mask", "intensity_scale_trainable"):
            check_bool(owner, name, getattr(self, name))
        check_float(owner, "reference_transmission", self.reference_transmission, minimum=0.0, strict_minimum=True)

    @property
    def channels(self) -> int:
        """Patterns per sample, C = gridsize**2."""
        return self.gridsize * self.gridsize
