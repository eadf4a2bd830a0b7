"""Core's backend conformance kit, all tiers, against the installed ``pytorch`` backend."""

from __future__ import annotations

from ptychopinn.testing import BackendConformance
from ptychopinn_torch.options import TorchOptions


class TestTorchConformance(BackendConformance):
    backend_name = "pytorch"
    backend_options = TorchOptions(accelerator="cpu", num_threads=1, enable_progress_bar=False, deterministic=True)
