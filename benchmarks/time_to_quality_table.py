"""Table and plot from ``benchmarks/results/time_to_quality_*.json`` (``time_to_quality.py``).

    python benchmarks/time_to_quality_table.py benchmarks/results/time_to_quality_benchmark.json \
        [--plot docs/figures/time_to_quality_benchmark.png]

Per scan, one row per method: GFLOP per pattern, training CPU-s, network-only SSIM and CPU-s,
the CPU-s to first reach SSIM 0.9 and 0.95 on both channels, and the best SSIM reached with the
CPU-s it took.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def first_reach(trace: list[dict[str, float]], level: float) -> float | None:
    """CPU-s of the first trace entry whose amplitude and phase SSIM are both >= ``level``."""
    for entry in trace:
        if entry["amplitude_ssim"] >= level and entry["phase_ssim"] >= level:
            return entry["cpu_s"]
    return None


def best(trace: list[dict[str, float]]) -> dict[str, float]:
    """The entry with the highest min(amplitude, phase) SSIM."""
    return max(trace, key=lambda e: min(e["amplitude_ssim"], e["phase_ssim"]))


def _gflops(run: dict[str, Any]) -> float:
    """GFLOP per pattern from core's count (one forward pass per scan position, whatever the gridsize)."""
    from ptychopinn.architecture import architecture_cost
    from ptychopinn.config import ModelConfig

    config = ModelConfig(architecture=run["architecture"], gridsize=run["gridsize"],
                         n_filters_scale=run["n_filters_scale"])
    return architecture_cost(config).gflops_per_pattern


def _fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def rows(record: dict[str, Any], scan: str) -> list[str]:
    out = ["| method | GFLOP/pattern | training CPU-s | network SSIM (amp/phase) | network CPU-s (patterns/CPU-s) "
           "| CPU-s to 0.9 | CPU-s to 0.95 | best SSIM (amp/phase) at CPU-s |", "|---|---|---|---|---|---|---|---|"]

    def line(name: str, trace: list[dict[str, float]], extra: tuple[str, str, str, str]) -> None:
        b = best(trace)
        out.append(f"| {name} | {extra[0]} | {extra[1]} | {extra[2]} | {extra[3]} | {_fmt(first_reach(trace, 0.9))} | "
                   f"{_fmt(first_reach(trace, 0.95))} | {b['amplitude_ssim']:.3f}/{b['phase_ssim']:.3f} at "
                   f"{b['cpu_s']:.1f} |")

    for run in record["runs"]:
        entry = run["scans"].get(scan)
        if entry is None:
            continue
        net = entry["network"]
        line(f"{run['backend']} {run['architecture']} network+refine", entry["network+refine"], (
            f"{_gflops(run):.3f}", f"{run['training']['cpu_s']:.0f}",
            f"{net['amplitude_ssim']:.3f}/{net['phase_ssim']:.3f}",
            f"{net['cpu_s']:.2f} ({net['patterns_per_cpu_s']:.0f})"))
    base = record["baselines"].get(scan, {})
    for name in ("flat+refine", "rpie"):
        if name in base:
            line(name, base[name], ("–", "–", "–", "–"))
    return out


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scans = [s for s in ("train", "new_object") if any(s in r["scans"] for r in record["runs"])]
    fig, axes = plt.subplots(2, len(scans), figsize=(6 * len(scans), 7), squeeze=False)
    for col, scan in enumerate(scans):
        curves = [(f"{r['backend']} {r['architecture']}", r["scans"][scan]["network+refine"]) for r in record["runs"]
                  if scan in r["scans"]]
        base = record["baselines"].get(scan, {})
        curves += [(name, base[name]) for name in ("flat+refine", "rpie") if name in base]
        for row, channel in enumerate(("amplitude_ssim", "phase_ssim")):
            ax = axes[row][col]
            for label, trace in curves:
                ax.plot([e["cpu_s"] for e in trace], [e[channel] for e in trace], marker=".", label=label)
            ax.set_xscale("log")
            ax.set_xlabel("reconstruction CPU-s (1 thread)")
            ax.set_ylabel(channel.replace("_", " "))
            ax.set_title(f"{record['preset']} — {scan.replace('_', ' ')}")
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", type=Path, nargs="+")
    p.add_argument("--plot", type=Path)
    args = p.parse_args(argv)
    for path in args.results:
        record = json.loads(path.read_text())
        load = f"load {record['load_average_start'][0]:.1f} → {record['load_average_end'][0]:.1f}"
        for scan in ("train", "new_object"):
            label = "the training scan" if scan == "train" else "a new object (model trained on the other scan)"
            print(f"\n**{record['preset']} — {label}** ({record['threads']} thread, {load}, `{path.name}`)\n")
            print("\n".join(rows(record, scan)))
        if args.plot:
            plot(record, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
