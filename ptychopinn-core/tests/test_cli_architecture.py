"""``ptychopinn train --architecture`` and the demo's default architecture reach the bundle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ptychopinn.bundle import read_bundle_info
from ptychopinn.data.npz import write_scan
from ptychopinn.simulate import simulate_scan


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan(tmp_path_factory.mktemp("arch") / "scan.npz", simulate_scan(N=64, n_patterns=36, seed=0))


@pytest.mark.parametrize("architecture", ["fast", "published"])
def test_train_records_the_chosen_architecture(scan: Path, tmp_path: Path, architecture: str) -> None:
    out = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "numpy-test",
                          "--architecture", architecture, "--epochs", "1", "-o", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert read_bundle_info(tmp_path / "model.ptychopinn.zip").model_config.architecture == architecture


def test_unknown_architecture_is_a_usage_error(scan: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "numpy-test",
                          "--architecture", "resnet", "-o", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 2 and "invalid choice: 'resnet'" in out.stderr and "fast" in out.stderr
