"""Core's import path for Ptychodus's own PtychoPINN export, on a file Ptychodus writes itself."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from helpers import make_product, metres_for_object_pixels
from ptychodus.api.io import save_ptychopinn_training_data
from ptychodus.api.reconstruct import ReconstructInput

from ptychopinn.data.ptychodus_import import (
    is_ptychodus_training_data,
    positions_from_ptychodus_pixels,
    read_ptychodus_training_data,
)
from ptychopinn.errors import ScanDataError

N = 64


@pytest.fixture()
def exported(tmp_path):
    rng = np.random.default_rng(3)
    obj = np.exp(1j * rng.uniform(-1, 1, (120, 130)))
    yy, xx = np.mgrid[:N, :N]
    disk = ((xx - N / 2) ** 2 + (yy - N / 2) ** 2 < 15**2).astype(complex)
    modes = np.stack([0.4 * disk * np.exp(1j * 0.1 * xx), 1.0 * disk, 0.2 * disk * np.exp(1j * 0.1 * yy)])
    x_px = np.array([40.0, 52.25, 70.5, 81.0])
    y_px = np.array([35.0, 50.0, 61.75, 70.0])
    x_m, y_m = metres_for_object_pixels(x_px, y_px, obj.shape)
    product = make_product(obj, modes, x_m, y_m)
    counts = rng.poisson(50.0, (4, N, N)).astype(np.int64)
    bad = np.zeros((N, N), dtype=bool)
    bad[5, 7] = bad[40, 41] = True
    parameters = ReconstructInput(diffraction_patterns=counts, bad_pixels=bad, product=product)
    path = tmp_path / "ptychodus_export.npz"
    save_ptychopinn_training_data(path, parameters)  # Ptychodus's own writer
    return path, counts, bad, modes, obj, x_px, y_px


def test_reads_counts_as_amplitudes_positions_and_dominant_mode(exported, caplog):
    path, counts, bad, modes, obj, x_px, y_px = exported
    assert is_ptychodus_training_data(path)
    with caplog.at_level(logging.INFO):
        scan = read_ptychodus_training_data(path)
    good = ~bad
    # counts -> sqrt(counts), exactly, on the measured pixels
    np.testing.assert_allclose(scan.diffraction[:, good] ** 2, counts[:, good], rtol=1e-5)
    assert scan.diffraction.dtype == np.float32
    # (N-1)/2 positions -> core's N/2 convention, once
    np.testing.assert_allclose(scan.positions, np.stack([x_px + 0.5, y_px + 0.5], axis=1), atol=1e-9)
    # dominant mode (index 1), with a note in the log
    np.testing.assert_allclose(scan.probe, modes[1].astype(np.complex64))
    assert "3 incoherent modes" in caplog.text and "mode 1" in caplog.text
    assert "bad detector pixels" in caplog.text
    np.testing.assert_allclose(scan.object, obj.astype(np.complex64))
    assert scan.scan_index is None  # Ptychodus writes a zeros placeholder


def test_core_scan_files_are_not_mistaken_for_ptychodus_exports(tmp_path):
    from ptychopinn.data import ScanData
    from ptychopinn.data.npz import write_scan

    scan = ScanData(
        diffraction=np.ones((3, N, N), np.float32),
        positions=np.zeros((3, 2)),
        probe=np.ones((N, N), np.complex64),
    )
    path = write_scan(tmp_path / "core.npz", scan)
    assert not is_ptychodus_training_data(path)


def test_missing_key_and_non_square_are_clear_errors(tmp_path):
    np.savez(tmp_path / "a.npz", diff3d=np.ones((2, N, N)), xcoords=np.zeros(2), ycoords=np.zeros(2))
    with pytest.raises(ScanDataError, match="probeGuess"):
        read_ptychodus_training_data(tmp_path / "a.npz")
    np.savez(
        tmp_path / "b.npz",
        diff3d=np.ones((2, N, N + 2)),
        xcoords=np.zeros(2),
        ycoords=np.zeros(2),
        probeGuess=np.ones((N, N), complex),
    )
    with pytest.raises(ScanDataError, match="square"):
        read_ptychodus_training_data(tmp_path / "b.npz")


def test_position_helper_offset():
    np.testing.assert_allclose(positions_from_ptychodus_pixels([31.5], [0.0]), [[32.0, 0.5]])
