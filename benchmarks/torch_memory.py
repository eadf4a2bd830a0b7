"""Peak memory of streamed inference with the PyTorch backend, as the scan grows.

    OMP_NUM_THREADS=2 python benchmarks/torch_memory.py --sizes 5000 10000 20000 \
        --out benchmarks/results/torch_memory.json

For every size a fresh child process memory-maps an NPZ scan (``read_scan(mmap=True)``) and
runs ``ptychopinn.reconstruct`` (core's streaming stitcher + the torch backend's predictor,
batch 256). A sampling thread records the peak *anonymous* resident memory (``RssAnon``,
what the process allocates) every 20 ms; ``VmHWM`` (peak RSS incl. the file pages the memory
map touched, which the kernel can drop at will) is reported alongside. Flat ``RssAnon`` =
memory grows with the batch and the canvas, not with the number of patterns.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import machine, write_json


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _make_scan(path: Path, n: int, N: int = 64) -> None:
    import numpy as np
    from ptychopinn.data import ScanData
    from ptychopinn.data.npz import write_scan

    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(n)))
    pos = np.stack(np.meshgrid(np.arange(side) * 4.0, np.arange(side) * 4.0), -1).reshape(-1, 2)[:n] + N
    diff = np.empty((n, N, N), np.float32)
    for s in range(0, n, 1000):
        e = min(n, s + 1000)
        diff[s:e] = np.sqrt(rng.poisson(30.0, size=(e - s, N, N))).astype(np.float32)
    probe = np.ones((N, N), np.complex64)
    write_scan(path, ScanData(diffraction=diff, positions=pos.astype(np.float64), probe=probe))


def child(path: str, threads: int, n_filters_scale: int, architecture: str) -> None:
    """Run in a fresh process: reconstruct the memory-mapped scan, print a JSON line."""
    import torch

    torch.set_num_threads(threads)
    peak = {"anon": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["anon"] = max(peak["anon"], _status_kib("RssAnon"))
            time.sleep(0.02)

    import numpy as np
    import ptychopinn
    from ptychopinn.architecture import init_weights
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.data.npz import read_scan
    from ptychopinn.physics import Normalisation
    from ptychopinn.results import TrainedModel

    cfg = ModelConfig(N=64, n_filters_scale=n_filters_scale, architecture=architecture)
    model = TrainedModel(
        backend="pytorch",
        backend_version="bench",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=Normalisation(N=64, mean_counts=30.0 * 64 * 64),
        probe=np.ones((64, 64), np.complex64),
        weights=init_weights(cfg, seed=0),
    )
    scan = read_scan(path, mmap=True)
    assert isinstance(scan.diffraction, np.memmap), type(scan.diffraction)
    baseline = _status_kib("RssAnon")
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t = time.perf_counter()
    rec = ptychopinn.reconstruct(
        model,
        scan,
        backend="pytorch",
        config=InferenceConfig(batch_size=256),
        options={"num_threads": threads},
    )
    wall = time.perf_counter() - t
    stop.set()
    thread.join()
    print(
        json.dumps(
            {
                "patterns": scan.n_patterns,
                "canvas": list(rec.object.object.shape),
                "wall_s": wall,
                "patterns_per_s": scan.n_patterns / wall,
                "rss_anon_before_mib": baseline / 1024,
                "rss_anon_peak_mib": peak["anon"] / 1024,
                "vm_hwm_mib": _status_kib("VmHWM") / 1024,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true", help="one scan of 500 patterns (smoke test; write to /tmp)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--out", default="benchmarks/results/torch_memory.json")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.sizes = [500]
    if args.child:
        child(args.child, args.threads, args.n_filters_scale, args.architecture)
        return
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"scan{n}.npz"
            _make_scan(path, n)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(path),
                    "--threads",
                    str(args.threads),
                    "--n-filters-scale",
                    str(args.n_filters_scale),
                    "--architecture",
                    args.architecture,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["file_mib"] = path.stat().st_size / 2**20
            print(row, flush=True)
            rows.append(row)
            path.unlink()
    write_json(
        args.out,
        {
            "benchmark": "torch_memory",
            "command": " ".join(["python"] + sys.argv),
            "N": 64,
            "architecture": args.architecture,
            "n_filters_scale": args.n_filters_scale,
            "batch_size": 256,
            "threads": args.threads,
            "machine": machine(),
            "note": "RssAnon = anonymous (allocated) resident memory; VmHWM also counts touched file pages of the map",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
