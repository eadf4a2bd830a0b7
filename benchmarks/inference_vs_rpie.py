"""Network inference against rPIE sweeps, one thread, in the same run (issue #15 must-show).

For each backend and architecture, on the ``benchmark`` scan (1024 patterns, N=64): the
predictor's throughput (patterns per CPU-second, batch 64, network only), and the CPU-seconds of a
whole network-only reconstruction (grouping, network, group merge, stitching, data consistency),
next to the CPU-seconds of 1 and 5 core rPIE sweeps on the same scan. Weights are core's seeded
initial weights: throughput does not depend on training. Median of ``--rounds`` interleaved rounds.

    OMP_NUM_THREADS=1 python benchmarks/inference_vs_rpie.py --out benchmarks/results/inference_vs_rpie.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _cpu(fn: Any) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", default="pytorch,tensorflow,onnx")
    p.add_argument("--architectures", default="fast,published")
    p.add_argument("--gridsizes", default="1,2")
    p.add_argument("--n-filters-scale", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/inference_vs_rpie.json"))
    args = p.parse_args(argv)

    import ptychopinn
    from ptychopinn.architecture import architecture_cost, init_weights
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.iterative import pie_reconstruct
    from ptychopinn.physics.normalisation import estimate_normalisation
    from ptychopinn.results import TrainedModel
    from ptychopinn.simulate import benchmark_parameters, simulate_scan

    scan = simulate_scan(**benchmark_parameters("benchmark"))
    backends = [b for b in args.backends.split(",")
                if importlib.util.find_spec({"pytorch": "ptychopinn_torch", "tensorflow": "ptychopinn_tf",
                                             "onnx": "ptychopinn_onnx"}.get(b, b)) is not None]
    options = {"pytorch": {"num_threads": 1}, "tensorflow": {"intra_op_threads": 1, "inter_op_threads": 1},
               "onnx": {"intra_op_num_threads": 1, "inter_op_num_threads": 1}}
    cases = []
    for gs in map(int, args.gridsizes.split(",")):
        groups = make_grouped_scan(scan, gridsize=gs, seed=0)
        for arch in args.architectures.split(","):
            mc = ModelConfig(N=scan.N, gridsize=gs, n_filters_scale=args.n_filters_scale, architecture=arch)
            norm = estimate_normalisation(scan.diffraction)
            model = TrainedModel(backend="pytorch", backend_version="init", model_config=mc,
                                 training_config=TrainingConfig(), normalisation=norm, probe=scan.probe,
                                 weights=init_weights(mc, seed=0))
            for backend in backends:
                handle = ptychopinn.get_backend(backend)
                opts = handle.resolve_options(options.get(backend))
                predictor = handle.predictor(model, opts)
                x = (groups.batch_diffraction(0, groups.n_groups)
                     * np.float32(model.normalisation.network_scale)).astype(np.float32)
                predictor.predict(x[:64])  # build / trace
                cases.append({"backend": backend, "architecture": arch, "gridsize": gs, "predictor": predictor,
                              "handle": handle, "options": opts, "model": model, "x": x,
                              "gflops_per_pattern": architecture_cost(mc).gflops_per_pattern,
                              "predict_cpu_s": [], "reconstruct_cpu_s": []})
    rpie = {"1": [], "5": []}
    for _ in range(args.rounds):
        for sweeps in (1, 5):
            rpie[str(sweeps)].append(_cpu(lambda s=sweeps: pie_reconstruct(scan, iterations=s)))
        for case in cases:
            x, pred = case["x"], case["predictor"]
            case["predict_cpu_s"].append(_cpu(lambda x=x, pred=pred: [pred.predict(x[i:i + 64])
                                                                      for i in range(0, len(x), 64)]))
            case["reconstruct_cpu_s"].append(_cpu(lambda c=case: ptychopinn.reconstruct(
                c["model"], scan, backend=c["backend"], config=InferenceConfig(), options=c["options"])))
    n = len(scan.positions)
    record: dict[str, Any] = {
        "command": " ".join([sys.executable, *sys.argv]), "threads": 1,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average": list(os.getloadavg()), "machine": platform.processor() or platform.machine(),
        "patterns": n, "rounds": args.rounds,
        "rpie_cpu_s": {k: {"median": float(np.median(v)), "all": v} for k, v in rpie.items()},
        "cases": [],
    }
    for case in cases:
        predict = float(np.median(case["predict_cpu_s"]))
        recon = float(np.median(case["reconstruct_cpu_s"]))
        row = {"backend": case["backend"], "architecture": case["architecture"], "gridsize": case["gridsize"],
               "gflops_per_pattern": case["gflops_per_pattern"], "groups": int(len(case["x"])),
               "predict_cpu_s": predict, "patterns_per_cpu_s": n / predict,
               "reconstruct_cpu_s": recon, "reconstruct_patterns_per_cpu_s": n / recon,
               "faster_than_5_rpie_sweeps": recon < record["rpie_cpu_s"]["5"]["median"],
               "all_predict_cpu_s": case["predict_cpu_s"], "all_reconstruct_cpu_s": case["reconstruct_cpu_s"]}
        record["cases"].append(row)
        print(json.dumps({k: row[k] for k in ("backend", "architecture", "gridsize", "patterns_per_cpu_s",
                                              "reconstruct_cpu_s")}), flush=True)
    print("rpie", json.dumps({k: v["median"] for k, v in record["rpie_cpu_s"].items()}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
