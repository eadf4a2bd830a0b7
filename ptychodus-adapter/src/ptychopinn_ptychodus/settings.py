"""PtychoPINN-Next settings in Ptychodus's settings registry, mapped onto core's frozen configs.

Three groups (``settings.ini`` sections), named so they cannot collide with Ptychodus's
built-in ``PtychoPINN*`` and ``PtychoPINNTorch*`` groups:

- ``PtychoPINNNextModel``    -> :class:`ptychopinn.ModelConfig` (N comes from the data);
- ``PtychoPINNNextTraining`` -> :class:`ptychopinn.TrainingConfig` and the training backend;
- ``PtychoPINNNextInference``-> :class:`ptychopinn.InferenceConfig` and the inference backend.

Parameters are created **without** Ptychodus's minimum/maximum bounds, because Ptychodus
silently clamps out-of-range values; instead every value is validated by core's config
dataclasses when a run starts, and an invalid value raises :class:`SettingsError` whose
message names the ``[Group] Key`` the user has to fix.

``Backend`` accepts ``auto`` or a backend name (aliases ``tf``/``torch`` too). ``auto`` means
core's selection rule for training (``PTYCHOPINN_BACKEND``, the only installed backend,
``tensorflow`` when several are installed) and "the backend recorded in the bundle" for
inference. :meth:`PtychoPINNNextSettings.backend_choices` lists ``auto`` plus the installed
backends for a GUI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ptychodus.api.settings import SettingsRegistry

from ptychopinn.errors import ConfigError

__all__ = ["AUTO", "GROUP_INFERENCE", "GROUP_MODEL", "GROUP_TRAINING", "PtychoPINNNextSettings", "SettingsError"]

GROUP_MODEL = "PtychoPINNNextModel"
GROUP_TRAINING = "PtychoPINNNextTraining"
GROUP_INFERENCE = "PtychoPINNNextInference"
AUTO = "auto"


class SettingsError(ConfigError):
    """A PtychoPINN-Next setting holds an invalid value; the message names ``[Group] Key``."""


# core config field -> (settings group, key)
_FIELD_TO_SETTING: dict[tuple[str, str], tuple[str, str]] = {
    ("ModelConfig", "gridsize"): (GROUP_MODEL, "GridSize"),
    ("ModelConfig", "n_filters_scale"): (GROUP_MODEL, "NumFiltersScale"),
    ("ModelConfig", "amp_activation"): (GROUP_MODEL, "AmpActivation"),
    ("ModelConfig", "object_big"): (GROUP_MODEL, "ObjectBig"),
    ("ModelConfig", "probe_big"): (GROUP_MODEL, "ProbeBig"),
    ("ModelConfig", "pad_object"): (GROUP_MODEL, "PadObject"),
    ("ModelConfig", "probe_mask"): (GROUP_MODEL, "ProbeMask"),
    ("ModelConfig", "reference_transmission"): (GROUP_MODEL, "ReferenceTransmission"),
    ("ModelConfig", "intensity_scale_trainable"): (GROUP_MODEL, "IntensityScaleTrainable"),
    ("TrainingConfig", "epochs"): (GROUP_TRAINING, "NumEpochs"),
    ("TrainingConfig", "batch_size"): (GROUP_TRAINING, "BatchSize"),
    ("TrainingConfig", "learning_rate"): (GROUP_TRAINING, "LearningRate"),
    ("TrainingConfig", "nll_weight"): (GROUP_TRAINING, "NLLWeight"),
    ("TrainingConfig", "mae_weight"): (GROUP_TRAINING, "MAEWeight"),
    ("TrainingConfig", "n_groups"): (GROUP_TRAINING, "NumGroups"),
    ("TrainingConfig", "neighbor_count"): (GROUP_TRAINING, "NumNeighbors"),
    ("TrainingConfig", "validation_fraction"): (GROUP_TRAINING, "ValidationFraction"),
    ("TrainingConfig", "plateau_factor"): (GROUP_TRAINING, "PlateauFactor"),
    ("TrainingConfig", "plateau_patience"): (GROUP_TRAINING, "PlateauPatience"),
    ("TrainingConfig", "min_learning_rate"): (GROUP_TRAINING, "MinLearningRate"),
    ("TrainingConfig", "plateau_min_delta"): (GROUP_TRAINING, "PlateauMinDelta"),
    ("TrainingConfig", "early_stopping_patience"): (GROUP_TRAINING, "EarlyStoppingPatience"),
    ("TrainingConfig", "nphotons"): (GROUP_TRAINING, "NumPhotons"),
    ("TrainingConfig", "seed"): (GROUP_TRAINING, "Seed"),
    ("InferenceConfig", "batch_size"): (GROUP_INFERENCE, "BatchSize"),
    ("InferenceConfig", "neighbor_count"): (GROUP_INFERENCE, "NumNeighbors"),
    ("InferenceConfig", "normalisation"): (GROUP_INFERENCE, "Normalisation"),
    ("InferenceConfig", "stitch_weight"): (GROUP_INFERENCE, "StitchWeight"),
    ("InferenceConfig", "stitch_window_px"): (GROUP_INFERENCE, "StitchWindowPx"),
    ("InferenceConfig", "valid_threshold"): (GROUP_INFERENCE, "ValidThreshold"),
    ("InferenceConfig", "seed"): (GROUP_INFERENCE, "Seed"),
    ("RefinementConfig", "enabled"): (GROUP_INFERENCE, "Refine"),
    ("RefinementConfig", "refine_probe"): (GROUP_INFERENCE, "RefineProbe"),
    ("RefinementConfig", "refine_positions"): (GROUP_INFERENCE, "RefinePositions"),
    ("RefinementConfig", "max_iterations"): (GROUP_INFERENCE, "RefineMaxIterations"),
    ("RefinementConfig", "max_position_shift_px"): (GROUP_INFERENCE, "RefineMaxPositionShiftPx"),
    ("RefinementConfig", "holdout_fraction"): (GROUP_INFERENCE, "RefineHoldoutFraction"),
}

_FIELD_PATTERN = re.compile(r"\b(ModelConfig|TrainingConfig|InferenceConfig|RefinementConfig)\.(\w+)")


def _build(kind: Callable[..., Any], values: dict[str, Any]) -> Any:
    """Construct a core config; re-raise its ConfigError naming the Ptychodus setting."""
    try:
        return kind(**values)
    except ConfigError as exc:
        text = str(exc)
        match = _FIELD_PATTERN.search(text)
        if match and (match.group(1), match.group(2)) in _FIELD_TO_SETTING:
            group, key = _FIELD_TO_SETTING[(match.group(1), match.group(2))]
            raise SettingsError(f"Invalid PtychoPINN-Next setting [{group}] {key}: {text}") from None
        raise SettingsError(f"Invalid PtychoPINN-Next settings: {text}") from None


class PtychoPINNNextSettings:
    """The adapter's settings groups and their mapping onto core configs.

    Parameters
    ----------
    registry : SettingsRegistry
        Ptychodus's settings registry; the three groups are created in it (a second
        instance on the same registry raises Ptychodus's "Group already exists" error).
    """

    def __init__(self, registry: SettingsRegistry) -> None:
        m = registry.create_group(GROUP_MODEL)
        self.grid_size = m.create_integer_parameter("GridSize", 1)
        self.n_filters_scale = m.create_integer_parameter("NumFiltersScale", 2)
        self.amp_activation = m.create_string_parameter("AmpActivation", "sigmoid")
        self.object_big = m.create_boolean_parameter("ObjectBig", True)
        self.probe_big = m.create_boolean_parameter("ProbeBig", True)
        self.pad_object = m.create_boolean_parameter("PadObject", True)
        self.probe_mask = m.create_boolean_parameter("ProbeMask", False)
        self.reference_transmission = m.create_real_parameter("ReferenceTransmission", 0.6)
        self.intensity_scale_trainable = m.create_boolean_parameter("IntensityScaleTrainable", False)

        t = registry.create_group(GROUP_TRAINING)
        self.training_backend = t.create_string_parameter("Backend", AUTO)
        self.epochs = t.create_integer_parameter("NumEpochs", 50)
        self.batch_size = t.create_integer_parameter("BatchSize", 16)
        self.learning_rate = t.create_real_parameter("LearningRate", 1e-3)
        self.nll_weight = t.create_real_parameter("NLLWeight", 1.0)
        self.mae_weight = t.create_real_parameter("MAEWeight", 0.0)
        self.n_groups = t.create_integer_parameter("NumGroups", 0)  # 0 = one group per scan point
        self.train_neighbors = t.create_integer_parameter("NumNeighbors", 4)
        self.validation_fraction = t.create_real_parameter("ValidationFraction", 0.05)
        self.plateau_factor = t.create_real_parameter("PlateauFactor", 0.5)
        self.plateau_patience = t.create_integer_parameter("PlateauPatience", 2)
        self.min_learning_rate = t.create_real_parameter("MinLearningRate", 1e-4)
        self.plateau_min_delta = t.create_real_parameter("PlateauMinDelta", 1e-4)
        self.early_stopping_patience = t.create_integer_parameter("EarlyStoppingPatience", 3)  # < 0 = off
        self.nphotons = t.create_real_parameter("NumPhotons", 0.0)  # 0 = counts read from the data
        self.train_seed = t.create_integer_parameter("Seed", 0)

        i = registry.create_group(GROUP_INFERENCE)
        self.inference_backend = i.create_string_parameter("Backend", AUTO)
        self.inference_batch_size = i.create_integer_parameter("BatchSize", 256)
        self.inference_neighbors = i.create_integer_parameter("NumNeighbors", 4)
        self.normalisation = i.create_string_parameter("Normalisation", "data")
        self.stitch_weight = i.create_string_parameter("StitchWeight", "probe")
        self.stitch_window_px = i.create_integer_parameter("StitchWindowPx", 0)  # 0 = N/2
        self.valid_threshold = i.create_real_parameter("ValidThreshold", 0.1)
        self.inference_seed = i.create_integer_parameter("Seed", 0)
        # Physics refinement after the network (docs/user-guide.md, "Refinement and data consistency")
        self.refine = i.create_boolean_parameter("Refine", False)
        self.refine_probe = i.create_boolean_parameter("RefineProbe", False)
        self.refine_positions = i.create_boolean_parameter("RefinePositions", False)
        self.refine_max_iterations = i.create_integer_parameter("RefineMaxIterations", 60)
        self.refine_max_position_shift = i.create_real_parameter("RefineMaxPositionShiftPx", 3.0)
        self.refine_holdout_fraction = i.create_real_parameter("RefineHoldoutFraction", 0.1)

    # ------------------------------------------------------------------ configs
    def model_config(self, *, model_type: str, N: int) -> Any:
        """:class:`ptychopinn.ModelConfig` for ``model_type`` ("pinn"/"supervised") and patch side N."""
        from ptychopinn.config import ModelConfig

        try:
            return _build(
                ModelConfig,
                {
                    "N": N,
                    "gridsize": self.grid_size.get_value(),
                    "n_filters_scale": self.n_filters_scale.get_value(),
                    "model_type": model_type,
                    "amp_activation": self.amp_activation.get_value().strip().lower(),
                    "object_big": self.object_big.get_value(),
                    "probe_big": self.probe_big.get_value(),
                    "pad_object": self.pad_object.get_value(),
                    "probe_mask": self.probe_mask.get_value(),
                    "reference_transmission": self.reference_transmission.get_value(),
                    "intensity_scale_trainable": self.intensity_scale_trainable.get_value(),
                },
            )
        except SettingsError as exc:
            if "ModelConfig.N " in str(exc) or "ModelConfig.N must" in str(exc):
                raise SettingsError(
                    f"The diffraction patterns are {N} x {N} pixels; PtychoPINN models support N = 64, 128 or 256. "
                    "Crop or bin the detector to one of these sizes in Ptychodus's diffraction settings."
                ) from None
            raise

    def training_config(self) -> Any:
        """:class:`ptychopinn.TrainingConfig` from ``[PtychoPINNNextTraining]`` (backend left to the caller)."""
        from ptychopinn.config import TrainingConfig

        n_groups = self.n_groups.get_value()
        patience = self.early_stopping_patience.get_value()
        nphotons = self.nphotons.get_value()
        return _build(
            TrainingConfig,
            {
                "epochs": self.epochs.get_value(),
                "batch_size": self.batch_size.get_value(),
                "learning_rate": self.learning_rate.get_value(),
                "nll_weight": self.nll_weight.get_value(),
                "mae_weight": self.mae_weight.get_value(),
                "n_groups": None if n_groups == 0 else n_groups,
                "neighbor_count": self.train_neighbors.get_value(),
                "validation_fraction": self.validation_fraction.get_value(),
                "plateau_factor": self.plateau_factor.get_value(),
                "plateau_patience": self.plateau_patience.get_value(),
                "min_learning_rate": self.min_learning_rate.get_value(),
                "plateau_min_delta": self.plateau_min_delta.get_value(),
                "early_stopping_patience": None if patience < 0 else patience,
                "nphotons": None if nphotons == 0 else nphotons,
                "seed": self.train_seed.get_value(),
            },
        )

    def inference_config(self) -> Any:
        """:class:`ptychopinn.InferenceConfig` from ``[PtychoPINNNextInference]`` (backend left to the caller)."""
        from ptychopinn.config import InferenceConfig, RefinementConfig

        window = self.stitch_window_px.get_value()
        refinement = _build(
            RefinementConfig,
            {
                "enabled": bool(self.refine.get_value() or self.refine_probe.get_value()
                                or self.refine_positions.get_value()),
                "refine_probe": bool(self.refine_probe.get_value()),
                "refine_positions": bool(self.refine_positions.get_value()),
                "max_iterations": self.refine_max_iterations.get_value(),
                "max_position_shift_px": self.refine_max_position_shift.get_value(),
                "holdout_fraction": self.refine_holdout_fraction.get_value(),
            },
        )
        return _build(
            InferenceConfig,
            {
                "batch_size": self.inference_batch_size.get_value(),
                "neighbor_count": self.inference_neighbors.get_value(),
                "normalisation": self.normalisation.get_value().strip().lower(),
                "stitch_weight": self.stitch_weight.get_value().strip().lower(),
                "stitch_window_px": None if window == 0 else window,
                "valid_threshold": self.valid_threshold.get_value(),
                "seed": self.inference_seed.get_value(),
                "refinement": refinement,
            },
        )

    # ------------------------------------------------------------ cross-checks
    def check_training_groups(self) -> None:
        """``[PtychoPINNNextTraining] NumNeighbors`` must supply ``GridSize**2 - 1`` partners."""
        _check_neighbours(self.grid_size.get_value(), self.train_neighbors.get_value(), GROUP_TRAINING, "GridSize")

    def check_inference_groups(self, model_gridsize: int) -> None:
        """``[PtychoPINNNextInference] NumNeighbors`` against the gridsize the model was trained with."""
        _check_neighbours(model_gridsize, self.inference_neighbors.get_value(), GROUP_INFERENCE, None)

    # ----------------------------------------------------------------- backends
    @staticmethod
    def backend_choices() -> list[str]:
        """``auto`` followed by the installed backends (entry-point metadata only, no import)."""
        from ptychopinn.plugins.registry import installed_backends

        return [AUTO, *installed_backends()]

    def requested_training_backend(self) -> str | None:
        """The training backend setting: None for ``auto``, else the canonical name (not yet checked)."""
        return _requested(self.training_backend.get_value())

    def requested_inference_backend(self) -> str | None:
        """The inference backend setting: None for ``auto`` (= the bundle's backend), else the canonical name."""
        return _requested(self.inference_backend.get_value())


def _check_neighbours(gridsize: int, neighbours: int, group: str, gridsize_key: str | None) -> None:
    partners = gridsize * gridsize - 1
    if gridsize > 1 and neighbours < partners:
        source = f"[{GROUP_MODEL}] {gridsize_key} = {gridsize}" if gridsize_key else f"the model's gridsize {gridsize}"
        raise SettingsError(
            f"Invalid PtychoPINN-Next setting [{group}] NumNeighbors = {neighbours}: {source} groups "
            f"{gridsize * gridsize} patterns, i.e. {partners} partners drawn from the K nearest neighbours; "
            f"set NumNeighbors >= {partners}."
        )


def _requested(value: str) -> str | None:
    from ptychopinn.plugins.names import canonical_name

    text = (value or "").strip()
    if not text or text.lower() == AUTO:
        return None
    return canonical_name(text)
