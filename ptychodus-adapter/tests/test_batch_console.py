"""``ptychodus --batch`` (the real console script, as a subprocess) trains and reconstructs with PtychoPINN-Next.

The reconstruction written by Ptychodus must match ``ptychopinn reconstruct`` on the same bundle
and scan: same object on the same pixels (Ptychodus's product grid = the scan's object grid).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ptychodus_settings, real_backends, write_tiny_scan

from ptychopinn_ptychodus.batch_input import write_batch_inputs

BACKENDS = real_backends()
pytestmark = pytest.mark.skipif(not BACKENDS, reason="no real PtychoPINN backend installed")

PTYCHODUS = str(Path(sys.executable).parent / "ptychodus")
TRAINING = {"NumEpochs": 2, "BatchSize": 16, "EarlyStoppingPatience": -1, "ValidationFraction": 0.1, "Seed": 1}
MODEL = {"NumFiltersScale": 1, "GridSize": 1}


def _ptychodus(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PTYCHODUS, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One batch training run: (scan file, scan, bundle, backend, work dir)."""
    root = tmp_path_factory.mktemp("batch")
    scan_file, scan = write_tiny_scan(root / "scan.npz", n_patterns=64)
    backend = BACKENDS[0]
    inputs = root / "train_in"
    write_batch_inputs(scan_file, inputs)
    training = {"Backend": backend, **TRAINING}
    ptychodus_settings(
        inputs / "settings.ini", "ptychopinn-next_pinn", PtychoPINNNextTraining=training, PtychoPINNNextModel=MODEL
    )
    run = _ptychodus("--batch", "train", "-i", str(inputs), "-o", str(root / "train_out"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    bundle = root / "train_out" / "model.ptychopinn.zip"
    assert bundle.is_file(), run.stdout[-3000:]
    assert not list((root / "train_out").glob(".*.tmp"))
    return scan_file, scan, bundle, backend, root


def test_batch_reconstruct_matches_the_cli_on_the_same_bundle(trained):
    from ptychodus.api.io import load_product

    scan_file, scan, bundle, backend, root = trained
    inputs = root / "reconstruct_in"
    write_batch_inputs(scan_file, inputs)
    ptychodus_settings(inputs / "settings.ini", "ptychopinn-next_pinn", PtychoPINNNextModel=MODEL)
    shutil.copy(bundle, inputs / "model.ptychopinn.zip")
    run = _ptychodus("--batch", "reconstruct", "-i", str(inputs), "-o", str(root / "reconstruct_out"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    written = sorted((root / "reconstruct_out").glob("product*.h5"))
    assert [p.name for p in written] == ["product.000100.h5"], written  # progress is percent, not epochs
    ours = load_product(written[0]).object_.get_layer(0)

    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "ptychopinn",
            "reconstruct",
            str(bundle),
            str(scan_file),
            "-o",
            str(root / "cli"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stderr
    from ptychopinn.data.reconstruction_file import read_reconstruction

    rec = read_reconstruction(root / "cli" / "reconstruction.npz")
    canvas, valid, origin = rec.object, rec.valid, rec.canvas_origin
    assert all(float(v).is_integer() for v in origin), f"fractional canvas origin {origin}"
    x0, y0 = (int(v) for v in origin)
    rows, cols = np.nonzero(valid)
    assert rows.size > 100
    expected = canvas[rows, cols]
    found = ours[rows + y0, cols + x0]
    err = np.abs(found - expected).max() / np.abs(expected).max()
    assert err < 1e-3, f"Ptychodus batch and the CLI differ by {err:.2e} (relative)"
    # outside the valid region the product keeps its blank start object (ones), never a barely-lit guess
    inside = np.zeros(ours.shape, bool)
    inside[rows + y0, cols + x0] = True
    np.testing.assert_array_equal(ours[~inside], 1.0)
    assert math.isfinite(float(np.abs(ours).sum()))


def test_batch_train_with_an_unknown_algorithm_fails_loudly(trained, tmp_path):
    scan_file = trained[0]
    write_batch_inputs(scan_file, tmp_path / "in")
    ptychodus_settings(tmp_path / "in" / "settings.ini", "ptychopinn-next_pinnn")
    run = _ptychodus("--batch", "train", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"))
    assert run.returncode != 0
    assert "Did you mean 'ptychopinn-next_pinn'" in run.stdout + run.stderr
    assert not list((tmp_path / "out").glob("*.zip"))
