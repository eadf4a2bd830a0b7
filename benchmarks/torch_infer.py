"""Inference throughput of the PyTorch backend (patterns/s), N=64, gridsize 1 and 2.

    OMP_NUM_THREADS=2 python benchmarks/torch_infer.py --threads 2 --out benchmarks/results/torch_infer_cpu.json

Times ``get_backend("pytorch").infer`` (core's batching around the backend's predictor: network +
group_object, numpy in/out) on an untrained model (``architecture.init_weights``) of the default
width and ``--architecture``; stitching is not included. One warm-up call per setting (it builds
the predictor, which core then keeps for the timed call).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import grouped_random, machine, set_threads, untrained_model, write_json


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--patterns", type=int, default=1024)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--gridsizes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precisions", nargs="+", default=["32-true", "bf16-mixed"])
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available else cpu)")
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="64 patterns, batch 16, gridsize 1, float32 (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/torch_infer.json")
    args = ap.parse_args()
    if args.quick:
        args.patterns, args.batch_sizes, args.gridsizes, args.precisions = 64, [16], [1], ["32-true"]
    threads = set_threads(args.threads)

    import numpy as np
    import torch

    from ptychopinn import get_backend
    from ptychopinn.config import InferenceConfig, ModelConfig

    backend = get_backend("pytorch")
    rows = []
    for g in args.gridsizes:
        data = grouped_random(args.patterns, 64, g)
        cfg = ModelConfig(N=64, gridsize=g, n_filters_scale=args.n_filters_scale, architecture=args.architecture)
        model = untrained_model(cfg, data.diffraction, backend="pytorch")
        for prec in args.precisions:
            opts = backend.resolve_options(
                {"precision": prec, "inference_device": args.device, "num_threads": args.threads}
            )
            for bs in args.batch_sizes:
                icfg = InferenceConfig(batch_size=bs)
                backend.infer(model, data.select(np.arange(min(bs, data.n_groups))), icfg, opts)  # warm-up
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                t, c = time.perf_counter(), time.process_time()
                backend.infer(model, data, icfg, opts)
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                dt, dc = time.perf_counter() - t, time.process_time() - c
                row = {
                    "gridsize": g,
                    "batch_size": bs,
                    "precision": prec,
                    "groups": data.n_groups,
                    "patterns_per_s": data.n_groups * g * g / dt,
                    "groups_per_s": data.n_groups / dt,
                    "seconds": dt,
                    "cpu_seconds": dc,
                    "patterns_per_cpu_s": data.n_groups * g * g / dc,
                }
                print(row, flush=True)
                rows.append(row)
    write_json(
        args.out,
        {
            "benchmark": "torch_infer",
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "architecture": args.architecture,
            "n_filters_scale": args.n_filters_scale,
            "device": str(args.device or ("cuda" if torch.cuda.is_available() else "cpu")),
            "threads": threads,
            "machine": machine(),
            "note": "patterns/s counts every pattern of every group (gridsize 2: 4 per group)",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
