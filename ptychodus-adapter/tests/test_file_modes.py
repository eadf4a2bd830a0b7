"""Files the adapter writes follow the umask (0644 under umask 022), like any ordinary open()."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from helpers import make_product, metres_for_object_pixels, write_tiny_scan
from ptychodus.api.reconstruct import ReconstructInput
from ptychodus.api.settings import SettingsRegistry

from ptychopinn_ptychodus.batch_input import write_batch_inputs
from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary


@pytest.fixture()
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_model_exported_data_and_batch_inputs_are_0644(tmp_path, umask_022):
    pinn = list(PtychoPINNNextReconstructorLibrary(SettingsRegistry(), False))[0]
    source = tmp_path / "source.ptychopinn.zip"
    source.write_bytes(b"bundle bytes")
    os.chmod(source, 0o600)
    pinn._model_path = source  # a trained model is a file path; saving copies it
    pinn.save_model(tmp_path / "saved.ptychopinn.zip")
    assert _mode(tmp_path / "saved.ptychopinn.zip") == 0o644
    assert (tmp_path / "saved.ptychopinn.zip").read_bytes() == b"bundle bytes"

    x_m, y_m = metres_for_object_pixels(np.array([50.0, 60.0]), np.array([50.0, 55.0]), (128, 128))
    product = make_product(np.ones((128, 128), complex), np.ones((64, 64), complex), x_m, y_m)
    pinn.export_training_data(tmp_path / "export.npz", ReconstructInput(np.ones((2, 64, 64)), None, product))
    assert _mode(tmp_path / "export.npz") == 0o644

    scan_file, _ = write_tiny_scan(tmp_path / "scan.npz", n_patterns=16)
    for path in write_batch_inputs(scan_file, tmp_path / "batch").values():
        assert _mode(path) == 0o644, path
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "batch").glob(".*.tmp"))
