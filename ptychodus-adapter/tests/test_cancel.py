"""Cancel through Ptychodus's own path (its task monitor's ``stop_processing``, what the Stop button calls).

Training runs in Ptychodus's real ``ModelCore`` (background task thread, spawned worker); after
the stop request the worker must be gone within a few seconds and no model file, complete or
partial, may be left.
"""

from __future__ import annotations

import logging
import multiprocessing
import time

import pytest
from helpers import ptychodus_settings, real_backends, write_tiny_scan

from ptychopinn_ptychodus.batch_input import write_batch_inputs

BACKENDS = real_backends()
pytestmark = pytest.mark.skipif(not BACKENDS, reason="no real PtychoPINN backend installed")


def _workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "ptychopinn-ptychodus-child"]


def test_stop_processing_ends_training_quickly_and_leaves_no_model(tmp_path):
    from ptychodus.model import ModelCore

    scan_file, _ = write_tiny_scan(tmp_path / "scan.npz", n_patterns=64)
    paths = write_batch_inputs(scan_file, tmp_path / "data")
    training = {"Backend": BACKENDS[0], "NumEpochs": 500, "EarlyStoppingPatience": -1, "BatchSize": 8}
    ptychodus_settings(paths["settings"], "ptychopinn-next_pinn", PtychoPINNNextTraining=training)
    with ModelCore(paths["settings"], log_level=logging.WARNING) as model:
        diffraction = model.workflow_api.load_assembled_diffraction_data(paths["diffraction"])
        product = model.workflow_api.load_product(paths["product"], diffraction=diffraction)
        model.run_tasks()
        api = model.processing_core.processing_api
        monitor = api.task_monitor
        api.train(tmp_path / "data", tmp_path / "data", product_index=product.get_product_index())
        deadline = time.monotonic() + 120
        while not _workers() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers(), "the training worker never started"
        time.sleep(8)  # well into training (framework imported, epochs running)
        assert monitor.is_processing and _workers()

        stop = time.monotonic()
        monitor.stop_processing()
        while (monitor.is_processing or _workers()) and time.monotonic() - stop < 30:
            time.sleep(0.05)
        elapsed = time.monotonic() - stop
    print(f"cancel: worker gone and task finished {elapsed:.2f} s after stop_processing()")
    assert not _workers(), "the worker survived the cancel"
    assert elapsed < 5.0, f"cancel took {elapsed:.1f} s"
    leftovers = sorted(p.name for p in (tmp_path / "data").iterdir() if "ptychopinn.zip" in p.name)
    assert leftovers == [], leftovers


def test_a_stop_request_ends_a_running_reconstruction_and_its_worker(tmp_path, monkeypatch):
    """The reconstruction path polls the same stop probe; the worker here just waits, as a long inference would."""
    import numpy as np
    from helpers import make_product, metres_for_object_pixels
    from ptychodus.api.reconstruct import ReconstructInput
    from ptychodus.api.settings import SettingsRegistry
    from test_failures import _bundle_written_by

    import ptychopinn_ptychodus.reconstructor as reconstructor
    from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary

    library = PtychoPINNNextReconstructorLibrary(SettingsRegistry(), False)
    pinn = list(library)[0]
    pinn.load_model_from_file(_bundle_written_by(tmp_path / "model.ptychopinn.zip", BACKENDS[0]))
    x_m, y_m = metres_for_object_pixels(np.array([50.0, 60.0]), np.array([50.0, 55.0]), (128, 128))
    product = make_product(np.ones((128, 128), complex), np.ones((64, 64), complex), x_m, y_m)
    parameters = ReconstructInput(np.ones((2, 64, 64)), np.zeros((64, 64), bool), product)
    monkeypatch.setattr(reconstructor, "_RECONSTRUCT_ENTRY", "helpers:child_that_waits")
    stop_at = time.monotonic() + 3.0
    library.stop_requested.check = lambda: time.monotonic() > stop_at
    assert list(pinn.reconstruct(parameters)) == []  # ended by the stop, nothing produced
    assert time.monotonic() - stop_at < 3.0
    assert not _workers()
