"""``ptychopinn simulate``: write a simulated scan NPZ (data contract + ground truth)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]

_PRESETS = ("benchmark", "benchmark_zoneplate", "benchmark_fine", "low_dose_1e4", "low_dose_1e3", "sparse", "perturbed",
            "siemens", "small")


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "simulate",
        help="simulate a ptychography scan with Poisson noise and ground truth",
        description="Simulate a far-field ptychography scan and write it as an NPZ file that follows the data "
        "contract (docs/data-contract.md), with the ground-truth object (objectGuess). Deterministic by --seed. "
        "--preset picks a named scan (benchmark: the backends' quality benchmark, 1024 patterns; small: 100 "
        "patterns); other options override the preset.",
    )
    p.add_argument("output", type=Path, help="NPZ file to write")
    p.add_argument("--preset", choices=_PRESETS, help="named scan (default: small); options below override it")
    p.add_argument("--N", type=int, help="pattern side in pixels (even; default 64)")
    p.add_argument(
        "--object", dest="object_kind", choices=("lines", "lines_fine", "grf", "siemens"), help="test object"
    )
    p.add_argument("--probe", dest="probe_kind", choices=("disk", "gaussian", "zoneplate"), help="probe")
    p.add_argument("--scan", dest="scan_kind", choices=("raster", "spiral", "jittered"), help="scan path")
    p.add_argument("--n-patterns", type=int, help="number of diffraction patterns")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--step", dest="step_px", type=float, help="scan step in object pixels")
    step.add_argument("--overlap", type=float, help="linear probe overlap in [0, 1) (sets the step)")
    p.add_argument("--nphotons", type=float, help="mean photon counts per pattern")
    p.add_argument("--jitter", dest="jitter_px", type=float, help="jitter of the 'jittered' scan (pixels)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--no-noise", action="store_true", help="store expected amplitudes (no Poisson noise)")
    p.add_argument("--figure", action="store_true", help="also write OUTPUT.png with the object and probe")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from ptychopinn.data.npz import write_scan
    from ptychopinn.data.summary import summarise_scan
    from ptychopinn.errors import ConfigError
    from ptychopinn.simulate import benchmark_parameters, simulate_scan

    params = benchmark_parameters(args.preset or "small")
    for key in (
        "N",
        "object_kind",
        "probe_kind",
        "scan_kind",
        "n_patterns",
        "step_px",
        "nphotons",
        "jitter_px",
        "seed",
    ):
        value = getattr(args, key)
        if value is not None:
            params[key] = value
    if args.overlap is not None:
        params.pop("step_px", None)
        params["overlap"] = args.overlap
    if args.no_noise:
        params["noise"] = False
    _check_simulation(args, params)
    try:
        scan = simulate_scan(**params)
    except ValueError as exc:
        raise ConfigError(f"ptychopinn simulate: {exc}") from None
    from ptychopinn._safety import printable

    record = {"preset": args.preset, **params}
    path = write_scan(args.output, scan, extra={"simulation": np.asarray(json.dumps(record, sort_keys=True))})
    s = summarise_scan(scan)
    assert scan.object is not None  # simulate_scan always returns the ground truth
    print(
        f"wrote {printable(path)}: {s['patterns']} patterns, N={s['N']}, "
        f"object {scan.object.shape[0]}x{scan.object.shape[1]}, "
        f"mean counts/pattern {s['counts_per_pattern']['mean']:.4g}, step {s['step_px']:.3g} px, "
        f"linear overlap {s['linear_overlap']:.2f}"
    )
    if args.figure:
        try:
            from ptychopinn.figures import plot_object
        except ImportError:  # pragma: no cover
            return 0
        png = plot_object(scan.object, Path(str(args.output) + ".png"), title="simulated object")
        print(f"wrote {printable(png)}")
    return 0


def _check_simulation(args: argparse.Namespace, params: dict) -> None:  # type: ignore[type-arg]
    """Refuse absurd sizes and unwritable outputs before simulating (#14)."""
    import math

    from ptychopinn._safety import check_allocation
    from ptychopinn.cli._outputs import prepare_outputs
    from ptychopinn.errors import ConfigError, OutputError

    if args.output.is_dir():
        raise OutputError(f"{args.output}: is a directory; OUTPUT names the NPZ file to write")
    prepare_outputs(args.output.parent, (args.output.name, args.output.name + ".png"))
    for key, top in (("N", 4096), ("n_patterns", 10_000_000)):
        value = params.get(key)
        if isinstance(value, int) and not 1 <= value <= top:
            raise ConfigError(f"ptychopinn simulate: --{key.replace('_', '-')} must be in [1, {top}], got {value}")
    for key in ("step_px", "nphotons", "jitter_px", "overlap"):
        value = params.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"ptychopinn simulate: --{key.replace('_px', '').replace('_', '-')} must be finite")
    N, n = int(params.get("N", 64)), int(params.get("n_patterns", 1))
    check_allocation((n, N, N), 12, what=f"the simulated diffraction stack ({n} patterns of {N} x {N})",
                     hint="Simulate fewer patterns (--n-patterns) or smaller ones (--N).")
