"""Predictor throughput of the ONNX Runtime, PyTorch and TensorFlow backends, in one run, at 1 thread.

    OMP_NUM_THREADS=1 python ptychopinn-onnx/benchmarks/onnx_throughput.py \\
        --out ptychopinn-onnx/benchmarks/results/onnx_throughput.json

Times ``Predictor.predict`` (the network only: no grouping, no stitching) on one batch of
``--batch`` random network-unit patterns, N=64, gridsize 1, for the ``published`` and ``fast``
architectures with the same canonical weights (core's ``init_weights``, seed 0) on every backend.
Predictors come from core's ``Backend.predictor`` (the path ``ptychopinn reconstruct`` uses);
a backend whose entry point is not installed here but whose source is importable (the ONNX
backend next to this file) is built with its own ``build_predictor``. Each backend keeps its
default options except the thread count (1 intra-op, 1 inter-op thread). After one warm-up call
per predictor, ``--rounds`` rounds visit every (architecture, backend) in a shuffled order
(interleaved, so all see the same machine load); the median patterns/s over rounds is reported.
The outputs are also compared with core's numpy reference (max |diff|) on the same batch.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
THREAD_OPTIONS = {
    "onnx": {"intra_op_num_threads": 1, "inter_op_num_threads": 1},
    "pytorch": {"num_threads": 1, "inference_device": "cpu", "accelerator": "cpu"},
    "tensorflow": {"intra_op_threads": 1, "inter_op_threads": 1},
}
"""Backend options that pin one thread (only the keys a backend's options dataclass has are passed)."""


def _dist_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version}
    info["loadavg_1_5_15_start"] = os.getloadavg()
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    return info


def _options_for(backend: Any, name: str) -> dict[str, Any]:
    """The thread-pinning keys the backend's own options accept (resolved by the backend)."""
    wanted = THREAD_OPTIONS.get(name, {})
    resolved = backend.resolve_options(None) if backend is not None else None
    if resolved is None or not dataclasses.is_dataclass(resolved):
        return dict(wanted)
    known = {f.name for f in dataclasses.fields(resolved)}
    return {k: v for k, v in wanted.items() if k in known}


def _predictor(name: str, model: Any) -> tuple[Any, str, dict[str, Any]]:
    """(predictor, how it was built, options) for backend ``name``."""
    import ptychopinn

    try:
        backend = ptychopinn.get_backend(name)
    except Exception as exc:  # not installed: the ONNX backend's source next to this file
        if name != "onnx" or type(exc).__name__ != "BackendNotInstalledError":
            raise
        sys.path.insert(0, str(HERE.parent / "src"))
        from ptychopinn_onnx.options import resolve_options
        from ptychopinn_onnx.predictor import build_predictor

        opts = dict(THREAD_OPTIONS["onnx"])
        how = "ptychopinn_onnx.predictor.build_predictor (source tree; entry point not installed here)"
        return build_predictor(model, resolve_options(opts)), how, opts
    opts = _options_for(backend, name)
    return backend.predictor(model, opts), "ptychopinn.Backend.predictor", opts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["onnx", "pytorch", "tensorflow"])
    parser.add_argument("--architectures", nargs="+", default=["published", "fast"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "onnx_throughput.json")
    args = parser.parse_args(argv)

    from ptychopinn.architecture import architecture_cost, init_weights, reference_predict
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import Normalisation
    from ptychopinn.results import TrainedModel

    machine = _machine()
    x = (3.0 * np.random.default_rng(0).random((args.batch, 1, 64, 64))).astype(np.float32)
    predictors: dict[tuple[str, str], Any] = {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for arch in args.architectures:
        config = ModelConfig(architecture=arch, N=64, gridsize=1)
        weights = init_weights(config, seed=0)
        reference = reference_predict(config, weights, x[:8])
        for name in args.backends:
            model = TrainedModel(backend=name, backend_version="bench", model_config=config,
                                 training_config=TrainingConfig(), normalisation=Normalisation(N=64, mean_counts=1e5),
                                 probe=np.ones((64, 64), np.complex64), weights=weights)
            start = time.perf_counter()
            try:
                predictor, how, opts = _predictor(name, model)
            except Exception as exc:
                rows[(arch, name)] = {"architecture": arch, "backend": name, "error": f"{type(exc).__name__}: {exc}"}
                continue
            first = predictor.predict(x)  # warm-up (graph building, allocations)
            rows[(arch, name)] = {
                "architecture": arch, "backend": name, "built_with": how, "options": opts,
                "build_and_first_call_s": round(time.perf_counter() - start, 3),
                "gflop_per_pattern": round(architecture_cost(config).gflops_per_pattern, 4),
                "max_abs_diff_vs_reference": float(np.abs(first[:8] - reference).max()), "seconds": [],
            }
            predictors[(arch, name)] = predictor
    order, shuffle = list(predictors), random.Random(0).shuffle
    for _ in range(args.rounds):
        shuffle(order)
        for key in order:
            start = time.perf_counter()
            predictors[key].predict(x)
            rows[key]["seconds"].append(time.perf_counter() - start)
    for row in rows.values():
        if row.get("seconds"):
            row["median_s"] = statistics.median(row["seconds"])
            row["patterns_per_s"] = round(args.batch / row["median_s"], 1)
    for arch in args.architectures:
        onnx_row = rows.get((arch, "onnx"), {})
        for name in args.backends:
            row = rows.get((arch, name), {})
            if "patterns_per_s" in row and "patterns_per_s" in onnx_row:
                row["onnx_speedup"] = round(onnx_row["patterns_per_s"] / row["patterns_per_s"], 2)
    machine["loadavg_1_5_15_end"] = os.getloadavg()
    payload = {
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "what": "Predictor.predict patterns/s, N=64 gridsize 1, default width (n_filters_scale 2), init_weights seed 0",
        "batch": args.batch, "rounds": args.rounds, "statistic": "median over interleaved rounds",
        "threads": {"intra_op": 1, "inter_op": 1, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                    "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS")},
        "machine": machine,
        "versions": {d: _dist_version(d) for d in ("ptychopinn-core", "ptychopinn-onnx", "ptychopinn-torch",
                                                    "ptychopinn-tf", "onnx", "onnxruntime", "torch",
                                                    "tensorflow", "tensorflow-cpu", "keras", "numpy")},
        "results": list(rows.values()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    for row in rows.values():
        rate = row.get("patterns_per_s", row.get("error"))
        print(f"{row['architecture']:10s} {row['backend']:11s} {rate} patterns/s "
              f"(x{row.get('onnx_speedup', '-')} onnx) max|diff| {row.get('max_abs_diff_vs_reference', '-')}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
