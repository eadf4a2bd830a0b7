"""Training through the adapter on Ptychodus's own export, and the Supervised reconstructor (1 short epoch each)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from helpers import reconstruct_input_from_scan
from ptychodus.api.io import save_ptychopinn_training_data
from ptychodus.api.settings import SettingsRegistry

from ptychopinn.plugins.registry import installed_backends
from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary

BACKEND = next((name for name in ("pytorch", "tensorflow") if name in installed_backends()), None)
pytestmark = pytest.mark.skipif(BACKEND is None, reason="no real PtychoPINN backend installed")
FRAMEWORKS = ("torch", "lightning", "tensorflow", "keras")


@pytest.fixture(scope="module")
def scan():
    from ptychopinn.simulate import simulate_scan

    return simulate_scan(N=64, n_patterns=36, nphotons=1e5, seed=1)


def _reconstructor(name: str):
    library = PtychoPINNNextReconstructorLibrary(SettingsRegistry(), False)
    s = library.settings
    s.training_backend.set_value(BACKEND)
    s.n_filters_scale.set_value(1)
    s.epochs.set_value(1)
    s.n_groups.set_value(16)
    s.batch_size.set_value(8)
    s.validation_fraction.set_value(0.2)
    return next(r for r in library if r.name == name)


def _losses(outputs):
    assert outputs
    values = [v.value for v in outputs[-1].training_loss]
    assert len(values) == 1 and all(math.isfinite(v) for v in values)
    return values


def test_trains_on_a_file_written_by_ptychodus_itself(scan, tmp_path, caplog):
    parameters = reconstruct_input_from_scan(scan)
    save_ptychopinn_training_data(tmp_path / "train_data.npz", parameters)  # Ptychodus's own exporter
    pinn = _reconstructor("PINN")
    with caplog.at_level("INFO", logger="ptychopinn_ptychodus"):
        _losses(list(pinn.train(tmp_path, tmp_path / "out")))
    assert "Ptychodus PtychoPINN export" in caplog.text
    assert (tmp_path / "out" / "model.ptychopinn.zip").is_file() and pinn.is_model_loaded()
    assert not [m for m in FRAMEWORKS if m in sys.modules], "the parent process imported a framework"


def test_supervised_trains_on_the_ground_truth_object(scan, tmp_path):
    parameters = reconstruct_input_from_scan(scan, initial_object=scan.object)  # product object = truth
    supervised = _reconstructor("Supervised")
    supervised.export_training_data(tmp_path / "train_data.npz", parameters)
    exported = np.load(tmp_path / "train_data.npz")
    np.testing.assert_allclose(exported["objectGuess"], scan.object)
    np.testing.assert_allclose(exported["diffraction"], scan.diffraction, rtol=1e-5)
    np.testing.assert_allclose(np.stack([exported["xcoords"], exported["ycoords"]], axis=1), scan.positions, atol=1e-9)
    _losses(list(supervised.train(tmp_path / "train_data.npz", tmp_path / "supervised.ptychopinn.zip")))
    assert supervised.model_path == tmp_path / "supervised.ptychopinn.zip"
    from ptychopinn.bundle.io import read_manifest

    assert read_manifest(supervised.model_path)["model_config"]["model_type"] == "supervised"
