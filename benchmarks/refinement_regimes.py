"""Network, network + refinement, refinement from a flat start and rPIE in several regimes.

For each regime preset (``ptychopinn.simulate.BENCHMARKS``) this simulates the scan, trains a
network on it (or loads ``--model``: train once, reconstruct many), then scores four methods
against the simulated truth with ``ptychopinn.metrics.evaluate``:

- ``network``: the trained network, one forward pass per pattern + stitching;
- ``network+refine``: the network's object refined against the scan (held-out rule);
- ``flat+refine``: the same refinement from a flat object (no network);
- ``rpie5`` / ``rpie20``: core's rPIE (:mod:`ptychopinn.iterative`), 5 and 20 sweeps.

For ``perturbed`` (wrong stored positions and probe) the refinements refine probe and positions;
``network+refine(object only)`` shows what position/probe refinement adds. Each method records
amplitude/phase SSIM, PSNR, FRC50, median data consistency (Poisson half-deviance per pixel), wall
and CPU seconds; training is reported separately. Writes ``<out>/regimes_<preset>.json``.

    OMP_NUM_THREADS=1 python benchmarks/refinement_regimes.py --preset benchmark --backend pytorch \
        --epochs 20 --threads 1 --out benchmarks/results
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



def _score(scan: Any, obj: Any) -> dict[str, Any]:
    from ptychopinn.metrics import evaluate
    from ptychopinn.stitching import crop_to_canvas

    truth, _ = crop_to_canvas(scan.object, obj.canvas)
    m = evaluate(obj.object, truth, valid=obj.valid)
    out: dict[str, Any] = {}
    for ch in ("amplitude", "phase"):
        out[ch] = {k: m[ch][k] for k in ("ssim", "psnr_db", "frc50_cycles_per_px")}
    return out


def _timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="benchmark")
    p.add_argument("--backend", default="pytorch")
    p.add_argument("--model", type=Path, help="use this bundle instead of training on the scan")
    p.add_argument("--save-model", type=Path, help="save the trained bundle here")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--gridsize", type=int, default=2)
    p.add_argument("--n-filters-scale", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, help="simulate the preset with this seed instead (another object and scan)")
    p.add_argument("--tag", default="")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = p.parse_args(argv)

    import ptychopinn
    from ptychopinn.config import InferenceConfig, ModelConfig, RefinementConfig, TrainingConfig
    from ptychopinn.iterative import pie_reconstruct
    from ptychopinn.refinement import data_consistency, initial_state, refine, to_stitched
    from ptychopinn.simulate import benchmark_parameters, simulate_scan
    from ptychopinn.stitching import default_canvas

    if args.backend == "pytorch":
        import torch

        torch.set_num_threads(args.threads)
    params = benchmark_parameters(args.preset)
    if args.seed is not None:
        params["seed"] = args.seed
    scan = simulate_scan(**params)
    perturbed = bool(params.get("position_error_px") or params.get("probe_error"))
    record: dict[str, Any] = {
        "command": " ".join([sys.executable, *sys.argv]),
        "preset": args.preset,
        "preset_parameters": params,
        "backend": args.backend,
        "threads": args.threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average_start": list(os.getloadavg()),
        "machine": platform.processor() or platform.machine(),
        "methods": {},
    }
    if args.model:
        model = ptychopinn.load_model(args.model, backend=args.backend)
        summary = model.training_summary
        record["training"] = {"model": str(args.model),
                              "epochs_run": summary.epochs_run if summary else None,
                              "training_wall_s": summary.wall_time_s if summary else None}
    else:
        mc = ModelConfig(N=scan.N, gridsize=args.gridsize, n_filters_scale=args.n_filters_scale)
        tc = TrainingConfig(epochs=args.epochs, batch_size=16, learning_rate=1e-3, seed=0)
        model, wall, cpu = _timed(lambda: ptychopinn.train(scan, backend=args.backend, model_config=mc,
                                                            training_config=tc))
        record["training"] = {"epochs": args.epochs, "gridsize": args.gridsize,
                              "n_filters_scale": args.n_filters_scale, "wall_s": wall, "cpu_s": cpu,
                              "final_loss": model.training_summary.history["loss"][-1]}
        if args.save_model:
            ptychopinn.save_model(model, args.save_model)
    print(json.dumps(record["training"]), flush=True)

    full = RefinementConfig(enabled=True, refine_probe=perturbed, refine_positions=perturbed)
    from dataclasses import asdict

    record["refinement_config"] = asdict(full)
    configs = {"network": None, "network+refine": full}
    if perturbed:
        configs["network+refine(object only)"] = RefinementConfig(enabled=True)
    for name, cfg in configs.items():
        ic = InferenceConfig(refinement=cfg) if cfg is not None else InferenceConfig()
        res, wall, cpu = _timed(lambda ic=ic: ptychopinn.reconstruct(model, scan, backend=args.backend, config=ic))
        entry = {**_score(scan, res.object), "wall_s": wall, "cpu_s": cpu, "network_wall_s": res.network_time_s,
                 "data_consistency": {k: v.summary() for k, v in res.consistency.items()}}
        if res.refinement is not None:
            entry["refinement"] = res.refinement.to_dict()
        if res.refined_positions is not None and perturbed:
            true = simulate_scan(**{**params, "position_error_px": 0.0, "probe_error": 0.0}).positions
            residual = res.refined_positions - true
            residual -= residual.mean(axis=0)  # a global shift is not observable
            error = np.sqrt(np.sum(residual**2, axis=1))
            before = scan.positions - true
            entry["position_error_px"] = {
                "rms_before": float(np.sqrt(np.mean(np.sum((before - before.mean(axis=0)) ** 2, axis=1)))),
                "rms_after": float(np.sqrt(np.mean(error**2))), "median_after": float(np.median(error)),
                "p90_after": float(np.percentile(error, 90))}
        record["methods"][name] = entry
        print(name, json.dumps({k: entry[k] for k in ("amplitude", "phase", "wall_s")}), flush=True)

    canvas = default_canvas(scan.positions, scan.N)

    def traced(start: Any) -> tuple[Any, Any, list[dict[str, float]]]:
        """Refine from ``start`` (None = flat) recording SSIM and CPU seconds after every sweep
        (scoring time excluded)."""
        trace: list[dict[str, float]] = []
        clock = {"cpu": time.process_time(), "excluded": 0.0}

        def on_sweep(sweep: int, state: Any) -> None:
            t0 = time.process_time()
            obj = to_stitched(problem, state, canvas, valid_threshold=0.1)
            sc = _score(scan, obj)
            trace.append({"sweep": sweep, "cpu_s": t0 - clock["cpu"] - clock["excluded"],
                          "amplitude_ssim": sc["amplitude"]["ssim"], "phase_ssim": sc["phase"]["ssim"]})
            clock["excluded"] += time.process_time() - t0

        problem, state = initial_state(scan, start, full)
        op = ptychopinn.get_backend(args.backend).refinement_operator(problem)
        result = refine(problem, state, full, operator=op, on_sweep=on_sweep)
        return problem, result, trace

    (problem, result, trace), wall, cpu = _timed(lambda: traced(None))
    obj = to_stitched(problem, result.state, canvas, valid_threshold=0.1)
    record["methods"]["flat+refine"] = {
        **_score(scan, obj), "wall_s": wall, "cpu_s": cpu, "refinement": result.report.to_dict(),
        "data_consistency": {"refined": data_consistency(problem, result.state).summary()}, "trace": trace,
    }
    print("flat+refine", json.dumps(record["methods"]["flat+refine"]["amplitude"]), flush=True)
    network = ptychopinn.reconstruct(model, scan, backend=args.backend, config=InferenceConfig())
    _, _, trace = traced(network.object)
    record["methods"]["network+refine"]["trace"] = [
        {**t, "cpu_s": t["cpu_s"] + record["methods"]["network"]["cpu_s"]} for t in trace]
    rpie_trace = []
    for sweeps in (1, 2, 3, 5, 10, 20):
        obj, wall, cpu = _timed(lambda s=sweeps: pie_reconstruct(scan, iterations=s))
        sc = _score(scan, obj)
        rpie_trace.append({"sweep": sweeps, "cpu_s": cpu, "amplitude_ssim": sc["amplitude"]["ssim"],
                           "phase_ssim": sc["phase"]["ssim"]})
        if sweeps in (5, 20):
            record["methods"][f"rpie{sweeps}"] = {**sc, "wall_s": wall, "cpu_s": cpu}
            print(f"rpie{sweeps}", json.dumps(sc["amplitude"]), flush=True)
    record["methods"]["rpie5"]["trace"] = rpie_trace
    record["load_average_end"] = list(os.getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"regimes_{args.preset}{args.tag}.json"
    path.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
