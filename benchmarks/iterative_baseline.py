"""The iterative yardstick: rPIE with the known probe on core's simulated benchmark presets.

Scores ``ptychopinn.iterative.pie_reconstruct`` against the ground truth with the same metric
path as ``benchmarks/quality.py`` (``ptychopinn.metrics.evaluate`` on the lit region), so the
learned backends' numbers can be read against what the data allow. Single-threaded numpy.

    OMP_NUM_THREADS=1 python benchmarks/iterative_baseline.py --preset benchmark benchmark_zoneplate \
        benchmark_fine --iterations 1 2 5 20 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", nargs="+", default=["benchmark"])
    ap.add_argument("--iterations", type=int, nargs="+", default=[1, 2, 5, 20])
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true", help="preset 'small', 1 iteration (smoke test: --out under /tmp)")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    if args.quick:
        args.preset, args.iterations = ["small"], [1]

    from ptychopinn.iterative import pie_reconstruct
    from ptychopinn.metrics import evaluate
    from ptychopinn.simulate import benchmark_parameters, simulate_scan
    from ptychopinn.stitching import crop_to_canvas

    runs = []
    for preset in args.preset:
        params = benchmark_parameters(preset)
        scan = simulate_scan(**params)
        for iterations in args.iterations:
            errors: list[float] = []
            t0 = time.perf_counter()
            rec = pie_reconstruct(
                scan, iterations=iterations, beta=args.beta, progress=lambda i, e, out=errors: out.append(e)
            )
            wall = time.perf_counter() - t0
            truth, _ = crop_to_canvas(scan.object, rec.canvas)
            metrics = evaluate(rec.object, truth, valid=rec.valid)
            metrics.pop("frc_curves", None)
            runs.append(
                {
                    "preset": preset,
                    "scan": params,
                    "iterations": iterations,
                    "beta": args.beta,
                    "wall_s": wall,
                    "fourier_error": errors,
                    "metrics": metrics,
                }
            )
            a, p = metrics["amplitude"], metrics["phase"]
            print(
                f"{preset} rPIE x{iterations}: amplitude SSIM {a['ssim']:.3f} PSNR {a['psnr_db']:.1f} dB | "
                f"phase SSIM {p['ssim']:.3f} PSNR {p['psnr_db']:.1f} dB | {wall:.1f} s"
            )
    result = {
        "benchmark": "iterative_baseline",
        "solver": "rPIE, known probe, object only (ptychopinn.iterative.pie_reconstruct)",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "threads": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "loadavg": os.getloadavg(),
        "runs": runs,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "iterative_baseline.json").write_text(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
