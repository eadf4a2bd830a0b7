"""The public API end to end on the installed numpy test backend: train, save, load, reconstruct."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _plugin_helpers import registry  # noqa: F401  (fixture)

import ptychopinn
from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import BackendError, BackendNotInstalledError, BundleError, ConfigError
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


def test_train_uses_config_backend_field(scan) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, training_config=dataclasses.replace(FAST, backend="numpy-test-alt"))
    assert model.backend == "numpy-test-alt"


def test_train_with_missing_backend_fails_fast_before_any_work(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BackendNotInstalledError, match="pip install ptychopinn-torch"):
        ptychopinn.train(scan, backend="torch", training_config=FAST)


def test_train_rejects_mismatched_patch_size(scan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="ModelConfig.N is 128"):
        ptychopinn.train(scan, backend="numpy-test", model_config=ModelConfig(N=128), training_config=FAST)


def test_save_load_reconstruct_round_trip(scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    path = ptychopinn.save_model(model, tmp_path / "model.ptychopinn.zip")
    loaded = ptychopinn.load_model(path)
    assert loaded.backend == "numpy-test" and loaded.source_backend is None
    np.testing.assert_array_equal(loaded.weights["log_amplitude"], model.weights["log_amplitude"])
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


def test_cross_backend_load_is_explicit_and_recorded(scan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = ptychopinn.train(scan, backend="numpy-test", training_config=FAST)
    path = ptychopinn.save_model(model, tmp_path / "model.ptychopinn.zip")
    other = ptychopinn.load_model(path, backend="numpy-test-alt")
    assert other.backend == "numpy-test-alt" and other.source_backend == "numpy-test"
    result = ptychopinn.reconstruct(other, scan)
    assert result.backend == "numpy-test-alt" and result.model_backend == "numpy-test"
    result = ptychopinn.reconstruct(model, scan, backend="numpy-test-alt")
    assert result.backend == "numpy-test-alt" and result.model_backend == "numpy-test"
    with pytest.raises(BackendNotInstalledError, match="pip install ptychopinn-tf"):
        ptychopinn.load_model(path, backend="tf")


def test_load_dispatches_on_manifest_backend_and_fails_fast_when_missing(tmp_path: Path) -> None:
    from test_bundle import make_model

    from ptychopinn.bundle import write_bundle

    torch_bundle = write_bundle(make_model(backend="pytorch"), tmp_path / "torch.ptychopinn.zip")
    with pytest.raises(BackendNotInstalledError) as info:
        ptychopinn.load_model(torch_bundle)
    assert "written by backend 'pytorch'" in str(info.value) and "pip install ptychopinn-torch" in str(info.value)
    third = write_bundle(make_model(backend="jax"), tmp_path / "jax.ptychopinn.zip", backend_distribution="acme-jax")
    with pytest.raises(BackendNotInstalledError, match="backend 'jax'") as info:
        ptychopinn.load_model(third)
    # Install advice comes only from core's table of known backends, never from the (untrusted) bundle.
    assert "pip install" not in str(info.value) and "acme-jax" not in str(info.value)
    with pytest.raises(BundleError):
        ptychopinn.load_model(tmp_path / "missing.ptychopinn.zip")


def test_get_backend_without_name_applies_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTYCHOPINN_BACKEND", "numpy-test")
    assert ptychopinn.get_backend().name == "numpy-test"
    monkeypatch.delenv("PTYCHOPINN_BACKEND")
    with pytest.raises(BackendError):
        ptychopinn.get_backend()  # several installed, none is tensorflow


def test_reassemble_falls_back_to_core_and_backend_hook_agrees(scan, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ptychopinn.plugins.registry import refresh_backends
    from ptychopinn.results import PatchPrediction

    backend = ptychopinn.get_backend("numpy-test")
    rng = np.random.default_rng(0)
    patches = np.exp(1j * rng.uniform(-1, 1, (scan.n_patterns, 64, 64))).astype(np.complex64)
    pred = PatchPrediction(patches=patches, positions=scan.positions, backend="numpy-test")
    core = backend.reassemble(pred, scan.probe)
    assert core.backend is None  # the hook returned None: core's stitcher ran
    monkeypatch.setenv("PTYCHOPINN_TESTBACKEND_OWN_REASSEMBLE", "1")
    refresh_backends()
    own = ptychopinn.get_backend("numpy-test").reassemble(pred, scan.probe)
    assert own.backend == "numpy-test"
    np.testing.assert_allclose(own.object, core.object)
