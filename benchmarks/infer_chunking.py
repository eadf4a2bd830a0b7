"""Inference throughput vs. the network's internal chunk size, interleaved in one process.

    OMP_NUM_THREADS=1 python benchmarks/infer_chunking.py --backend pytorch --threads 1 \\
        --out benchmarks/results/torch_infer_chunking.json
    OMP_NUM_THREADS=1 python benchmarks/infer_chunking.py --backend tensorflow --threads 1 \\
        --out benchmarks/results/tf_infer_chunking.json

Times the backend's predictor (``get_backend(name).predictor``; untrained default-width network of
``--architecture``, N=64, gridsize 1), called once per ``batch_size`` groups as core's
``Backend.infer`` does, for each ``(InferenceConfig.batch_size, inference_chunk_size)`` setting;
``chunk 0`` = no chunking (one
network call per ``batch_size``, the behaviour before session 3). The settings are run in a
shuffled round-robin ``--repeats`` times so all of them see the same machine load; medians and the
ratio to the unchunked call at the same batch size are reported.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import grouped_random, load_average, machine, untrained_model, write_json  # noqa: E402


def _predict_all(predictor, x, batch_size: int) -> None:
    """What core's ``Backend.infer`` does around the network: one ``predict`` per ``batch_size`` groups."""
    for i in range(0, x.shape[0], batch_size):
        predictor.predict(x[i : i + batch_size])


def _setup(args, data, cfg):
    """Thread settings and ``run(batch_size, chunk)`` for the backend of ``args.backend``."""
    import numpy as np

    if args.backend == "pytorch":
        from _torch_common import set_threads

        threads = set_threads(args.threads)
        base = {"num_threads": args.threads, "inference_device": "cpu", "accelerator": "cpu"}
    else:
        from _tf_common import set_tf_threads

        threads = set_tf_threads(args.threads)
        base = {"verbose": 0}
    from ptychopinn import get_backend

    backend = get_backend(args.backend)
    model = untrained_model(cfg, data.diffraction, backend=args.backend)
    x = data.batch_diffraction(0, data.n_groups) * np.float32(model.normalisation.network_scale)
    # One predictor per chunk size, held here (core's cache keeps only the most recent few).
    predictors = {
        c: backend.predictor(model, {**base, "inference_chunk_size": c or None}) for c in args.chunk_sizes
    }

    def run(batch_size: int, chunk: int) -> None:
        _predict_all(predictors[chunk], x, batch_size)

    return threads, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", choices=["pytorch", "tensorflow"], default="pytorch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--patterns", type=int, default=256)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 256])
    ap.add_argument("--chunk-sizes", type=int, nargs="+", default=[0, 8, 16, 32, 64])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="64 patterns, 1 repeat (smoke test; write to /tmp)")
    ap.add_argument("--out", default="benchmarks/results/infer_chunking.json")
    args = ap.parse_args()
    if args.quick:
        args.patterns, args.repeats, args.batch_sizes, args.chunk_sizes = 64, 1, [16, 64], [0, 16]
    import numpy as np
    from ptychopinn.config import ModelConfig

    data = grouped_random(args.patterns, 64, 1)
    cfg = ModelConfig(N=64, gridsize=1, n_filters_scale=args.n_filters_scale, architecture=args.architecture)
    threads, run = _setup(args, data, cfg)
    settings = [(bs, c) for bs in args.batch_sizes for c in args.chunk_sizes if c == 0 or c < bs]
    for bs, c in settings:  # warm-up (tracing, allocator)
        run(bs, c)
    times: dict[tuple[int, int], list[float]] = {s: [] for s in settings}
    rng = random.Random(0)
    for _ in range(args.repeats):
        order = settings[:]
        rng.shuffle(order)
        for bs, c in order:
            t = time.perf_counter()
            run(bs, c)
            times[(bs, c)].append(time.perf_counter() - t)
    rows = []
    for bs, c in settings:
        med = float(np.median(times[(bs, c)]))
        base = float(np.median(times[(bs, 0)]))
        rows.append(
            {
                "batch_size": bs,
                "chunk_size": c,
                "median_seconds": med,
                "patterns_per_s": data.n_groups / med,
                "speedup_vs_unchunked": base / med,
                "seconds": times[(bs, c)],
            }
        )
        print(rows[-1], flush=True)
    write_json(
        args.out,
        {
            "benchmark": "infer_chunking",
            "backend": args.backend,
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "gridsize": 1,
            "n_filters_scale": args.n_filters_scale,
            "architecture": args.architecture,
            "groups": data.n_groups,
            "threads": threads,
            "load_average_end": load_average(),
            "machine": machine(),
            "note": "chunk_size 0 = no chunking; shuffled round-robin, medians of --repeats calls",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
