"""Markdown tables from ``benchmarks/results/regimes_*.json`` (``refinement_regimes.py``).

    python benchmarks/regimes_table.py [benchmarks/results]

One row per regime and method: amplitude / phase SSIM, PSNR, FRC50 (cycles per pixel), median
data consistency (Poisson half-deviance per pixel), CPU and wall seconds of the reconstruction
(training is listed separately), the refinement's kept / run sweeps, and the CPU seconds each
traced method needed to first reach SSIM 0.9 / 0.95 on both channels.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _first(trace: list[dict[str, float]] | None, level: float) -> str:
    if not trace:
        return "–"
    for entry in trace:
        if entry["amplitude_ssim"] >= level and entry["phase_ssim"] >= level:
            return f"{entry['cpu_s']:.1f}"
    return "never"


def _deviance(method: dict[str, Any]) -> str:
    dc = method.get("data_consistency") or {}
    value = (dc.get("refined") or dc.get("network") or {}).get("poisson_deviance", {}).get("median")
    return "–" if value is None else f"{value:.3f}"


def table(folder: Path) -> str:
    lines = []
    for path in sorted(folder.glob("regimes_*.json")):
        record = json.loads(path.read_text())
        t = record["training"]
        trained = (f"trained {t['epochs']} epochs on this scan: {t['cpu_s']:.0f} CPU-s ({t['wall_s']:.0f} s wall)"
                   if "epochs" in t else f"model loaded from `{t.get('model')}` ({t.get('epochs_run')} epochs)")
        load = f"load {record['load_average_start'][0]:.1f} → {record['load_average_end'][0]:.1f}"
        seed = f" (seed {record['preset_parameters']['seed']})" if "--seed" in record["command"] else ""
        lines += [f"**{record['preset']}{seed}** — {trained}; {record['threads']} thread, {load} (`{path.name}`)", "",
                  "| method | amp SSIM | phase SSIM | amp / phase PSNR dB | amp / phase FRC50 | deviance | CPU s "
                  "| wall s | sweeps kept/run | CPU s to 0.9 / 0.95 |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, m in record["methods"].items():
            ref = m.get("refinement") or {}
            sweeps = f"{ref['best_iteration']}/{ref['iterations_run']}" if ref else "–"
            trace = m.get("trace")
            lines.append(
                f"| {name} | {m['amplitude']['ssim']:.3f} | {m['phase']['ssim']:.3f} | "
                f"{m['amplitude']['psnr_db']:.1f} / {m['phase']['psnr_db']:.1f} | "
                f"{m['amplitude']['frc50_cycles_per_px']:.2f} / {m['phase']['frc50_cycles_per_px']:.2f} | "
                f"{_deviance(m)} | {m['cpu_s']:.1f} | {m['wall_s']:.1f} | {sweeps} | "
                f"{_first(trace, 0.9)} / {_first(trace, 0.95)} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results")))
