"""Driven by test_ddp.py: train with strategy="ddp" on 2 CPU processes (gloo), save on rank 0, report.

Lightning's DDP launcher re-executes this script for rank 1, so it must run as a script
(``python ddp_train_script.py OUTDIR``), not inside the pytest process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import simulate, training_data

from ptychopinn.api import save_model
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn_torch import _plugin
from ptychopinn_torch.options import TorchOptions


def main() -> None:
    out = Path(sys.argv[1])
    data = training_data(simulate(), 1)
    opts = TorchOptions(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        num_threads=1,
        enable_progress_bar=False,
        log_dir=str(out / "logs"),
    )
    model = _plugin.PLUGIN.ptychopinn_train(
        data=data,
        model_config=ModelConfig(architecture="fast", n_filters_scale=1),
        training_config=TrainingConfig(epochs=2, batch_size=4, early_stopping_patience=None),
        options=opts,
    )
    import torch.distributed as dist

    rank = dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", 0)))
    if rank == 0:  # every rank holds the same model; core writes the bundle once
        save_model(model, out / "model.ptychopinn.zip")
    report = {
        "rank": rank,
        "world_size": model.metadata.get("world_size"),
        "epochs_run": model.training_summary.epochs_run,
        "history": {k: list(v) for k, v in model.training_summary.history.items()},
        "checksum": float(sum(float(abs(v).sum()) for v in model.weights.values())),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
