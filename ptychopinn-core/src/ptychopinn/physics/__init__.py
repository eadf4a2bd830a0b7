"""Numpy physics oracle: the one reference implementation of PtychoPINN's conventions.

Pure functions on ndarrays. Backends implement differentiable twins and are tested against
these (``docs/conventions.md``).
"""

from ptychopinn.physics.forward import constrained_patches, forward_amplitude, group_object
from ptychopinn.physics.illumination import illuminate, normalise_probe, probe_disk_mask
from ptychopinn.physics.losses import LOG_EPS, amplitude_mae, poisson_half_deviance, poisson_nll
from ptychopinn.physics.normalisation import Normalisation, estimate_normalisation, mean_counts_per_pattern
from ptychopinn.physics.overlap import (
    MERGE_EPS,
    canvas_size_for,
    center_window,
    crop_center,
    extract_patches,
    merge_patches,
    merge_patches_unnormalised,
    pad_center,
)
from ptychopinn.physics.propagation import far_field, far_field_amplitude, inverse_far_field
from ptychopinn.physics.translation import translate, translate_adjoint

__all__ = [
    "LOG_EPS",
    "MERGE_EPS",
    "Normalisation",
    "amplitude_mae",
    "canvas_size_for",
    "center_window",
    "constrained_patches",
    "crop_center",
    "estimate_normalisation",
    "extract_patches",
    "far_field",
    "far_field_amplitude",
    "forward_amplitude",
    "group_object",
    "illuminate",
    "inverse_far_field",
    "mean_counts_per_pattern",
    "merge_patches",
    "merge_patches_unnormalised",
    "normalise_probe",
    "pad_center",
    "poisson_half_deviance",
    "poisson_nll",
    "probe_disk_mask",
    "translate",
    "translate_adjoint",
]
