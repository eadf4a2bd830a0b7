"""Time to quality: SSIM against CPU-seconds for each architecture and backend, against rPIE.

For every backend and architecture this trains one model on the preset's scan (seed 0), then
reconstructs that scan and a *new* simulated object (``--new-seed``: train once, reconstruct
many) three ways, recording amplitude/phase SSIM against the truth and process CPU seconds:

- ``network``: one forward pass per pattern + stitching (CPU-s and patterns/s);
- ``network+refine``: the network's object refined against the scan, traced sweep by sweep
  (the trace's CPU-s include the network's);
- and, once per scan, ``flat+refine`` (refinement from a flat object) and core's ``rpie``
  (1, 2, 3, 5, 10, 20 sweeps), the iterative baseline.

Scoring time is excluded from the traces. Training cost is reported separately (CPU-s, wall).
Writes ``<out>/time_to_quality_<preset>.json``; ``benchmarks/time_to_quality_table.py`` turns it
into the table and plot of ``docs/results.md``.

    OMP_NUM_THREADS=1 python benchmarks/time_to_quality.py --preset benchmark \
        --backends pytorch,tensorflow --architectures fast,published --epochs 20 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _score(scan: Any, obj: Any) -> dict[str, float]:
    from ptychopinn.metrics import evaluate
    from ptychopinn.stitching import crop_to_canvas

    truth, _ = crop_to_canvas(scan.object, obj.canvas)
    m = evaluate(obj.object, truth, valid=obj.valid)
    return {"amplitude_ssim": float(m["amplitude"]["ssim"]), "phase_ssim": float(m["phase"]["ssim"])}


def _cpu() -> float:
    return time.process_time()


def _set_threads(backend: str, threads: int) -> None:
    if backend == "pytorch":
        import torch

        torch.set_num_threads(threads)
    elif backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised
            pass


def _refine_trace(scan: Any, start: Any, operator_backend: str | None, cpu_offset: float) -> list[dict[str, float]]:
    """Refine from ``start`` (a StitchedObject, or None for a flat object), SSIM after every sweep."""
    import ptychopinn
    from ptychopinn.config import RefinementConfig
    from ptychopinn.refinement import initial_state, refine, to_stitched
    from ptychopinn.stitching import default_canvas

    cfg = RefinementConfig(enabled=True)
    canvas = default_canvas(scan.positions, scan.N)
    trace: list[dict[str, float]] = []
    clock = {"start": _cpu(), "excluded": 0.0}

    def on_sweep(sweep: int, state: Any) -> None:
        t0 = _cpu()
        scored = _score(scan, to_stitched(problem, state, canvas, valid_threshold=0.1))
        trace.append({"sweep": sweep, "cpu_s": cpu_offset + t0 - clock["start"] - clock["excluded"], **scored})
        clock["excluded"] += _cpu() - t0

    problem, state = initial_state(scan, start, cfg)
    op = ptychopinn.get_backend(operator_backend).refinement_operator(problem) if operator_backend else None
    kwargs = {"operator": op} if op is not None else {}
    refine(problem, state, cfg, on_sweep=on_sweep, **kwargs)
    return trace


def _rpie_trace(scan: Any) -> list[dict[str, float]]:
    from ptychopinn.iterative import pie_reconstruct

    trace = []
    for sweeps in (1, 2, 3, 5, 10, 20):
        t0 = _cpu()
        obj = pie_reconstruct(scan, iterations=sweeps)
        trace.append({"sweep": sweeps, "cpu_s": _cpu() - t0, **_score(scan, obj)})
    return trace


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="benchmark")
    p.add_argument("--backends", default="pytorch,tensorflow")
    p.add_argument("--architectures", default="fast,published")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--gridsize", type=int, default=1)
    p.add_argument("--n-filters-scale", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--new-seed", type=int, default=1, help="seed of the second (unseen) object; -1 to skip")
    p.add_argument("--no-baselines", action="store_true", help="skip rPIE and flat+refine")
    p.add_argument("--tag", default="")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = p.parse_args(argv)

    import ptychopinn
    from ptychopinn.architecture import architecture_cost
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.simulate import benchmark_parameters, simulate_scan

    params = benchmark_parameters(args.preset)
    scans = {"train": simulate_scan(**params)}
    if args.new_seed >= 0:
        scans["new_object"] = simulate_scan(**{**params, "seed": args.new_seed})
    record: dict[str, Any] = {
        "command": " ".join([sys.executable, *sys.argv]),
        "preset": args.preset,
        "preset_parameters": params,
        "threads": args.threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average_start": list(os.getloadavg()),
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "patterns": int(scans["train"].n_patterns) if hasattr(scans["train"], "n_patterns") else None,
        "runs": [],
        "baselines": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"time_to_quality_{args.preset}{args.tag}.json"

    def save() -> None:  # after every step, so an interrupted run keeps what it measured
        record["load_average_end"] = list(os.getloadavg())
        path.write_text(json.dumps(record, indent=2, default=float) + "\n")

    if not args.no_baselines:
        for key, scan in scans.items():
            rpie = _rpie_trace(scan)
            flat = _refine_trace(scan, None, None, 0.0)
            record["baselines"][key] = {"rpie": rpie, "flat+refine": flat}
            print(key, "rpie", json.dumps(rpie[3]), "flat", json.dumps(flat[-1]), flush=True)
            save()
    for backend in args.backends.split(","):
        _set_threads(backend, args.threads)
        for arch in args.architectures.split(","):
            mc = ModelConfig(N=scans["train"].N, gridsize=args.gridsize, n_filters_scale=args.n_filters_scale,
                             architecture=arch)
            tc = TrainingConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=1e-3, seed=0)
            wall, cpu = time.perf_counter(), _cpu()
            model = ptychopinn.train(scans["train"], backend=backend, model_config=mc, training_config=tc)
            run: dict[str, Any] = {
                "backend": backend, "architecture": arch, "n_filters_scale": args.n_filters_scale,
                "gridsize": args.gridsize, "gflops_per_pattern": architecture_cost(mc).gflops_per_pattern,
                "params": architecture_cost(mc).params,
                "training": {"epochs": args.epochs, "wall_s": time.perf_counter() - wall, "cpu_s": _cpu() - cpu,
                             "epochs_run": model.training_summary.epochs_run if model.training_summary else None},
                "scans": {},
            }
            print(backend, arch, json.dumps(run["training"]), flush=True)
            for key, scan in scans.items():
                ptychopinn.reconstruct(model, scan, backend=backend, config=InferenceConfig())  # warm (build, trace)
                times = []
                for _ in range(3):
                    t0 = _cpu()
                    net = ptychopinn.reconstruct(model, scan, backend=backend, config=InferenceConfig())
                    times.append(_cpu() - t0)
                net_cpu = float(np.median(times))
                entry = {"network": {"cpu_s": net_cpu, "network_time_s": net.network_time_s,
                                     "patterns_per_cpu_s": len(scan.positions) / net_cpu, **_score(scan, net.object)}}
                entry["network+refine"] = _refine_trace(scan, net.object, backend, net_cpu)
                run["scans"][key] = entry
                print(" ", key, json.dumps(entry["network"]), json.dumps(entry["network+refine"][-1]), flush=True)
            record["runs"].append(run)
            save()
    save()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
