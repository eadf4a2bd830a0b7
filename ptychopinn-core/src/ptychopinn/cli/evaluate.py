"""``ptychopinn evaluate RECON --truth FILE``: metrics JSON + PNG figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "load_object_file", "run"]

METRICS_NAME = "metrics.json"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "evaluate",
        help="score a reconstruction against the ground truth (JSON + PNG)",
        description="Compare RECON (an NPZ with 'object' (H, W) complex and optional 'valid', 'canvas_origin', as "
        "written by `ptychopinn reconstruct`; or any NPZ with 'objectGuess') with the ground truth in FILE "
        "('objectGuess', e.g. a simulated scan). The truth is cut at the reconstruction's canvas origin; then "
        "sub-pixel registration, global phase offset and amplitude scale are removed and SSIM, PSNR (true data "
        "range), MAE and FRC (0.5, 1/7) of amplitude and phase are computed on the lit region. Writes "
        f"OUTPUT_DIR/{METRICS_NAME}, comparison.png and frc.png. Data consistency (per-pattern Poisson "
        "deviance and relative amplitude error against the measured patterns: the number to trust without ground "
        "truth) is reported when the scan is known (--data, or reconstruction.json beside RECON).",
    )
    p.add_argument("reconstruction", type=Path, help="reconstruction NPZ")
    p.add_argument("--truth", type=Path, help="NPZ with the ground-truth object (objectGuess); without it only "
                   "data consistency is reported")
    p.add_argument("--data", type=Path, help="the scan NPZ the reconstruction was made from (data consistency); "
                   "default: the 'data' recorded in reconstruction.json beside RECON")
    p.add_argument("-o", "--output-dir", type=Path, help="default: RECON's folder / <RECON stem>-evaluation")
    p.add_argument("--no-register", action="store_true", help="skip the sub-pixel registration")
    p.add_argument("--no-scale", action="store_true", help="do not fit the amplitude scale")
    p.add_argument("--phase-ramp", action="store_true", help="also remove a linear phase ramp")
    p.add_argument("--no-figures", action="store_true", help="write only the JSON")
    p.set_defaults(func=run)


def load_object_file(path: Path, *, role: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read ``object``/``objectGuess`` (+ ``valid``, ``canvas_origin``) from an NPZ, with contract errors.

    ``extra`` keys present in the file are returned, unchecked, under ``"extra"`` (one read of the file).
    """
    import numpy as np

    from ptychopinn.data.npz import read_npz_arrays
    from ptychopinn.errors import ScanDataError

    arrays = read_npz_arrays(path, ("object", "objectGuess", "valid", "canvas_origin", *extra))
    key = "object" if "object" in arrays else "objectGuess" if "objectGuess" in arrays else None
    if key is None:
        raise ScanDataError(
            f"{path}: missing key 'object' or 'objectGuess' (the {role}: an (H, W) complex array); "
            f"found {', '.join(sorted(read_npz_arrays(path).keys())) or 'no arrays'}"
        )
    obj = arrays[key]
    if obj.ndim != 2 or obj.dtype.kind not in "uifc" or min(obj.shape) < 8:
        raise ScanDataError(
            f"{path}: key '{key}': expected an (H, W) complex object, found shape {obj.shape}, dtype {obj.dtype}"
        )
    if not np.all(np.isfinite(obj)):
        raise ScanDataError(f"{path}: key '{key}': contains NaN or Inf")
    out: dict[str, Any] = {"object": np.asarray(obj, dtype=np.complex128), "key": key,
                           "extra": {k: arrays[k] for k in extra if k in arrays}}
    if "valid" in arrays:
        valid = arrays["valid"]
        if valid.shape != obj.shape:
            raise ScanDataError(f"{path}: key 'valid': expected shape {obj.shape} like '{key}', found {valid.shape}")
        out["valid"] = np.asarray(valid, dtype=bool)
    if "canvas_origin" in arrays:
        origin = np.asarray(arrays["canvas_origin"], dtype=np.float64).reshape(-1)
        if origin.shape != (2,) or not np.all(np.isfinite(origin)):
            raise ScanDataError(
                f"{path}: key 'canvas_origin': expected (2,) = (x0, y0) object pixels, "
                f"found {arrays['canvas_origin'].shape}"
            )
        out["origin"] = (float(origin[0]), float(origin[1]))
    return out


def _reconstruction(path: Path) -> dict[str, Any]:
    """The reconstruction file, read by core's one reader (``read_reconstruction``)."""
    import numpy as np

    from ptychopinn.data.reconstruction_file import read_reconstruction

    rec = read_reconstruction(path)
    out: dict[str, Any] = {
        "object": np.asarray(rec.object, dtype=np.complex128),
        "key": "object",
        "origin": rec.canvas_origin,
        "extra": {k: v for k, v in (("probe", rec.probe), ("positions", rec.positions), ("weight", rec.weight))
                  if v is not None},
    }
    if rec.valid is not None:
        out["valid"] = rec.valid
    return out


def _db(value: float | None) -> float:
    return float("inf") if value is None else value


def _scan_path(args: argparse.Namespace) -> Path | None:
    """--data, else the 'data' entry of reconstruction.json beside RECON (if that file exists)."""
    import json

    if args.data is not None:
        return Path(args.data)
    summary = args.reconstruction.parent / "reconstruction.json"
    try:
        recorded = json.loads(summary.read_text(encoding="utf-8")).get("data")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(recorded, str):
        return None
    path = Path(recorded)
    if not path.is_absolute() and not path.exists():
        path = summary.parent / path
    return path if path.is_file() else None


def _consistency(args: argparse.Namespace, recon: dict[str, Any]) -> dict[str, Any] | None:
    """Data consistency of RECON against its scan (None when the scan is unknown)."""
    import numpy as np

    from ptychopinn.data.npz import read_scan
    from ptychopinn.errors import ScanDataError
    from ptychopinn.refinement.pipeline import object_consistency
    from ptychopinn.results import CanvasSpec, StitchedObject

    path = _scan_path(args)
    if path is None:
        return None
    scan = read_scan(path)
    obj = recon["object"]
    origin = recon.get("origin", (0.0, 0.0))
    valid = recon.get("valid", np.abs(obj) > 0)
    extra = recon["extra"]
    for key, value in extra.items():
        if value.dtype.kind not in "uifc" or not np.all(np.isfinite(value)):
            raise ScanDataError(f"{args.reconstruction}: key '{key}': expected finite numbers, found dtype "
                                f"{value.dtype} with non-finite or non-numeric values")
    probe, positions, weight = extra.get("probe"), extra.get("positions"), extra.get("weight")
    if weight is None or weight.shape != obj.shape:
        weight = valid.astype(np.float32)
    stitched = StitchedObject(object=obj.astype(np.complex64), weight=np.asarray(weight, dtype=np.float32),
                              valid=valid,
                              canvas=CanvasSpec(shape=obj.shape, origin=(float(origin[0]), float(origin[1]))))
    if probe is not None and probe.shape != (scan.N, scan.N):
        raise ScanDataError(f"{args.reconstruction}: key 'probe': expected ({scan.N}, {scan.N}) like the patterns "
                            f"of {path}, found {probe.shape}")
    try:
        result = object_consistency(scan, stitched, probe=probe, positions=positions)
    except ValueError as exc:
        raise ScanDataError(f"{args.reconstruction}: cannot compare with the patterns of {path}: {exc}") from None
    return {"data": str(path), **result.summary()}


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ptychopinn.cli._common import write_json_atomic
    from ptychopinn.errors import ScanDataError
    from ptychopinn.metrics import align, score_alignment
    from ptychopinn.results import CanvasSpec
    from ptychopinn.stitching import crop_to_canvas

    from ptychopinn.cli._outputs import prepare_outputs

    prepare_outputs(args.output_dir or args.reconstruction.parent / f"{args.reconstruction.stem}-evaluation",
                    (METRICS_NAME, "comparison.png", "frc.png"))  # before any work (#14)
    recon = _reconstruction(args.reconstruction)
    consistency = _consistency(args, recon)
    if args.truth is None:
        return _consistency_only(args, consistency)
    truth_file = load_object_file(args.truth, role="ground truth")
    obj = recon["object"]
    origin = recon.get("origin", (0.0, 0.0))
    canvas = CanvasSpec(shape=obj.shape, origin=(float(origin[0]), float(origin[1])))
    truth, inside = crop_to_canvas(truth_file["object"], canvas, dtype=np.complex128)
    valid = recon.get("valid")
    valid = inside if valid is None else valid & inside
    if not valid.any():
        raise ScanDataError(
            f"{args.reconstruction}: no lit pixel of the reconstruction ({obj.shape}, origin {origin}) lies on "
            f"the ground-truth object {truth_file['object'].shape} of {args.truth}"
        )
    try:
        al = align(
            obj,
            truth,
            valid=valid,
            register=not args.no_register,
            fit_scale=not args.no_scale,
            remove_phase_ramp=args.phase_ramp,
        )
    except ValueError as exc:
        raise ScanDataError(f"{args.reconstruction}: cannot compare with {args.truth}: {exc}") from None
    metrics = score_alignment(al)
    metrics.update(
        {"reconstruction": str(args.reconstruction), "truth": str(args.truth), "canvas_origin": list(origin)}
    )
    out: Path = args.output_dir or args.reconstruction.parent / f"{args.reconstruction.stem}-evaluation"
    out.mkdir(parents=True, exist_ok=True)
    figures: list[str] = []
    if not args.no_figures:
        try:
            from ptychopinn.figures import plot_comparison, plot_frc

            figures.append(
                str(
                    plot_comparison(
                        al.reconstruction, al.truth, out / "comparison.png", valid=al.mask, align_first=False
                    )
                )
            )
            figures.append(str(plot_frc(metrics["frc_curves"], out / "frc.png")))
        except ImportError as exc:
            print(f"ptychopinn evaluate: no figures ({exc})")
    metrics["figures"] = figures
    metrics["data_consistency"] = consistency
    path = write_json_atomic(out / METRICS_NAME, metrics)
    a, p = metrics["amplitude"], metrics["phase"]
    print(
        f"amplitude: SSIM {a['ssim']:.4f}  PSNR {_db(a['psnr_db']):.2f} dB  MAE {a['mae']:.4g}  "
        f"FRC50 {a['frc50_cycles_per_px']:.3f} cyc/px\n"
        f"phase:     SSIM {p['ssim']:.4f}  PSNR {_db(p['psnr_db']):.2f} dB  MAE {p['mae']:.4g} rad  "
        f"FRC50 {p['frc50_cycles_per_px']:.3f} cyc/px\n"
        f"registration shift (dx, dy) = ({al.shift[0]:.3f}, {al.shift[1]:.3f}) px; wrote {path}"
        + (f" and {len(figures)} PNGs" if figures else "")
    )
    if consistency is not None:
        print(_consistency_text(consistency))
    return 0


def _consistency_text(c: dict[str, Any]) -> str:
    d, a = c["poisson_deviance"], c["amplitude_error"]
    return (f"data consistency ({c['n_patterns']} patterns): Poisson deviance median {d['median']:.4g}/px "
            f"(p90 {d['p90']:.4g}); relative amplitude error median {a['median']:.4g} (p90 {a['p90']:.4g})")


def _consistency_only(args: argparse.Namespace, consistency: dict[str, Any] | None) -> int:
    """No ground truth: report (and write) data consistency only."""
    from ptychopinn.cli._common import write_json_atomic
    from ptychopinn.errors import ScanDataError

    if consistency is None:
        raise ScanDataError(
            f"{args.reconstruction}: nothing to evaluate: give --truth FILE (ground truth) and/or --data SCAN "
            "(the scan it was reconstructed from, for data consistency); no reconstruction.json beside it names "
            "the scan"
        )
    out: Path = args.output_dir or args.reconstruction.parent / f"{args.reconstruction.stem}-evaluation"
    out.mkdir(parents=True, exist_ok=True)
    path = write_json_atomic(out / METRICS_NAME, {"reconstruction": str(args.reconstruction),
                                                  "data_consistency": consistency})
    print(_consistency_text(consistency) + f"\nwrote {path}")
    return 0
