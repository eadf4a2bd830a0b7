"""A full reconstruction with the onnx backend imports no ML framework (run in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys
import numpy as np
import ptychopinn
from ptychopinn.architecture import init_weights
from ptychopinn.bundle import write_bundle
from ptychopinn.config import InferenceConfig, ModelConfig, RefinementConfig, TrainingConfig
from ptychopinn.physics import Normalisation
from ptychopinn.results import TrainedModel
from ptychopinn.testing import synthetic_scan

config = ModelConfig(architecture="fast", gridsize=2, n_filters_scale=1)
model = TrainedModel(backend="pytorch", backend_version="0.1.0", model_config=config, training_config=TrainingConfig(),
                     normalisation=Normalisation(N=64, mean_counts=1e5), probe=np.ones((64, 64), np.complex64),
                     weights=init_weights(config, seed=0))
bundle = write_bundle(model, sys.argv[1])
result = ptychopinn.reconstruct(bundle, synthetic_scan(n_side=4), backend="onnx",
                                config=InferenceConfig(refinement=RefinementConfig(enabled=False)))
frameworks = [m for m in ("torch", "tensorflow", "keras", "lightning", "jax") if m in sys.modules]
print(json.dumps({"backend": result.backend, "model_backend": result.model_backend,
                  "shape": list(result.object.object.shape), "finite": bool(np.isfinite(result.object.object).all()),
                  "frameworks": frameworks, "onnxruntime": "onnxruntime" in sys.modules}))
"""


def test_full_reconstruct_imports_no_framework(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT, str(tmp_path / "m.ptychopinn.zip")],
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["backend"] == "onnx" and report["model_backend"] == "pytorch"
    assert report["onnxruntime"] and report["finite"]
    assert report["frameworks"] == []
