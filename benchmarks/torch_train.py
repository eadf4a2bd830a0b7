"""Training throughput of the PyTorch backend (patterns/s), N=64, gridsize 1 and 2.

    OMP_NUM_THREADS=2 python benchmarks/torch_train.py --threads 2 --out benchmarks/results/torch_train_cpu.json

Runs the real ``train`` path (Lightning Trainer, DataModule, Adam, callbacks) for a few epochs
on random data and times every epoch after the first (warm-up) with a callback. No
validation split, so the timed loop is the optimisation loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import grouped_random, machine, set_threads, write_json


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--groups", type=int, default=256, help="training groups per epoch")
    ap.add_argument("--epochs", type=int, default=3, help="epochs (the first is not timed)")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--gridsizes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--n-filters-scale", type=int, nargs="+", default=[2])
    ap.add_argument("--precision", default="32-true")
    ap.add_argument("--accelerator", default="auto")
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="32 groups, 2 epochs, batch 16, gridsize 1 (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/torch_train.json")
    args = ap.parse_args()
    if args.quick:
        args.groups, args.epochs, args.batch_sizes, args.gridsizes = 32, 2, [16], [1]
    threads = set_threads(args.threads)

    import lightning as L
    import numpy as np
    import torch
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainingData

    from ptychopinn_torch.options import TorchOptions
    from ptychopinn_torch.training import train

    class EpochTimer(L.Callback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.cpu: list[float] = []
            self._t = 0.0
            self._c = 0.0

        def _sync(self) -> None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            self._sync()
            self._t, self._c = time.perf_counter(), time.process_time()

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            self._sync()
            self.times.append(time.perf_counter() - self._t)
            self.cpu.append(time.process_time() - self._c)

    rows = []
    for n in args.n_filters_scale:
        for g in args.gridsizes:
            data = grouped_random(args.groups, 64, g)
            td = TrainingData(
                train=data,
                validation=None,
                probe=np.ones((64, 64), np.complex64),
                normalisation=estimate_normalisation(data.diffraction),
            )
            for bs in args.batch_sizes:
                timer = EpochTimer()
                opts = TorchOptions(
                    accelerator=args.accelerator,
                    devices=1,
                    precision=args.precision,
                    num_threads=args.threads,
                    enable_progress_bar=False,
                )
                tc = TrainingConfig(
                    epochs=args.epochs, batch_size=bs, validation_fraction=0.0, early_stopping_patience=None
                )
                cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=n, architecture=args.architecture)
                train(td, cfg, tc, opts, extra_callbacks=[timer])
                timed = timer.times[1:] or timer.times
                per_epoch = float(np.median(timed))
                cpu_epoch = float(np.median(timer.cpu[1:] or timer.cpu))
                row = {
                    "n_filters_scale": n,
                    "gridsize": g,
                    "batch_size": bs,
                    "groups_per_epoch": data.n_groups,
                    "epoch_s_median": per_epoch,
                    "patterns_per_s": data.n_groups * g * g / per_epoch,
                    "groups_per_s": data.n_groups / per_epoch,
                    "epoch_cpu_s_median": cpu_epoch,
                    "patterns_per_cpu_s": data.n_groups * g * g / cpu_epoch,
                }
                print(row, flush=True)
                rows.append(row)
    write_json(
        args.out,
        {
            "benchmark": "torch_train",
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "architecture": args.architecture,
            "precision": args.precision,
            "threads": threads,
            "machine": machine(),
            "note": "patterns/s counts every pattern of every group (gridsize 2: 4 per group); "
            "Lightning loop incl. data loading, Adam, logging; first epoch excluded",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
