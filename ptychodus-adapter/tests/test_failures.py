"""Failures reach the user as clear errors; the library still lists its reconstructors."""

from __future__ import annotations

import logging
import zipfile

import numpy as np
import pytest
from helpers import make_product, metres_for_object_pixels
from ptychodus.api.reconstruct import ReconstructInput
from ptychodus.api.settings import SettingsRegistry

from ptychopinn.errors import (
    BackendNotInstalledError,
    BundleError,
    PatternSizeMismatchError,
    ScanDataError,
    UnknownBackendError,
)
from ptychopinn.plugins.names import KNOWN_BACKENDS
from ptychopinn.plugins.registry import installed_backends, refresh_backends
from ptychopinn_ptychodus.jobs import TrainJob
from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary
from ptychopinn_ptychodus.runner import ChildProcessFailed, run_in_child

N = 64


def _library() -> PtychoPINNNextReconstructorLibrary:
    return PtychoPINNNextReconstructorLibrary(SettingsRegistry(), False)


def _input(shape=(3, N, N)) -> ReconstructInput:
    x_m, y_m = metres_for_object_pixels(np.array([50.0, 60.0, 70.0]), np.array([50.0, 55.0, 60.0]), (128, 128))
    product = make_product(np.ones((128, 128), complex), np.ones((N, N), complex), x_m, y_m)
    return ReconstructInput(np.ones(shape), np.zeros(shape[1:], bool), product)


def _bundle_written_by(path, backend: str):
    """A genuine core bundle (tiny weights) whose manifest says ``backend`` wrote it."""
    from ptychopinn.architecture import init_weights
    from ptychopinn.bundle.io import write_bundle
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import Normalisation
    from ptychopinn.results import TrainedModel

    model = TrainedModel(
        backend=backend,
        backend_version="0.1.0",
        model_config=ModelConfig(),
        training_config=TrainingConfig(),
        normalisation=Normalisation(N=N, mean_counts=1e4),
        probe=np.ones((N, N), np.complex64),
        weights=init_weights(ModelConfig(), seed=0),
    )
    return write_bundle(model, path)


@pytest.fixture()
def no_backends(monkeypatch):
    names = ",".join(sorted(set(installed_backends()) | set(KNOWN_BACKENDS)))
    monkeypatch.setenv("PTYCHOPINN_DISABLE_BACKENDS", names)
    monkeypatch.delenv("PTYCHOPINN_BACKEND", raising=False)
    refresh_backends()
    yield
    monkeypatch.delenv("PTYCHOPINN_DISABLE_BACKENDS")
    refresh_backends()


@pytest.fixture()
def unavailable(monkeypatch):
    """(name, expected text): a known backend that is not installed, else one disabled for the test."""
    missing = [name for name in KNOWN_BACKENDS if name not in installed_backends()]
    if missing:
        yield missing[0], f"pip install {KNOWN_BACKENDS[missing[0]]}"
        return
    monkeypatch.setenv("PTYCHOPINN_DISABLE_BACKENDS", "tensorflow")
    refresh_backends()
    yield "tensorflow", "PTYCHOPINN_DISABLE_BACKENDS"
    monkeypatch.delenv("PTYCHOPINN_DISABLE_BACKENDS")
    refresh_backends()


def test_no_backend_installed_lists_reconstructors_and_explains(no_backends, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="ptychopinn_ptychodus"):
        library = _library()
    assert [r.name for r in library] == ["PINN", "Supervised"]
    assert "no PtychoPINN backend is installed" in caplog.text and "pip install ptychopinn-torch" in caplog.text
    (tmp_path / "train_data.npz").write_bytes(b"")
    with pytest.raises(BackendNotInstalledError, match="pip install"):
        next(iter(list(library)[0].train(tmp_path, tmp_path)))


def test_requested_backend_missing(tmp_path, unavailable):
    missing, expected = unavailable
    library = _library()
    library.settings.training_backend.set_value(missing)
    (tmp_path / "train_data.npz").write_bytes(b"")
    with pytest.raises(BackendNotInstalledError) as info:
        next(iter(list(library)[0].train(tmp_path, tmp_path)))
    assert f"backend '{missing}' selected" in str(info.value)
    assert expected in str(info.value)


def test_unknown_backend_name_suggests_a_known_one(tmp_path):
    library = _library()
    library.settings.training_backend.set_value("pytorh")
    (tmp_path / "train_data.npz").write_bytes(b"")
    with pytest.raises(UnknownBackendError, match="Did you mean 'pytorch'"):
        next(iter(list(library)[0].train(tmp_path, tmp_path)))


def test_bundle_from_a_backend_that_is_not_installed(tmp_path, unavailable):
    missing, expected = unavailable
    bundle = _bundle_written_by(tmp_path / "model.ptychopinn.zip", missing)
    pinn = list(_library())[0]
    with pytest.raises(BackendNotInstalledError) as info:
        pinn.load_model_from_file(bundle)
    assert expected in str(info.value) and f"trained by backend '{missing}'" in str(info.value)
    assert "[PtychoPINNNextInference] Backend" in str(info.value)
    assert not pinn.is_model_loaded()


def test_not_a_bundle(tmp_path):
    pinn = list(_library())[0]
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a PtychoPINN model bundle"):
        pinn.load_model_from_file(tmp_path / "x.zip")
    with zipfile.ZipFile(tmp_path / "legacy.zip", "w") as zf:
        zf.writestr("wts.h5", b"")
    with pytest.raises(BundleError, match="no manifest.json"):
        pinn.load_model_from_file(tmp_path / "legacy.zip")


def test_non_square_patterns():
    pinn = list(_library())[0]
    with pytest.raises(ScanDataError, match="square"):
        pinn.export_training_data("unused.npz", _input((3, N, N + 4)))


def test_reconstruct_without_model():
    pinn = list(_library())[0]
    assert not pinn.is_model_loaded()
    with pytest.raises(RuntimeError, match="no model is loaded"):
        next(iter(pinn.reconstruct(_input())))


def test_child_errors_reach_the_parent_as_one_paragraph(tmp_path):
    """A real spawned child fails (no such file); the parent gets the message, not a traceback."""
    from ptychopinn.config import ModelConfig, TrainingConfig

    job = TrainJob(
        data=tmp_path / "missing.npz",
        output=tmp_path / "model.zip",
        model_config=ModelConfig(),
        training_config=TrainingConfig(),
        backend="pytorch",
    )
    with pytest.raises(ChildProcessFailed) as info:
        list(run_in_child("ptychopinn_ptychodus.child:run_train", job))
    assert info.value.error_type == "ScanDataError"
    assert "missing.npz" in str(info.value) and "Traceback" not in str(info.value)
    assert "Traceback" in info.value.child_traceback
    assert not (tmp_path / "model.zip").exists()


def test_neighbours_too_few_for_gridsize_fail_in_the_parent_naming_the_settings(tmp_path, caplog):
    import time

    from ptychopinn_ptychodus.settings import SettingsError

    library = _library()
    library.settings.grid_size.set_value(2)
    library.settings.train_neighbors.set_value(2)
    (tmp_path / "train_data.npz").write_bytes(b"")
    start = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="ptychopinn_ptychodus"), pytest.raises(SettingsError) as info:
        next(iter(list(library)[0].train(tmp_path, tmp_path)))
    assert time.monotonic() - start < 2.0  # no worker process was started
    assert "[PtychoPINNNextTraining] NumNeighbors = 2" in str(info.value)
    assert "[PtychoPINNNextModel] GridSize = 2" in str(info.value)
    # logged on the library's logger, which Ptychodus shows in its processing view
    assert any(r.name.startswith("ptychopinn_ptychodus") and r.levelno == logging.ERROR for r in caplog.records)


def test_pattern_size_mismatch_fails_in_the_parent(tmp_path):
    if not installed_backends():
        pytest.skip("needs an installed backend to accept the bundle")
    bundle = _bundle_written_by(tmp_path / "model.ptychopinn.zip", installed_backends()[0])
    pinn = list(_library())[0]
    pinn.load_model_from_file(bundle)
    x_m, y_m = metres_for_object_pixels(np.array([100.0, 110.0]), np.array([100.0, 105.0]), (256, 256))
    product = make_product(np.ones((256, 256), complex), np.ones((128, 128), complex), x_m, y_m)
    parameters = ReconstructInput(np.ones((2, 128, 128)), np.zeros((128, 128), bool), product)
    with pytest.raises(PatternSizeMismatchError, match="bundle .*N is 64 but the diffraction patterns are 128 x 128"):
        next(iter(pinn.reconstruct(parameters)))


def test_child_records_of_core_are_not_emitted_on_the_builtin_ptychopinn_logger(caplog):
    with caplog.at_level(logging.WARNING):
        list(run_in_child("helpers:child_logs_as_core", "hello", log_level=logging.WARNING))
    names = [r.name for r in caplog.records if "core says hello" in r.getMessage()]
    assert names == ["ptychopinn_ptychodus.worker.ptychopinn.api"]
