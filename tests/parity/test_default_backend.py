"""With both backends installed: both are listed, and without a choice `tensorflow` is used
and recorded (CLI and Python API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ptychopinn
from ptychopinn.config import ModelConfig, TrainingConfig


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PTYCHOPINN_BACKEND"}
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    return env


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    code = "import sys; from ptychopinn.cli.main import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, env=_env(), cwd=cwd
    )


def test_cli_lists_both_and_defaults_to_tensorflow(scan, tmp_path):
    from ptychopinn.data.npz import write_scan

    listing = _cli("backends", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines()[1:] if line.strip()}
    assert "ptychopinn-tf" in rows["tensorflow"] and "ptychopinn-torch" in rows["pytorch"]
    data = write_scan(tmp_path / "scan.npz", scan)
    out = tmp_path / "run"
    proc = _cli("train", str(data), "--epochs", "1", "--batch-size", "8", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "backend 'tensorflow'" in proc.stdout
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["backend"] == "tensorflow"
    manifest = ptychopinn.load_model(out / "model.ptychopinn.zip")
    assert manifest.backend == "tensorflow"


def test_api_defaults_to_tensorflow(scan, monkeypatch):
    monkeypatch.delenv("PTYCHOPINN_BACKEND", raising=False)
    model = ptychopinn.train(
        scan,
        model_config=ModelConfig(N=64, n_filters_scale=1),
        training_config=TrainingConfig(epochs=1, batch_size=8, validation_fraction=0.0),
        options={"verbose": 0},
    )
    assert model.backend == "tensorflow"
    rec = ptychopinn.reconstruct(model, scan, options={"verbose": 0})
    assert rec.backend == "tensorflow"
