"""Inference throughput vs. the network's internal chunk size, interleaved in one process.

    OMP_NUM_THREADS=1 python benchmarks/infer_chunking.py --backend pytorch --threads 1 \\
        --out benchmarks/results/torch_infer_chunking.json
    OMP_NUM_THREADS=1 python benchmarks/infer_chunking.py --backend tensorflow --threads 1 \\
        --out benchmarks/results/tf_infer_chunking.json

Times the backend's ``infer`` hook (untrained default-width network, N=64, gridsize 1) for each
``(InferenceConfig.batch_size, inference_chunk_size)`` setting; ``chunk 0`` = no chunking (one
network call per ``batch_size``, the behaviour before session 3). The settings are run in a
shuffled round-robin ``--repeats`` times so all of them see the same machine load; medians and the
ratio to the unchunked call at the same batch size are reported.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import grouped_random, machine, write_json  # noqa: E402


def _torch_setup(args, data, cfg):
    from _torch_common import set_threads

    threads = set_threads(args.threads)
    import numpy as np
    import torch
    from ptychopinn.config import TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainedModel

    from ptychopinn_torch.inference import infer
    from ptychopinn_torch.network import PtychoPINNNet
    from ptychopinn_torch.options import TorchOptions
    from ptychopinn_torch.weights import state_to_weights

    torch.manual_seed(0)
    model = TrainedModel(
        backend="pytorch",
        backend_version="bench",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(data.diffraction),
        probe=np.ones((64, 64), np.complex64),
        weights=state_to_weights(PtychoPINNNet(cfg)),
    )

    def run(icfg, chunk):
        opts = TorchOptions(num_threads=args.threads, inference_chunk_size=chunk or None, inference_device="cpu")
        return infer(model, data, icfg, opts)

    return threads, run


def _tf_setup(args, data, cfg):
    from _tf_common import set_tf_threads

    threads = set_tf_threads(args.threads)
    import numpy as np
    from ptychopinn.config import TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainedModel

    from ptychopinn_tf.inference import infer
    from ptychopinn_tf.model import PtychoPINNModel
    from ptychopinn_tf.options import TFOptions

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

    def run(icfg, chunk):
        return infer(model, data, icfg, TFOptions(verbose=0, inference_chunk_size=chunk or None))

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
    ap.add_argument("--out", default="benchmarks/results/infer_chunking.json")
    args = ap.parse_args()
    import numpy as np
    from ptychopinn.config import InferenceConfig, ModelConfig

    data = grouped_random(args.patterns, 64, 1)
    cfg = ModelConfig(N=64, gridsize=1, n_filters_scale=args.n_filters_scale)
    threads, run = (_torch_setup if args.backend == "pytorch" else _tf_setup)(args, data, cfg)
    settings = [(bs, c) for bs in args.batch_sizes for c in args.chunk_sizes if c == 0 or c < bs]
    for bs, c in settings:  # warm-up (tracing, allocator)
        run(InferenceConfig(batch_size=bs), c)
    times: dict[tuple[int, int], list[float]] = {s: [] for s in settings}
    rng = random.Random(0)
    for _ in range(args.repeats):
        order = settings[:]
        rng.shuffle(order)
        for bs, c in order:
            t = time.perf_counter()
            run(InferenceConfig(batch_size=bs), c)
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
            "groups": data.n_groups,
            "threads": threads,
            "load_average_end": list(os.getloadavg()),
            "machine": machine(),
            "note": "chunk_size 0 = no chunking; shuffled round-robin, medians of --repeats calls",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
