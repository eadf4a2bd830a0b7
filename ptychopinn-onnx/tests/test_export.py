"""export(): a valid ONNX file whose outputs match core's reference, with deployment metadata, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from ptychopinn.architecture import LOG_SCALE, architecture_graph, run_graph
from ptychopinn.config import ModelConfig
from ptychopinn.errors import OutputError
from ptychopinn_onnx.export import export
from ptychopinn_onnx.graph import AMPLITUDE, INPUT, OBJECT_IMAG, OBJECT_REAL, PHASE
from ptychopinn_onnx.predictor import create_session

from conftest import ONE_THREAD, diffraction, make_model


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_export_writes_a_valid_model_whose_outputs_match(tmp_path: Path, architecture: str) -> None:
    config = ModelConfig(architecture=architecture, gridsize=2)
    model = make_model(config, backend="pytorch")
    path = export(model, tmp_path / "model.onnx", ONE_THREAD)
    assert path == tmp_path / "model.onnx"
    onnx.checker.check_model(str(path), full_check=True)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary file left
    session = create_session(path.read_bytes(), ONE_THREAD)
    x = diffraction(config, batch=2)
    amp, phase, real, imag = session.run([AMPLITUDE, PHASE, OBJECT_REAL, OBJECT_IMAG], {INPUT: x})
    ref_amp, ref_phase = run_graph(architecture_graph(config), model.weights, x)
    np.testing.assert_allclose(amp, ref_amp, rtol=0, atol=1e-5)
    np.testing.assert_allclose(phase, ref_phase, rtol=0, atol=1e-5)
    np.testing.assert_allclose(real + 1j * imag, ref_amp * np.exp(1j * ref_phase), rtol=0, atol=1e-5)


def test_metadata_lets_a_deployment_scale_its_inputs(tmp_path: Path) -> None:
    config = ModelConfig(architecture="fast", gridsize=2, amp_activation="softplus")
    model = make_model(config, backend="tensorflow")
    meta = {p.key: p.value for p in onnx.load(str(export(model, tmp_path / "m.onnx", ONE_THREAD))).metadata_props}
    assert json.loads(meta["ptychopinn.model_config"])["amp_activation"] == "softplus"
    assert json.loads(meta["ptychopinn.model_config"])["gridsize"] == 2
    assert float(meta["ptychopinn.network_scale"]) == pytest.approx(model.normalisation.network_scale, rel=1e-15)
    assert json.loads(meta["ptychopinn.normalisation"])["mean_counts"] == model.normalisation.mean_counts
    assert float(meta["ptychopinn.log_scale"]) == pytest.approx(float(model.weights[LOG_SCALE]))
    assert meta["ptychopinn.trained_by"] == "tensorflow 0.1.0"
    for key in ("core_version", "onnx_backend_version", "onnx_version", "input", "outputs"):
        assert meta[f"ptychopinn.{key}"]
    assert "network_scale" in meta["ptychopinn.input"]


def test_export_refuses_a_directory_or_missing_parent(tmp_path: Path) -> None:
    model = make_model(ModelConfig(architecture="fast"))
    with pytest.raises(OutputError, match="is a directory"):
        export(model, tmp_path, ONE_THREAD)
    with pytest.raises(OutputError, match="does not exist"):
        export(model, tmp_path / "missing" / "m.onnx", ONE_THREAD)


def test_failed_export_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous")
    model = make_model(ModelConfig(architecture="fast"))
    broken = dict(model.weights)
    broken.pop(next(k for k in broken if k.endswith(".weight")))
    from dataclasses import replace

    with pytest.raises(KeyError):
        export(replace(model, weights=broken), target, ONE_THREAD)
    assert target.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]
