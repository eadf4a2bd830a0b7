"""Benchmark: wall time of ``python -c "import ptychopinn"`` in fresh processes (target <= 0.15 s median).

Also reports the interpreter's own start-up (``python -c "pass"``) so that the cost of the import
itself can be told apart, and which heavy modules the import pulled in (there must be none).

    python benchmarks/import_time.py --repeats 30 --out benchmarks/results/import_time.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.15
HEAVY = ("numpy", "scipy", "matplotlib", "pluggy", "tensorflow", "keras", "torch", "lightning")


def _time(code: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, help="JSON file to write (default: print only)")
    args = parser.parse_args()
    _time("import ptychopinn", 3)  # warm the file-system cache and .pyc files
    baseline = _time("pass", args.repeats)
    imports = _time("import ptychopinn", args.repeats)
    probe = subprocess.run(
        [sys.executable, "-c", f"import sys, ptychopinn; print([m for m in {HEAVY!r} if m in sys.modules])"],
        check=True, capture_output=True, text=True,
    )
    median = statistics.median(imports)
    result = {
        "benchmark": "import_time",
        "command": 'python -c "import ptychopinn"',
        "repeats": args.repeats,
        "median_s": median,
        "min_s": min(imports),
        "max_s": max(imports),
        "interpreter_startup_median_s": statistics.median(baseline),
        "import_cost_median_s": median - statistics.median(baseline),
        "target_s": TARGET_S,
        "within_target": median <= TARGET_S,
        "heavy_modules_imported": json.loads(probe.stdout.strip().replace("'", '"')),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
