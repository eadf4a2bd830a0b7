"""Start-up cost of a reconstruction: import, bundle load, first and second ``reconstruct`` call.

    OMP_NUM_THREADS=1 python benchmarks/reconstruct_startup.py --repeats 3 \\
        --out benchmarks/results/reconstruct_startup.json

For each backend, a bundle of an untrained default-width model (core's ``init_weights``,
``--architecture``, gridsize 1) is written once; then fresh processes (``--repeats`` each, backends
interleaved) time, with ``perf_counter`` inside the child: ``import ptychopinn``;
``ptychopinn.load_model(bundle)`` (core reads the bundle, no backend involved since API 2.0); the
first ``ptychopinn.reconstruct(..., backend=...)`` of a 64-pattern scan (plugin discovery,
framework import, predictor build / tracing, normalisation, stitching) and a second one. The whole process wall time
(interpreter start to exit) is reported too. One ``-X importtime`` run per backend lists the
modules that dominate the load step.
"""

from __future__ import annotations

import argparse
import json
import os
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import load_average, machine, untrained_model, write_json  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import ptychopinn
t1 = time.perf_counter()
from ptychopinn.simulate import benchmark_scan
scan = benchmark_scan("sparse")
scan = type(scan)(diffraction=scan.diffraction[:64], positions=scan.positions[:64], probe=scan.probe)
t2 = time.perf_counter()
model = ptychopinn.load_model(sys.argv[1])
t3 = time.perf_counter()
ptychopinn.reconstruct(model, scan, backend=sys.argv[3], options=json.loads(sys.argv[2]))
t4 = time.perf_counter()
ptychopinn.reconstruct(model, scan, backend=sys.argv[3], options=json.loads(sys.argv[2]))
t5 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t3 - t2, "first_call_s": t4 - t3, "second_call_s": t5 - t4}))
"""

OPTIONS = {"pytorch": {"num_threads": 1}, "tensorflow": {"intra_op_threads": 1, "inter_op_threads": 1}}


def _bundle(backend: str, directory: Path, architecture: str) -> Path:
    """A bundle of an untrained model (core's ``init_weights``) labelled with ``backend``."""
    import ptychopinn
    from ptychopinn.config import ModelConfig
    from ptychopinn.simulate import benchmark_scan

    scan = benchmark_scan("sparse")
    model = untrained_model(ModelConfig(N=64, gridsize=1, architecture=architecture), scan.diffraction, backend=backend)
    model = dataclasses.replace(model, probe=scan.probe)
    return ptychopinn.save_model(model, directory / f"{backend}.ptychopinn.zip")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backends", nargs="+", default=["pytorch", "tensorflow"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="1 repeat, no -X importtime run (smoke test)")
    ap.add_argument("--out", default="benchmarks/results/reconstruct_startup.json")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    tmp = Path(tempfile.mkdtemp())
    bundles = {b: _bundle(b, tmp, args.architecture) for b in args.backends}
    runs: dict[str, list[dict[str, float]]] = {b: [] for b in args.backends}
    for rep in range(args.repeats):
        order = args.backends if rep % 2 == 0 else args.backends[::-1]
        for b in order:
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(bundles[b]), json.dumps(OPTIONS[b]), b],
                check=True, capture_output=True, text=True, env=env,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = time.perf_counter() - t
            runs[b].append(row)
            print(b, row, flush=True)
    top: dict[str, list[tuple[str, float]]] = {}
    for b in [] if args.quick else args.backends:
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", CHILD, str(bundles[b]), json.dumps(OPTIONS[b]), b],
            check=True, capture_output=True, text=True, env=env,
        ).stderr
        cum = []
        for line in err.splitlines():
            parts = line.split("|")
            if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
                name = parts[2].rstrip()
                if len(name) - len(name.lstrip()) <= 3:  # top-level imports (and their direct children)
                    cum.append((name.strip(), int(parts[1]) / 1e6))
        top[b] = sorted(cum, key=lambda x: -x[1])[:12]
    summary = {
        b: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for b, rows in runs.items()
    }
    write_json(
        args.out,
        {
            "benchmark": "reconstruct_startup",
            "command": " ".join(["python"] + sys.argv),
            "scan": "first 64 patterns of the 'sparse' preset, N=64, gridsize 1, default width, untrained",
            "architecture": args.architecture,
            "OMP_NUM_THREADS": env["OMP_NUM_THREADS"],
            "load_average_end": load_average(),
            "machine": machine(),
            "median_seconds": summary,
            "top_level_imports_cumulative_s": top,
            "raw": runs,
        },
    )
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
