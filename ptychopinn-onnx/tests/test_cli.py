"""The command line with the onnx backend: export a bundle, reconstruct, refuse to train (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from ptychopinn.architecture import reference_predict
from ptychopinn.bundle import write_bundle
from ptychopinn.config import ModelConfig
from ptychopinn.data.npz import write_scan
from ptychopinn.testing import synthetic_scan
from ptychopinn_onnx.graph import INPUT, OBJECT_IMAG, OBJECT_REAL
from ptychopinn_onnx.predictor import create_session

from conftest import ONE_THREAD, diffraction, make_model


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "ptychopinn", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle labelled as trained by PyTorch (core's seeded initial weights, random biases)."""
    path = tmp_path_factory.mktemp("cli") / "model.ptychopinn.zip"
    write_bundle(make_model(ModelConfig(architecture="fast", gridsize=2), backend="pytorch"), path)
    return path


def test_export_writes_a_model_that_computes_the_network(bundle: Path, tmp_path: Path) -> None:
    out = cli("export", str(bundle), "-o", "model.onnx", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    onnx.checker.check_model(str(tmp_path / "model.onnx"), full_check=True)
    model = make_model(ModelConfig(architecture="fast", gridsize=2), backend="pytorch")  # same seed: same weights
    x = diffraction(model.model_config, batch=2)
    real, imag = create_session((tmp_path / "model.onnx").read_bytes(), ONE_THREAD).run(
        [OBJECT_REAL, OBJECT_IMAG], {INPUT: x}
    )
    assert np.abs(real + 1j * imag - reference_predict(model.model_config, model.weights, x)).max() <= 1e-5


def test_reconstruct_with_the_onnx_backend(bundle: Path, tmp_path: Path) -> None:
    write_scan(tmp_path / "scan.npz", synthetic_scan(n_side=4))
    out = cli("reconstruct", str(bundle), "scan.npz", "--backend", "onnx", "--no-refine", "--quiet", "-o", "rec",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    with np.load(tmp_path / "rec" / "reconstruction.npz") as rec:
        assert str(rec["backend"][0]) == "onnx" and str(rec["model_backend"][0]) == "pytorch"
        assert np.isfinite(rec["object"]).all() and rec["valid"].any()


def test_train_with_onnx_exits_2_naming_the_backends_that_can(tmp_path: Path) -> None:
    write_scan(tmp_path / "scan.npz", synthetic_scan(n_side=4))
    out = cli("train", "scan.npz", "--backend", "onnx", "--epochs", "1", "-o", "trained", cwd=tmp_path)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "backend 'onnx' cannot train" in out.stderr
    assert "ptychopinn-torch" in out.stderr and "ptychopinn-tf" in out.stderr
    assert not (tmp_path / "trained" / "model.ptychopinn.zip").exists()
