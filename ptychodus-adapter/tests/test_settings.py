"""Settings map onto core's frozen configs; invalid values are errors naming the setting."""

from __future__ import annotations

import pytest
from ptychodus.api.settings import SettingsRegistry

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn_ptychodus.settings import PtychoPINNNextSettings, SettingsError


@pytest.fixture()
def settings():
    return PtychoPINNNextSettings(SettingsRegistry())


def test_defaults_equal_core_defaults(settings):
    assert settings.model_config(model_type="pinn", N=64) == ModelConfig(N=64)
    assert settings.model_config(model_type="supervised", N=128) == ModelConfig(N=128, model_type="supervised")
    assert settings.training_config() == TrainingConfig()
    assert settings.inference_config() == InferenceConfig()


def test_values_are_mapped(settings):
    settings.grid_size.set_value(2)
    settings.amp_activation.set_value(" Swish ")
    settings.epochs.set_value(3)
    settings.n_groups.set_value(40)
    settings.early_stopping_patience.set_value(-1)
    settings.nphotons.set_value(1e5)
    settings.stitch_weight.set_value("window")
    settings.stitch_window_px.set_value(20)
    m = settings.model_config(model_type="pinn", N=64)
    t = settings.training_config()
    i = settings.inference_config()
    assert (m.gridsize, m.amp_activation) == (2, "swish")
    assert (t.epochs, t.n_groups, t.early_stopping_patience, t.nphotons) == (3, 40, None, 1e5)
    assert (i.stitch_weight, i.stitch_window_px) == ("window", 20)


@pytest.mark.parametrize(
    ("attribute", "value", "setting"),
    [
        ("grid_size", 0, "[PtychoPINNNextModel] GridSize"),
        ("amp_activation", "tanhh", "[PtychoPINNNextModel] AmpActivation"),
        ("epochs", 0, "[PtychoPINNNextTraining] NumEpochs"),
        ("learning_rate", -1.0, "[PtychoPINNNextTraining] LearningRate"),
        ("validation_fraction", 0.9, "[PtychoPINNNextTraining] ValidationFraction"),
        ("normalisation", "dataset", "[PtychoPINNNextInference] Normalisation"),
        ("valid_threshold", 2.0, "[PtychoPINNNextInference] ValidThreshold"),
        ("refine_max_iterations", -1, "[PtychoPINNNextInference] RefineMaxIterations"),
        ("refine_holdout_fraction", 0.9, "[PtychoPINNNextInference] RefineHoldoutFraction"),
    ],
)
def test_invalid_values_name_the_setting(settings, attribute, value, setting):
    getattr(settings, attribute).set_value(value)
    with pytest.raises(SettingsError) as info:
        settings.model_config(model_type="pinn", N=64)
        settings.training_config()
        settings.inference_config()
    assert setting in str(info.value)


def test_refinement_settings_map_onto_the_refinement_config(settings):
    from ptychopinn.config import RefinementConfig

    settings.refine_positions.set_value(True)  # implies refinement
    settings.refine_max_iterations.set_value(12)
    settings.refine_max_position_shift.set_value(2.5)
    r = settings.inference_config().refinement
    assert r == RefinementConfig(enabled=True, refine_positions=True, max_iterations=12, max_position_shift_px=2.5)


def test_unsupported_pattern_size_is_explained(settings):
    with pytest.raises(SettingsError, match="64, 128 or 256"):
        settings.model_config(model_type="pinn", N=96)


def test_settings_file_round_trip(tmp_path, settings):
    registry = SettingsRegistry()
    first = PtychoPINNNextSettings(registry)
    first.training_backend.set_value("torch")
    first.epochs.set_value(7)
    registry.save_settings(tmp_path / "settings.ini")
    text = (tmp_path / "settings.ini").read_text()
    assert "[PtychoPINNNextTraining]" in text and "Backend = torch" in text
    other_registry = SettingsRegistry()
    second = PtychoPINNNextSettings(other_registry)
    other_registry.open_settings(tmp_path / "settings.ini")
    assert second.training_config().epochs == 7
    assert second.requested_training_backend() == "pytorch"  # alias resolved
    assert second.requested_inference_backend() is None  # auto = the bundle's backend


def test_backend_choices_start_with_auto(settings):
    from ptychopinn.plugins.registry import installed_backends

    assert settings.backend_choices() == ["auto", *installed_backends()]
