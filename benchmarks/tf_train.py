"""Training throughput of the TensorFlow backend (patterns/s), N=64, gridsize 1 and 2.

    python benchmarks/tf_train.py --threads 2 --out benchmarks/results/tf_train_cpu.json

Runs the ``train`` hook (Keras ``fit`` on the ``tf.data`` pipeline, Poisson NLL, Adam) for a
few epochs on random-but-plausible data. Epoch 1 includes graph tracing (and XLA compilation
with ``--jit``): ``trace_seconds`` = epoch 1 - steady epoch; ``patterns_per_s`` is the steady
state (median of the later epochs). Each setting runs in a fresh process (own ``peak_rss_mb``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _tf_common import gpu_peak_mb, grouped_random, machine, peak_rss_mb, set_tf_threads, write_json  # noqa: E402


def _one(args) -> dict:
    threads = set_tf_threads(args.threads)
    import numpy as np
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainingData

    from ptychopinn_tf.options import TFOptions
    from ptychopinn_tf.training import train

    g, bs = args.gridsize, args.batch_size
    data = grouped_random(args.patterns, 64, g)
    cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=args.n_filters_scale, architecture=args.architecture)
    tc = TrainingConfig(epochs=args.epochs, batch_size=bs, validation_fraction=0.0, early_stopping_patience=None)
    td = TrainingData(
        train=data,
        validation=None,
        probe=np.ones((64, 64), np.complex64),
        normalisation=estimate_normalisation(data.diffraction),
    )
    model = train(td, cfg, tc, TFOptions(precision=args.precision, jit_compile=args.jit, verbose=0))
    epochs = list(model.training_summary.history["epoch_time_s"])
    steady = float(np.median(epochs[1:])) if len(epochs) > 1 else epochs[0]
    return {
        "gridsize": g,
        "batch_size": bs,
        "precision": args.precision,
        "jit_compile": args.jit,
        "groups": data.n_groups,
        "epochs": len(epochs),
        "patterns_per_s": data.n_groups * g * g / steady,
        "groups_per_s": data.n_groups / steady,
        "steady_epoch_seconds": steady,
        "first_epoch_seconds": epochs[0],
        "trace_seconds": max(epochs[0] - steady, 0.0),
        "peak_rss_mb": peak_rss_mb(),
        "gpu_peak_mb": gpu_peak_mb(),
        "threads": threads,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--patterns", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--gridsizes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precisions", nargs="+", default=["float32"])
    ap.add_argument("--jit", action="store_true", help="XLA-compile the training step")
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="32 groups, 2 epochs, batch 16, gridsize 1 (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/tf_train.json")
    ap.add_argument("--gridsize", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--precision", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.patterns, args.epochs, args.batch_sizes, args.gridsizes = 32, 2, [16], [1]
    if args.gridsize is not None:
        print(json.dumps(_one(args)))
        return
    rows, threads = [], None
    for g in args.gridsizes:
        for prec in args.precisions:
            for bs in args.batch_sizes:
                cmd = [
                    sys.executable,
                    __file__,
                    "--gridsize",
                    str(g),
                    "--batch-size",
                    str(bs),
                    "--precision",
                    prec,
                    "--threads",
                    str(args.threads),
                    "--patterns",
                    str(args.patterns),
                    "--epochs",
                    str(args.epochs),
                    "--n-filters-scale",
                    str(args.n_filters_scale),
                    "--architecture",
                    args.architecture,
                ] + (["--jit"] if args.jit else [])
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                row = json.loads(out.strip().splitlines()[-1])
                threads = row.pop("threads")
                print(row, flush=True)
                rows.append(row)
    write_json(
        args.out,
        {
            "benchmark": "tf_train",
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "architecture": args.architecture,
            "n_filters_scale": args.n_filters_scale,
            "device": "gpu" if rows and rows[0]["gpu_peak_mb"] is not None else "cpu",
            "threads": threads,
            "machine": machine(),
            "note": "patterns/s counts every pattern of every group (gridsize 2: 4 per group); steady state = median "
            "of epochs 2.., tracing/compilation = epoch 1 - steady (trace_seconds)",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
