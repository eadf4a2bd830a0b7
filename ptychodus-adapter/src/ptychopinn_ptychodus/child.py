"""Child-process entry points (run by :mod:`ptychopinn_ptychodus.runner` in a spawned process).

Only here are backends (and so ML frameworks) imported, through ``ptychopinn``'s public API.
Messages sent to the parent:

- ``("stage", text)``: a progress note (logged by the parent);
- ``("reconstruction", object (h, w) complex64, weight (h, w) float32, origin (x0, y0), backend)``;
- ``("model_saved", path)``, then ``("history", {series: [values]}, epochs_run, backend)``.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ptychopinn_ptychodus.jobs import ReconstructJob, TrainJob

__all__ = ["load_training_data", "run_reconstruct", "run_train"]

logger = logging.getLogger("ptychopinn_ptychodus.child")


def load_training_data(path: Path) -> Any:
    """Read a training-data file: core's scan NPZ, or Ptychodus's built-in PtychoPINN export."""
    from ptychopinn.data.ptychodus_import import is_ptychodus_training_data, read_ptychodus_training_data

    if is_ptychodus_training_data(path):
        logger.info("%s: Ptychodus PtychoPINN export (diff3d counts); converting to core's conventions", path)
        return read_ptychodus_training_data(path)
    from ptychopinn.data.npz import read_scan

    return read_scan(path)


def run_reconstruct(job: ReconstructJob, channel: Any) -> None:
    """Load the bundle, reconstruct the scan, send the stitched object."""
    import ptychopinn.api as api

    channel.put(("stage", f"loading model bundle {job.bundle}"))
    model = api.load_model(job.bundle)  # the one read of the bundle in this process; api.reconstruct checks the scan
    channel.put(("stage", f"reconstructing {job.scan.n_patterns} patterns (model trained by '{model.backend}')"))

    def progress(done: int, total: int) -> None:
        channel.put(("stage", f"inferred {done}/{total} groups"))

    result = api.reconstruct(model, job.scan, backend=job.backend, config=job.config, progress=progress)
    stitched = result.object
    channel.put(
        (
            "reconstruction",
            np.asarray(stitched.object, dtype=np.complex64),
            np.asarray(stitched.weight, dtype=np.float32),
            tuple(float(v) for v in stitched.canvas.origin),
            str(result.backend),
        )
    )


def run_train(job: TrainJob, channel: Any) -> None:
    """Train on the data file, save the bundle, send the loss history."""
    import ptychopinn.api as api
    from ptychopinn.errors import ConfigError, ScanDataError

    channel.put(("stage", f"reading training data {job.data}"))
    scan = load_training_data(job.data)
    try:
        model_config = dataclasses.replace(job.model_config, N=scan.N)
    except ConfigError:
        raise ScanDataError(
            f"{job.data}: the diffraction patterns are {scan.N} x {scan.N} pixels; PtychoPINN models support "
            "N = 64, 128 or 256. Crop or bin the detector to one of these sizes in Ptychodus."
        ) from None
    channel.put(("stage", f"training on {scan.n_patterns} patterns with backend '{job.backend}'"))
    model = api.train(scan, backend=job.backend, model_config=model_config, training_config=job.training_config)
    summary = model.training_summary
    history: dict[str, list[float]] = {}
    epochs_run = 0
    if summary is not None:
        history = {k: [float(v) for v in values] for k, values in summary.history.items()}
        epochs_run = int(summary.epochs_run)
    api.save_model(model, job.output)  # saved before reporting, so a cancel after the report keeps the model
    channel.put(("model_saved", str(job.output)))
    channel.put(("history", history, epochs_run, str(model.backend)))
