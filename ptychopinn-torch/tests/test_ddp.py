"""strategy="ddp" on 2 CPU processes (gloo), end to end, through a subprocess.

Lightning's DDP launcher re-executes the driving script for the other rank, so the run
happens in ``ddp_train_script.py`` and this test checks what it left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import training_data

from ptychopinn.api import get_backend, load_model
from ptychopinn.config import InferenceConfig
from ptychopinn_torch.options import TorchOptions

SCRIPT = Path(__file__).with_name("ddp_train_script.py")


def test_ddp_two_cpu_processes_write_one_loadable_bundle(tmp_path: Path, small_scan) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "distributed_backend=gloo" in run.stdout + run.stderr
    bundles = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".zip"))
    assert bundles == ["model.ptychopinn.zip"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0["world_size"] == r1["world_size"] == "2"
    assert r0["epochs_run"] == 2 and len(r0["history"]["loss"]) == 2
    assert r0["checksum"] == r1["checksum"]  # DDP kept the replicas identical
    model = load_model(tmp_path / "model.ptychopinn.zip")
    assert model.backend == "pytorch" and model.model_config.architecture == "fast"
    data = training_data(small_scan, 1)
    pred = get_backend("pytorch").infer(model, data.train, InferenceConfig(batch_size=16), TorchOptions(num_threads=1))
    assert pred.patches.shape == (data.train.n_groups, 64, 64) and np.isfinite(pred.patches).all()
