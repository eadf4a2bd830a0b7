"""Inference throughput of the TensorFlow backend (patterns/s), N=64, gridsize 1 and 2.

    python benchmarks/tf_infer.py --threads 2 --out benchmarks/results/tf_infer_cpu.json

Times ``get_backend("tensorflow").infer`` (core's batching around the backend's predictor: network
+ group_object, numpy in/out) on an untrained model (``architecture.init_weights``) of the default
width and ``--architecture``, like ``torch_infer.py``. The first call of each setting (graph tracing and, with
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
from _torch_common import untrained_model  # noqa: E402


def _one(args) -> dict:
    threads = set_tf_threads(args.threads)
    import numpy as np
    from ptychopinn import get_backend
    from ptychopinn.config import InferenceConfig, ModelConfig

    backend = get_backend("tensorflow")
    g, bs = args.gridsize, args.batch_size
    data = grouped_random(args.patterns, 64, g)
    cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=args.n_filters_scale, architecture=args.architecture)
    model = untrained_model(cfg, data.diffraction, backend="tensorflow")
    opts = backend.resolve_options({"precision": args.precision, "jit_compile": args.jit, "verbose": 0})
    icfg = InferenceConfig(batch_size=bs)
    t = time.perf_counter()
    backend.infer(model, data.select(np.arange(min(bs, data.n_groups))), icfg, opts)  # build + trace + first batch
    first = time.perf_counter() - t
    t = time.perf_counter()
    backend.infer(model, data, icfg, opts)
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
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="64 patterns, batch 16, gridsize 1, float32 (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/tf_infer.json")
    ap.add_argument("--gridsize", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--precision", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.patterns, args.batch_sizes, args.gridsizes, args.precisions = 64, [16], [1], ["float32"]
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
            "benchmark": "tf_infer",
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "architecture": args.architecture,
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
