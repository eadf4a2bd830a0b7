"""Inference throughput of the TensorFlow backend (patterns/s), N=64, gridsize 1 and 2.

    python benchmarks/tf_infer.py --threads 2 --out benchmarks/results/tf_infer_cpu.json

Times the ``infer`` hook (network + group_object, numpy in/out) on an untrained model of the
default width, like ``torch_infer.py``. The first call of each setting (graph tracing and, with
``--jit``, XLA compilation) is timed separately (``trace_seconds``) from the steady state.
Each setting runs in a fresh process so that ``peak_rss_mb`` is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _tf_common import gpu_peak_mb, grouped_random, machine, peak_rss_mb, set_tf_threads, write_json  # noqa: E402


def _one(args) -> dict:
    threads = set_tf_threads(args.threads)
    import numpy as np
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainedModel

    from ptychopinn_tf.inference import infer
    from ptychopinn_tf.model import PtychoPINNModel
    from ptychopinn_tf.options import TFOptions

    g, bs = args.gridsize, args.batch_size
    data = grouped_random(args.patterns, 64, g)
    cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=args.n_filters_scale)
    net = PtychoPINNModel(cfg, np.ones((64, 64), np.complex64), canvas_size=64)
    net.build_variables()
    model = TrainedModel(
        backend="tensorflow",
        backend_version="bench",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(data.diffraction),
        probe=np.ones((64, 64), np.complex64),
        weights=net.get_canonical(),
    )
    opts = TFOptions(precision=args.precision, jit_compile=args.jit, verbose=0)
    icfg = InferenceConfig(batch_size=bs)
    t = time.perf_counter()
    infer(model, data.select(np.arange(min(bs, data.n_groups))), icfg, opts)  # build + trace + first batch
    first = time.perf_counter() - t
    t = time.perf_counter()
    infer(model, data, icfg, opts)
    dt = time.perf_counter() - t
    per_batch = dt / -(-data.n_groups // bs)
    return {
        "gridsize": g,
        "batch_size": bs,
        "precision": args.precision,
        "jit_compile": args.jit,
        "groups": data.n_groups,
        "patterns_per_s": data.n_groups * g * g / dt,
        "groups_per_s": data.n_groups / dt,
        "seconds": dt,
        "trace_seconds": max(first - per_batch, 0.0),
        "first_call_seconds": first,
        "peak_rss_mb": peak_rss_mb(),
        "gpu_peak_mb": gpu_peak_mb(),
        "threads": threads,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--patterns", type=int, default=512)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--gridsizes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    ap.add_argument("--jit", action="store_true", help="XLA-compile the inference function")
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/tf_infer.json")
    ap.add_argument("--gridsize", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--precision", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gridsize is not None:
        print(json.dumps(_one(args)))
        return
    rows = []
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
                    "--n-filters-scale",
                    str(args.n_filters_scale),
                ] + (["--jit"] if args.jit else [])
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                row = json.loads(out.strip().splitlines()[-1])
                threads = row.pop("threads")
                print(row, flush=True)
                rows.append(row)
    write_json(
        args.out,
        {
            "benchmark": "tf_infer",
            "N": 64,
            "n_filters_scale": args.n_filters_scale,
            "device": "gpu" if rows and rows[0]["gpu_peak_mb"] is not None else "cpu",
            "threads": threads if rows else None,
            "machine": machine(),
            "note": "patterns/s counts every pattern of every group (gridsize 2: 4 per group); steady state "
            "excludes the first call (graph tracing), reported as trace_seconds",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
