"""The public API end to end on the installed numpy test backend: train, save, load, reconstruct."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _plugin_helpers import registry  # noqa: F401  (fixture)

import ptychopinn
from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import (
    BackendError,
    BackendNotInstalledError,
    BundleError,
    CapabilityError,
    ConfigError,
    PatternSizeMismatchError,
)
from ptychopinn.physics.normalisation import estimate_normalisation
from ptychopinn.testing import synthetic_scan

pytestmark = pytest.mark.usefixtures("registry")

FAST = TrainingConfig(epochs=2, batch_size=4, validation_fraction=0.1)


@pytest.fixture(scope="module")
def scan():  # type: ignore[no-untyped-def]
    return synthetic_scan(N=64, n_side=4, step_px=8, seed=0)


def test_train_records_backend_and_reduces_loss(scan) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    assert model.backend == "numpy-test" and model.backend_version == "0.1.0"
    assert model.model_config.N == 64
    loss = model.training_summary.history["loss"]
    assert loss[-1] < loss[0]
    assert model.training_summary.n_validation_groups > 0


def test_train_uses_config_backend_field_and_refuses_a_backend_that_cannot_train(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CapabilityError, match="backend 'numpy-test-alt' cannot train; backends that can: numpy-test"):
        ptychopinn.train(scan, training_config=dataclasses.replace(FAST, backend="numpy-test-alt"))
    model = ptychopinn.train(scan, training_config=dataclasses.replace(FAST, backend="numpy-test"))
    assert model.backend == "numpy-test"


def test_train_with_missing_backend_fails_fast_before_any_work(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BackendNotInstalledError, match="pip install ptychopinn-torch"):
        ptychopinn.train(scan, backend="torch", training_config=FAST)


def test_train_rejects_mismatched_patch_size(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PatternSizeMismatchError, match="ModelConfig.N is 128"):
        ptychopinn.train(scan, backend="numpy-test", model_config=ModelConfig(N=128), training_config=FAST)


def test_save_load_reconstruct_round_trip(scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    path = ptychopinn.save_model(model, tmp_path / "model.ptychopinn.zip")
    loaded = ptychopinn.load_model(path)
    assert loaded.backend == "numpy-test"
    assert set(loaded.weights) == set(model.weights)
    for name, weight in model.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], weight)
    a = ptychopinn.reconstruct(model, scan)
    b = ptychopinn.reconstruct(path, scan)  # a path is loaded with the bundle's backend
    assert a.backend == b.backend == "numpy-test" and b.model_backend == "numpy-test"
    np.testing.assert_array_equal(a.object.object, b.object.object)
    assert a.object.backend == "numpy-test"
    assert a.summary()["backend"] == "numpy-test"


def test_streaming_in_small_batches_equals_one_batch(scan) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", model_config=ModelConfig(gridsize=2), training_config=FAST)
    seen: list[tuple[int, int]] = []
    small = ptychopinn.reconstruct(model, scan, config=InferenceConfig(batch_size=3),
                                   progress=lambda done, total: seen.append((done, total)))
    big = ptychopinn.reconstruct(model, scan, config=InferenceConfig(batch_size=1000))
    assert seen[-1] == (scan.n_patterns, scan.n_patterns) and len(seen) == -(-scan.n_patterns // 3)
    assert small.n_groups == scan.n_patterns  # one group per scan point
    np.testing.assert_allclose(small.object.object, big.object.object, rtol=1e-6, atol=1e-6)


def test_data_normalisation_is_estimated_on_the_reconstructed_scan(scan) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    brighter = dataclasses.replace(scan, diffraction=(scan.diffraction * 3).astype(np.float32))
    by_data = ptychopinn.reconstruct(model, brighter, config=InferenceConfig(normalisation="data"))
    by_model = ptychopinn.reconstruct(model, brighter, config=InferenceConfig(normalisation="model"))
    assert by_data.normalisation == estimate_normalisation(brighter.diffraction)
    assert by_model.normalisation == model.normalisation
    assert by_data.normalisation.mean_counts == pytest.approx(9 * by_model.normalisation.mean_counts, rel=0.05)


def test_any_backend_that_can_infer_runs_a_bundle_and_the_trainer_is_never_relabelled(scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    path = ptychopinn.save_model(model, tmp_path / "model.ptychopinn.zip")
    loaded = ptychopinn.load_model(path)
    own = ptychopinn.reconstruct(loaded, scan)
    other = ptychopinn.reconstruct(loaded, scan, backend="numpy-test-alt")
    assert loaded.backend == "numpy-test"  # the trainer, whichever backend runs it
    assert other.backend == "numpy-test-alt" and other.model_backend == "numpy-test"
    np.testing.assert_allclose(other.object.object, own.object.object, rtol=1e-5, atol=1e-6)


def test_a_bundle_of_a_backend_that_is_not_installed_loads_and_runs_elsewhere(scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from test_bundle import make_model

    from ptychopinn.bundle import write_bundle

    torch_bundle = write_bundle(make_model(backend="pytorch"), tmp_path / "torch.ptychopinn.zip")
    model = ptychopinn.load_model(torch_bundle)  # loading is core's: no torch needed
    assert model.backend == "pytorch"
    with pytest.raises(BackendError, match="Several backends are installed"):
        ptychopinn.reconstruct(model, scan)  # no silent fallback: several installed, none selected
    result = ptychopinn.reconstruct(model, scan, backend="numpy-test-alt")
    assert result.backend == "numpy-test-alt" and result.model_backend == "pytorch"
    with pytest.raises(BundleError):
        ptychopinn.load_model(tmp_path / "missing.ptychopinn.zip")


def test_predictors_are_built_once_per_model_and_options(scan) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    backend = ptychopinn.get_backend("numpy-test")
    before = backend.predictors.builds
    ptychopinn.reconstruct(model, scan, config=InferenceConfig(batch_size=3))
    ptychopinn.reconstruct(model, scan, config=InferenceConfig(batch_size=5, normalisation="data"))
    assert backend.predictors.builds == before + 1  # same weights, other normalisation: reused
    ptychopinn.reconstruct(model, scan, options={"note": "x"})
    assert backend.predictors.builds == before + 2  # other options: another predictor
    retrained = dataclasses.replace(model, weights=dict(model.weights))
    ptychopinn.reconstruct(retrained, scan)
    assert backend.predictors.builds == before + 3  # other weights: another predictor


def test_options_are_checked_when_the_backend_is_selected(scan) -> None:  # type: ignore[no-untyped-def]
    from ptychopinn_testbackend.plugin import NumpyTestOptions

    with pytest.raises(ConfigError, match="options of backend 'numpy-test', but backend 'nan-train-test'"):
        ptychopinn.train(scan, backend="nan-train-test", training_config=FAST, options=NumpyTestOptions())
    with pytest.raises(ConfigError, match="backend 'nan-train-test' takes no options"):
        ptychopinn.train(scan, backend="nan-train-test", training_config=FAST, options={"note": "x"})
    with pytest.raises(ConfigError, match="unknown key.*colour"):
        ptychopinn.train(scan, backend="numpy-test", training_config=FAST, options={"colour": "red"})
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST, options={"note": "hello"})
    assert "hello" in model.metadata["options"]
    assert ptychopinn.get_backend("numpy-test-alt").resolve_options({"note": "a"}).note == "a"


def test_get_backend_without_name_applies_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTYCHOPINN_BACKEND", "numpy-test")
    assert ptychopinn.get_backend().name == "numpy-test"
    monkeypatch.delenv("PTYCHOPINN_BACKEND")
    with pytest.raises(BackendError):
        ptychopinn.get_backend()  # several installed, none is tensorflow
