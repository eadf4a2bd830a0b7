"""Stitching time and memory on the ``benchmark`` preset (1024 patterns, N=64), current vs. a git revision.

    OMP_NUM_THREADS=1 python benchmarks/stitch_time.py --baseline-rev fd26716 \\
        --out benchmarks/results/stitch_time.json

Cuts the exact patches of the preset's object at its (jittered, sub-pixel) positions, then times
``reassemble`` (``method="lsq"`` and ``"average"``) of this checkout and of ``stitching.py`` at
``--baseline-rev`` (loaded from git into its own module), interleaved ``--repeats`` times in one
process. Reports medians, ratios, the accumulator bytes per canvas pixel, the largest difference
between the two results, and (``--infer``) the PyTorch ``infer`` time of the same 1024 patterns
(untrained default-width network, 1 thread) to give stitching's share of a reconstruction.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import load_average, machine, untrained_model, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load_rev(rev: str):
    src = subprocess.run(
        ["git", "show", f"{rev}:ptychopinn-core/src/ptychopinn/stitching.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "stitching_baseline.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("stitching_baseline", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _accumulator_bytes(stitcher) -> int:
    return sum(a.nbytes for a in vars(stitcher).values() if hasattr(a, "nbytes") and a is not stitcher.weight)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline-rev", default="HEAD")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--infer", action="store_true", help="also time PyTorch infer on the same patterns")
    ap.add_argument("--architecture", choices=["published", "fast"], default="published",
                    help="network of the --infer comparison")
    ap.add_argument("--quick", action="store_true", help="1 repeat (smoke test; write to /tmp)")
    ap.add_argument("--out", default="benchmarks/results/stitch_time.json")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1
    import numpy as np
    from ptychopinn import stitching as new
    from ptychopinn.physics.patches import extract_object_patches
    from ptychopinn.simulate import benchmark_scan

    old = _load_rev(args.baseline_rev)
    scan = benchmark_scan("benchmark")
    N = scan.probe.shape[0]
    patches = extract_object_patches(scan.object, scan.positions, N).astype(np.complex64)
    canvas = new.default_canvas(scan.positions, N)
    times: dict[str, list[float]] = {}
    results = {}
    for rep in range(args.repeats):
        for method in ("lsq", "average"):
            for name, mod in (("new", new), ("old", old)) if rep % 2 else (("old", old), ("new", new)):
                t = time.perf_counter()
                res = mod.reassemble(patches, scan.positions, scan.probe, canvas=canvas, method=method)
                times.setdefault(f"{name}_{method}", []).append(time.perf_counter() - t)
                results[(name, method)] = res
    summary: dict[str, object] = {k: float(np.median(v)) for k, v in times.items()}
    for method in ("lsq", "average"):
        summary[f"speedup_{method}"] = summary[f"old_{method}"] / summary[f"new_{method}"]  # type: ignore[operator]
        a, b = results[("old", method)], results[("new", method)]
        scale = float(np.abs(a.object[a.valid]).max())
        summary[f"max_abs_diff_over_max_{method}"] = float(np.abs(a.object - b.object).max()) / scale
        summary[f"valid_equal_{method}"] = bool(np.array_equal(a.valid, b.valid))
        summary[f"weight_max_rel_diff_{method}"] = float(np.abs(a.weight - b.weight).max() / a.weight.max())
    weight = new.patch_weight(scan.probe)
    H, W = canvas.shape
    for name, mod in (("old", old), ("new", new)):
        st = mod.Stitcher(weight, canvas)
        summary[f"{name}_accumulator_bytes_per_pixel"] = _accumulator_bytes(st) / ((H + 2) * (W + 2))
    if args.infer:
        from ptychopinn import get_backend
        from ptychopinn.config import InferenceConfig, ModelConfig
        from ptychopinn.grouping import make_grouped_scan

        backend = get_backend("pytorch")
        cfg = ModelConfig(N=N, gridsize=1, architecture=args.architecture)
        grouped = make_grouped_scan(scan, gridsize=1)
        model = dataclasses.replace(untrained_model(cfg, scan.diffraction, backend="pytorch"), probe=scan.probe)
        opts = backend.resolve_options({"num_threads": 1, "inference_device": "cpu"})
        backend.infer(model, grouped.select(np.arange(16)), InferenceConfig(), opts)  # builds the predictor
        t = time.perf_counter()
        backend.infer(model, grouped, InferenceConfig(), opts)
        summary["torch_infer_1thread_s"] = time.perf_counter() - t
        for name in ("old", "new"):
            s = summary[f"{name}_lsq"]
            summary[f"{name}_lsq_share_of_reconstruction"] = s / (s + summary["torch_infer_1thread_s"])  # type: ignore[operator]
    write_json(
        args.out,
        {
            "benchmark": "stitch_time",
            "command": " ".join(["python"] + sys.argv),
            "preset": "benchmark",
            "architecture": args.architecture if args.infer else None,
            "patterns": int(len(scan.positions)),
            "N": N,
            "canvas": [H, W],
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "load_average_end": load_average(),
            "machine": machine(),
            "median_seconds_and_ratios": summary,
            "raw_seconds": times,
        },
    )
    print(summary)


if __name__ == "__main__":
    main()
