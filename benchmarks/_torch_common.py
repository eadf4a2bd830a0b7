"""Shared helpers of the torch benchmarks: synthetic scans, thread settings, machine info."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np


def set_threads(n: int) -> dict[str, object]:
    """Pin torch's intra-op threads; returns what was used (for the JSON)."""
    import torch

    torch.set_num_threads(n)
    return {
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "torch_version": torch.__version__,
    }


def machine() -> dict[str, object]:
    info: dict[str, object] = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        info["loadavg_1_5_15"] = os.getloadavg()
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def grouped_random(n_patterns: int, N: int, gridsize: int, seed: int = 0):
    """A GroupedScan of random-but-plausible amplitudes on a raster (throughput only)."""
    from ptychopinn.data import GroupedScan

    rng = np.random.default_rng(seed)
    diff = (rng.poisson(20.0, size=(n_patterns, N, N)) ** 0.5).astype(np.float32)
    side = int(np.ceil(np.sqrt(n_patterns)))
    pos = np.stack(np.meshgrid(np.arange(side) * 5.0, np.arange(side) * 5.0), -1).reshape(-1, 2)[:n_patterns]
    C = gridsize * gridsize
    if C == 1:
        idx = np.arange(n_patterns)[:, None]
    else:
        idx = np.stack([(np.arange(n_patterns) + k) % n_patterns for k in (0, 1, side, side + 1)], 1)[:, :C]
    centres = pos[idx].mean(1)
    offsets = pos[idx] - centres[:, None]
    return GroupedScan(diffraction=diff, indices=idx.astype(np.int64), offsets=offsets, centres=centres)


def untrained_model(config, diffraction: np.ndarray, *, backend: str = "pytorch", seed: int = 0):
    """A ``TrainedModel`` with core's fresh weights (``init_weights``) for ``config`` (throughput only).

    Parameters
    ----------
    config : ModelConfig
        Architecture (``config.architecture``), N, gridsize, width.
    diffraction : (M, N, N) float32
        Stored amplitudes the normalisation is estimated on.
    backend : str
        Label of the model (the backend that "trained" it).
    """
    from ptychopinn.architecture import init_weights
    from ptychopinn.config import TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainedModel

    N = config.N
    return TrainedModel(
        backend=backend,
        backend_version="bench",
        model_config=config,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(diffraction),
        probe=np.ones((N, N), np.complex64),
        weights=init_weights(config, seed=seed),
    )


def load_average() -> list[float] | None:
    """1/5/15-minute load averages, or None where the OS has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def write_json(path: str | os.PathLike[str], payload: dict) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = {"created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    p.write_text(json.dumps(payload, indent=2))
    print(f"wrote {p}")
