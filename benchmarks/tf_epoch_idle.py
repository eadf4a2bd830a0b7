"""Idle time at the start of TensorFlow training epochs, ``tf.data`` autotuning on vs off.

    OMP_NUM_THREADS=1 python benchmarks/tf_epoch_idle.py --threads 1 \\
        --out benchmarks/results/tf_epoch_idle.json

Trains with the backend's ``train`` hook, alternating ``TFOptions(data_autotune=True)`` (the
behaviour before the fix) and ``data_autotune=False`` (the default now) in ONE process, so both
see the same machine load. Per epoch e >= 2 (epoch 1 includes tracing):

    idle_s = first_step_s - steady step time,  steady step = (epoch_time_s - first_step_s) / (steps - 1)

``first_step_s`` is recorded by the backend (start of the epoch to the end of its first step).
Reported: medians over all epochs >= 2 of all repeats, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _tf_common import grouped_random, load_average, machine, set_tf_threads, write_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--patterns", type=int, default=128)
    ap.add_argument("--gridsize", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-filters-scale", type=int, default=1)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="32 patterns, 2 epochs, 1 repeat (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/tf_epoch_idle.json")
    args = ap.parse_args()
    if args.quick:
        args.patterns, args.epochs, args.repeats = 32, 2, 1
    threads = set_tf_threads(args.threads)
    import numpy as np
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainingData

    from ptychopinn_tf.options import TFOptions
    from ptychopinn_tf.training import train

    g, bs = args.gridsize, args.batch_size
    data = grouped_random(args.patterns, 64, g)
    steps = -(-data.n_groups // bs)
    cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=args.n_filters_scale, architecture=args.architecture)
    tc = TrainingConfig(epochs=args.epochs, batch_size=bs, validation_fraction=0.0, early_stopping_patience=None)
    td = TrainingData(
        train=data,
        validation=None,
        probe=np.ones((64, 64), np.complex64),
        normalisation=estimate_normalisation(data.diffraction),
    )
    runs: dict[str, dict[str, list[float]]] = {"autotune_on": {}, "autotune_off": {}}
    for rep in range(args.repeats):
        order = (True, False) if rep % 2 == 0 else (False, True)
        for autotune in order:
            name = "autotune_on" if autotune else "autotune_off"
            t0 = time.perf_counter()
            hist = train(td, cfg, tc, TFOptions(verbose=0, data_autotune=autotune)).training_summary.history
            wall = time.perf_counter() - t0
            ep, first = np.asarray(hist["epoch_time_s"]), np.asarray(hist["first_step_s"])
            step = (ep - first) / max(steps - 1, 1)
            idle = first - step
            r = runs[name]
            r.setdefault("idle_s", []).extend(idle[1:].tolist())
            r.setdefault("epoch_s", []).extend(ep[1:].tolist())
            r.setdefault("step_s", []).extend(step[1:].tolist())
            r.setdefault("train_wall_s", []).append(wall)
            print(name, "idle", np.round(idle, 3).tolist(), "epoch", np.round(ep, 2).tolist(), flush=True)
    summary = {
        name: {f"median_{k}": float(np.median(v)) for k, v in r.items()}
        | {
            "mean_idle_s": float(np.mean(r["idle_s"])),
            "max_idle_s": float(np.max(r["idle_s"])),
            "epochs_idle_over_0.25s": int(np.sum(np.asarray(r["idle_s"]) > 0.25)),
            "n_epochs": len(r["idle_s"]),
        }
        for name, r in runs.items()
    }
    on, off = summary["autotune_on"], summary["autotune_off"]
    write_json(
        args.out,
        {
            "benchmark": "tf_epoch_idle",
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
            "N": 64,
            "gridsize": g,
            "batch_size": bs,
            "groups": data.n_groups,
            "steps_per_epoch": steps,
            "n_filters_scale": args.n_filters_scale,
            "architecture": args.architecture,
            "threads": threads,
            "load_average_end": load_average(),
            "machine": machine(),
            "summary": summary,
            "ratio_idle_on_over_off": on["median_idle_s"] / max(off["median_idle_s"], 1e-9),
            "ratio_epoch_on_over_off": on["median_epoch_s"] / off["median_epoch_s"],
            "ratio_mean_idle_on_over_off": on["mean_idle_s"] / max(off["mean_idle_s"], 1e-9),
            "raw": runs,
            "note": "interleaved in one process; idle_s = first_step_s - steady step time, epochs >= 2",
        },
    )
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
