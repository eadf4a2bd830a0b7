"""``ptychopinn inspect FILE``: validate a scan NPZ and print a summary (or the specific error)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "inspect",
        help="validate a scan NPZ file and summarise it",
        description="Validate FILE against the data contract (docs/data-contract.md) and print the number of "
        "patterns, N, photon counts per pattern, scan extent, step size and overlap, and probe power; or the "
        "specific error (exit code 2).",
    )
    p.add_argument("file", type=Path, help="scan NPZ file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--integer-counts",
        choices=("reject", "sqrt"),
        default="reject",
        help="integer diffraction data are counts: reject (default) or take the square root",
    )
    p.set_defaults(func=run)


def _format(s: dict) -> str:  # type: ignore[type-arg]
    from ptychopinn._safety import printable

    c, e = s["counts_per_pattern"], s["scan_extent_px"]
    obj = "none" if s["object_shape"] is None else f"{s['object_shape'][0]} x {s['object_shape'][1]} px"
    lines = [
        f"scan file       {printable(s['source'])}  (valid)",
        f"patterns        {s['patterns']}",
        f"pattern size N  {s['N']}",
        f"counts/pattern  mean {c['mean']:.4g}  median {c['median']:.4g}  min {c['min']:.4g}  max {c['max']:.4g}",
        f"scan extent     x {e['x_min']:.2f} .. {e['x_max']:.2f}  y {e['y_min']:.2f} .. {e['y_max']:.2f} object px",
        f"step            {s['step_px']:.3g} px (median nearest-neighbour distance)",
        f"probe diameter  {s['probe_diameter_px']:.3g} px (90 % power)  -> linear overlap {s['linear_overlap']:.2f}",
        f"probe power     {s['probe_power']:.4g} (sum |P|^2)",
        f"object          {obj}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    import warnings

    from ptychopinn.data.npz import read_scan
    from ptychopinn.data.summary import summarise_scan

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scan = read_scan(args.file, mmap=True, integer_counts=args.integer_counts)
        summary = summarise_scan(scan)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    summary["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(summary, indent=2) if args.json else _format(summary))
    return 0
