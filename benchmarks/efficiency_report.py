"""Efficiency report (issue #15 item 3): achieved GFLOP/s of every backend as a fraction of its peak.

    OMP_NUM_THREADS=1 python benchmarks/efficiency_report.py --threads 1 \
        --out benchmarks/results/efficiency_report.json

Per backend (pytorch, tensorflow, and onnx when ``ptychopinn_onnx`` is importable) and per
architecture (published, fast), all in ONE process and the same run:

(a) peak: GFLOP/s of one large 3x3 convolution (batch 16, 64 -> 64 channels, 64x64, stride 1,
    "same" padding; channels-last in torch, NHWC in TensorFlow, NCHW in ONNX Runtime, which
    re-lays it out itself) timed in that framework: the framework's achievable rate here;
(b) inference: patterns/s through the backend's predictor (``get_backend(name).predictor``, one
    ``predict`` of a (batch, C, N, N) float32 array at a time) x ``architecture_cost``
    GFLOP per pattern;
(c) training: patterns/s of optimiser steps through the backend's training model (the
    Lightning module / the Keras model with the physics loss), after one warm-up step;
    GFLOP/s ~= 3 x forward FLOPs x patterns/s (forward + input and weight gradients; the
    physics FFTs, the loss and the optimiser are not counted);
(d) first call: building the predictor and its first ``predict`` (graph tracing in
    TensorFlow, session creation in ONNX Runtime), and building the training model and its
    first step, reported apart from the steady state.

Rounds are interleaved (every backend and architecture once per round, the backend order rotated
every round); the peak convolution is timed right before and right after each (backend,
architecture) measurement and the ratio achieved / peak uses the mean of those two brackets;
the median over the rounds is reported, so that the ratios hold under a varying machine load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONV_SHAPE = {"batch": 16, "channels_in": 64, "channels_out": 64, "height": 64, "width": 64, "kernel": 3}
CONV_GFLOP = 2 * 16 * 64 * 64 * 64 * 64 * 9 / 1e9
"""GFLOP of one call of the peak convolution (2 per multiply-accumulate, bias not counted)."""


def _timed(fn: Callable[[], object], *, min_seconds: float, min_calls: int = 1) -> tuple[float, int]:
    """Call ``fn`` at least ``min_calls`` times and until ``min_seconds`` passed; (seconds per call, calls)."""
    calls, t0 = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        dt = time.perf_counter() - t0
        if calls >= min_calls and dt >= min_seconds:
            return dt / calls, calls


# -- frameworks ------------------------------------------------------------------------------


class TorchBench:
    """Peak convolution, predictor and training steps of the PyTorch backend."""

    name = "pytorch"
    peak_convs = 1

    def __init__(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.options = {"num_threads": threads, "accelerator": "cpu", "inference_device": "cpu"}
        self.threads = {"torch_threads": torch.get_num_threads()}

    def peak_fn(self) -> Callable[[], object]:
        torch = self.torch
        conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval().to(memory_format=torch.channels_last)
        conv.requires_grad_(False)
        x = torch.randn(16, 64, 64, 64).contiguous(memory_format=torch.channels_last)

        def run() -> object:
            with torch.inference_mode():
                return conv(x)

        return run

    def train_step(self, model: Any, x: Any, offsets: Any) -> Callable[[], object]:
        """One optimiser step of ``ptychopinn_torch.training_model.PtychoPINNModule`` on (x, offsets)."""
        torch = self.torch
        from ptychopinn.physics import normalise_probe
        from ptychopinn_torch.training_model import PtychoPINNModule

        cfg = model.model_config
        probe = normalise_probe(model.probe, reference_transmission=cfg.reference_transmission, mask=cfg.probe_mask)
        module = PtychoPINNModule(
            cfg, model.training_config, probe=probe, input_scale=model.normalisation.input_scale, seed=0
        ).train()
        opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-3)
        batch = {"x": torch.from_numpy(x), "offsets": torch.from_numpy(offsets)}

        def step() -> object:
            opt.zero_grad(set_to_none=True)
            with warnings.catch_warnings():  # self.log() without a Trainer only warns
                warnings.simplefilter("ignore")
                loss = module.training_step(batch, 0)
            loss.backward()
            opt.step()
            return float(loss.detach())

        return step


class TFBench:
    """Peak convolution, predictor and training steps of the TensorFlow backend."""

    name = "tensorflow"
    peak_convs = 1

    def __init__(self, threads: int) -> None:
        from ptychopinn_tf._env import tf_keras

        tf, keras = tf_keras()
        tf.config.threading.set_intra_op_parallelism_threads(threads)  # before the runtime starts
        tf.config.threading.set_inter_op_parallelism_threads(1)
        self.tf, self.keras = tf, keras
        self.options = {"intra_op_threads": threads, "inter_op_threads": 1, "verbose": 0}
        self.threads = {
            "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        }

    def peak_fn(self) -> Callable[[], object]:
        tf = self.tf
        w = tf.random.normal((3, 3, 64, 64))
        b = tf.zeros((64,))
        x = tf.random.normal((16, 64, 64, 64))  # NHWC
        conv = tf.function(lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b))

        def run() -> object:
            return conv(x).numpy()[0, 0, 0, 0]

        return run

    def train_step(self, model: Any, x: Any, offsets: Any) -> Callable[[], object]:
        """One ``train_on_batch`` of ``ptychopinn_tf.training_model.PtychoPINNModel`` (compiled as the backend does)."""
        keras = self.keras
        from ptychopinn_tf.losses import keras_loss
        from ptychopinn_tf.training_model import PtychoPINNModel

        cfg = model.model_config
        net = PtychoPINNModel(cfg, model.probe, canvas_size=cfg.N, seed=0)  # gridsize 1: the canvas is one patch
        net.build_variables()
        net.compile(
            optimizer=keras.optimizers.Adam(learning_rate=1e-3),
            loss=keras_loss(cfg.model_type, input_scale=model.normalisation.input_scale,
                            training_config=model.training_config),
        )

        def step() -> object:
            return net.train_on_batch((x, offsets), x)

        return step


class OnnxBench:
    """Peak convolution and predictor of the ONNX backend (no training)."""

    name = "onnx"
    peak_convs = 4
    """The peak model chains 4 identical convolutions: ONNX Runtime converts NCHW to its blocked
    layout at the graph's input and output, which a single convolution would pay in full (the
    network pays it once for ~20 convolutions)."""

    def __init__(self, threads: int) -> None:
        import onnxruntime as ort

        self.ort = ort
        self.thread_count = threads
        self.options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
        self.threads = {"onnxruntime_intra_op_threads": threads, "onnxruntime_inter_op_threads": 1}

    def peak_fn(self) -> Callable[[], object]:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        rng = np.random.default_rng(0)
        w = numpy_helper.from_array((0.05 * rng.standard_normal((64, 64, 3, 3))).astype(np.float32), "w")
        b = numpy_helper.from_array(np.zeros(64, np.float32), "b")
        names = ["x"] + [f"h{i}" for i in range(1, self.peak_convs)] + ["y"]
        nodes = [
            helper.make_node("Conv", [names[i], "w", "b"], [names[i + 1]], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
            for i in range(self.peak_convs)
        ]
        graph = helper.make_graph(
            nodes, "peak", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16, 64, 64, 64])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16, 64, 64, 64])], initializer=[w, b],
        )
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = self.thread_count
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        onnx.checker.check_model(proto)
        sess = self.ort.InferenceSession(proto.SerializeToString(), sess_options=so, providers=["CPUExecutionProvider"])
        x = rng.standard_normal((16, 64, 64, 64)).astype(np.float32)

        def run() -> object:
            return sess.run(None, {"x": x})

        return run

    train_step = None


# -- the report ------------------------------------------------------------------------------


def _versions(benches: list[Any]) -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("numpy", "ptychopinn", "ptychopinn-core", "ptychopinn-torch", "ptychopinn-tf", "ptychopinn-onnx",
                 "torch", "lightning", "tensorflow", "tensorflow-cpu", "keras", "onnxruntime", "onnx"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backends", nargs="+", default=["pytorch", "tensorflow", "onnx"])
    ap.add_argument("--architectures", nargs="+", default=["published", "fast"])
    ap.add_argument("--batch", type=int, default=64, help="groups per predict() call")
    ap.add_argument("--train-batch", type=int, default=16, help="groups per training step")
    ap.add_argument("--train-steps", type=int, default=2, help="timed training steps per round (at least)")
    ap.add_argument("--min-seconds", type=float, default=2.0, help="least timed seconds per measurement")
    ap.add_argument("--N", type=int, default=64)
    ap.add_argument("--gridsize", type=int, default=1)
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1 round, small batches (smoke test; write to /tmp)")
    ap.add_argument("--out", default="benchmarks/results/efficiency_report.json")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.batch, args.train_batch, args.train_steps, args.min_seconds = 1, 8, 4, 1, 0.0
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(Path(__file__).parent))

    import numpy as np

    from _torch_common import grouped_random, load_average, machine, untrained_model, write_json
    from ptychopinn import get_backend
    from ptychopinn.architecture import architecture_cost
    from ptychopinn.config import ModelConfig

    load_start = load_average()
    t_start = time.perf_counter()
    factories = {"pytorch": TorchBench, "tensorflow": TFBench, "onnx": OnnxBench}
    benches: list[Any] = []
    skipped: dict[str, str] = {}
    for name in args.backends:
        try:
            benches.append(factories[name](args.threads))
            get_backend(name)
        except Exception as exc:  # an optional backend that is not installed is reported, not fatal
            benches = [b for b in benches if b.name != name]
            skipped[name] = f"{type(exc).__name__}: {exc}"
    data = grouped_random(max(args.batch, args.train_batch), args.N, args.gridsize)
    cases: dict[tuple[str, str], dict[str, Any]] = {}
    peaks: dict[str, dict[str, Any]] = {}
    # Setup: the first calls (build + first use), then one warm call each.
    for bench in benches:
        backend = get_backend(bench.name)
        peak = bench.peak_fn()
        t0 = time.perf_counter()
        peak()
        peaks[bench.name] = {"fn": peak, "first_call_s": time.perf_counter() - t0, "gflops": [],
                             "convs_per_call": bench.peak_convs}
        for arch in args.architectures:
            cfg = ModelConfig(N=args.N, gridsize=args.gridsize, n_filters_scale=args.n_filters_scale, architecture=arch)
            model = untrained_model(cfg, data.diffraction, backend=bench.name)
            scale = np.float32(model.normalisation.network_scale)
            x = data.batch_diffraction(0, args.batch) * scale
            case: dict[str, Any] = {"gflop_per_pattern": architecture_cost(cfg).gflops_per_pattern, "C": cfg.channels}
            t0 = time.perf_counter()
            predictor = backend.predictor(model, bench.options)
            t1 = time.perf_counter()
            out = predictor.predict(x)
            t2 = time.perf_counter()
            assert out.dtype == np.complex64 and out.shape[0] == args.batch and np.isfinite(out).all()
            case["infer_fn"] = lambda p=predictor, x=x: p.predict(x)
            case["first_infer"] = {"build_s": t1 - t0, "first_predict_s": t2 - t1}
            case["infer_patterns_per_call"] = args.batch * cfg.channels
            if bench.train_step is not None and backend.supports("train"):
                xt = data.batch_diffraction(0, args.train_batch) * scale
                offsets = data.offsets[: args.train_batch].astype(np.float32)
                t0 = time.perf_counter()
                step = bench.train_step(model, xt, offsets)
                t1 = time.perf_counter()
                step()
                t2 = time.perf_counter()
                case["train_fn"] = step
                case["first_train"] = {"build_s": t1 - t0, "first_step_s": t2 - t1}
                case["train_patterns_per_step"] = args.train_batch * cfg.channels
            case["rounds"] = []
            cases[(bench.name, arch)] = case
            print(f"setup {bench.name}/{arch}: {case['first_infer']} {case.get('first_train', '')}", flush=True)
    # Interleaved rounds.
    for r in range(args.rounds):
        order = benches[r % len(benches):] + benches[: r % len(benches)]
        for bench in order:
            peak = peaks[bench.name]

            def measure_peak(bench: Any = bench, peak: dict[str, Any] = peak) -> float:
                sec, _ = _timed(peak["fn"], min_seconds=args.min_seconds / 2, min_calls=2)
                gflops = bench.peak_convs * CONV_GFLOP / sec
                peak["gflops"].append(gflops)
                return gflops

            before = measure_peak()
            for arch in args.architectures:
                case = cases[(bench.name, arch)]
                g = case["gflop_per_pattern"]
                row: dict[str, float] = {}
                sec, calls = _timed(case["infer_fn"], min_seconds=args.min_seconds)
                row["infer_patterns_per_s"] = case["infer_patterns_per_call"] / sec
                row["infer_gflops"] = row["infer_patterns_per_s"] * g
                row["infer_s_per_call"] = sec
                if "train_fn" in case:
                    sec, steps = _timed(case["train_fn"], min_seconds=args.min_seconds, min_calls=args.train_steps)
                    row["train_patterns_per_s"] = case["train_patterns_per_step"] / sec
                    row["train_gflops"] = 3.0 * g * row["train_patterns_per_s"]
                    row["train_s_per_step"] = sec
                after = measure_peak()  # the peak brackets every measurement: its mean is the reference
                row["peak_gflops"] = 0.5 * (before + after)
                for key in ("infer", "train"):
                    if f"{key}_gflops" in row:
                        row[f"{key}_fraction_of_peak"] = row[f"{key}_gflops"] / row["peak_gflops"]
                before = after
                case["rounds"].append(row)
                shown = ", ".join(f"{k}={v:.4g}" for k, v in row.items())
                print(f"round {r} {bench.name}/{arch}: {shown}", flush=True)
    load_end = load_average()
    results = []
    for (name, arch), case in cases.items():
        rounds = case["rounds"]
        med = {k: statistics.median(row[k] for row in rounds) for k in rounds[0]}
        entry: dict[str, Any] = {
            "backend": name,
            "architecture": arch,
            "gflop_per_pattern": case["gflop_per_pattern"],
            "peak_gflops": med["peak_gflops"],
            "inference": {
                "batch_groups": args.batch,
                "patterns_per_s": med["infer_patterns_per_s"],
                "gflops": med["infer_gflops"],
                "fraction_of_peak": med["infer_fraction_of_peak"],
                "first_call_s": case["first_infer"]["build_s"] + case["first_infer"]["first_predict_s"],
                "first_call": case["first_infer"],
                "steady_s_per_call": med["infer_s_per_call"],
            },
            "rounds": rounds,
        }
        if "train_fn" in case:
            entry["training"] = {
                "batch_groups": args.train_batch,
                "patterns_per_s": med["train_patterns_per_s"],
                "gflops_approx": med["train_gflops"],
                "fraction_of_peak": med["train_fraction_of_peak"],
                "first_call_s": case["first_train"]["build_s"] + case["first_train"]["first_step_s"],
                "first_call": case["first_train"],
                "steady_s_per_step": med["train_s_per_step"],
            }
        else:
            entry["training"] = None
        results.append(entry)
    threads: dict[str, Any] = {"requested": args.threads, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    for bench in benches:
        threads.update(bench.threads)
    write_json(
        args.out,
        {
            "benchmark": "efficiency_report",
            "issue": "#15 item 3",
            "command": f"OMP_NUM_THREADS={args.threads} python {' '.join(sys.argv)}",
            "quick": args.quick,
            "threads": threads,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "wall_s": time.perf_counter() - t_start,
            "versions": _versions(benches),
            "machine": machine(),
            "model": {"N": args.N, "gridsize": args.gridsize, "n_filters_scale": args.n_filters_scale},
            "rounds": args.rounds,
            "peak_convolution": {**CONV_SHAPE, "gflop_per_call": CONV_GFLOP,
                                 "layout": {"pytorch": "NCHW channels_last", "tensorflow": "NHWC", "onnx": "NCHW"}},
            "peaks": {n: {"gflops_median": statistics.median(p["gflops"]), "gflops_rounds": p["gflops"],
                          "first_call_s": p["first_call_s"], "convs_per_call": p["convs_per_call"]}
                      for n, p in peaks.items()},
            "skipped_backends": skipped,
            "notes": [
                "peak = GFLOP/s of one 3x3 convolution (batch 16, 64->64 channels, 64x64) in the framework, same run; "
                "ONNX Runtime runs a chain of 4 of them per call (its NCHW <-> blocked-layout conversions at the "
                "graph's ends would otherwise be charged to one convolution); each fraction_of_peak uses the mean of "
                "the peak timed right before and right after that measurement",
                "inference GFLOP/s = patterns/s through get_backend(name).predictor(model).predict x "
                "architecture_cost(config).gflops_per_pattern (convolution FLOPs only, 2 per MAC)",
                "training GFLOP/s is an approximation: 3 x forward convolution FLOPs x training patterns/s (forward + "
                "input and weight gradients; the first layer's input gradient, the physics FFTs, the loss and the "
                "optimiser are not counted separately); training steps run the backend's training model "
                "(PtychoPINNModule / PtychoPINNModel) directly, without Lightning's Trainer or Keras fit loop",
                "fraction_of_peak is achieved/peak within one round, median over rounds (robust to machine load)",
                "first_call_s = building the predictor + its first predict (TF tracing, ONNX session), or the training "
                "model + its first step (TF tracing); untrained weights (architecture.init_weights), random inputs",
            ],
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
