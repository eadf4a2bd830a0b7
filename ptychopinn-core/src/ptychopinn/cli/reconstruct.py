"""``ptychopinn reconstruct``: reconstruct a scan with a model bundle; write NPZ + JSON (+ PNG)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ptychopinn.cli._common import add_backend_option, add_config_option
from ptychopinn.cli._refine_options import add_refinement_options, refinement_from_args

__all__ = ["add_parser", "run"]

NPZ_NAME = "reconstruction.npz"
SUMMARY_NAME = "reconstruction.json"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "reconstruct",
        help="reconstruct a scan with a trained model bundle",
        description=f"Reconstruct DATA with MODEL; writes OUTPUT_DIR/{NPZ_NAME} (object, weight, valid, canvas "
        f"origin, backend) and OUTPUT_DIR/{SUMMARY_NAME}. Without --backend the bundle's backend is used.",
    )
    p.add_argument("model", type=Path, help="model bundle (*.ptychopinn.zip)")
    p.add_argument("data", type=Path, help="scan NPZ file")
    add_backend_option(p)
    add_config_option(p)
    p.add_argument("-o", "--output-dir", type=Path, default=Path("ptychopinn-reconstruction"))
    p.add_argument("--batch-size", type=int, help="inference.batch_size (groups per forward pass)")
    p.add_argument("--normalisation", choices=("data", "model"), help="inference.normalisation")
    p.add_argument("--mmap", action="store_true", help="memory-map the diffraction stack (large scans)")
    add_refinement_options(p)
    p.add_argument("--write-refined-scan", type=Path, metavar="FILE",
                   help="also write DATA with the refined probe and/or positions as a scan NPZ (to train on)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    if quiet:
        return None

    def report(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\rreconstructing: {done}/{total} groups ({100 * done // max(total, 1)}%)", end=end,
              file=sys.stderr, flush=True)

    return report


def run(args: argparse.Namespace) -> int:
    import ptychopinn
    from ptychopinn.cli._common import config_dict, load_run_config, replace_given, write_json_atomic
    from ptychopinn.cli._outputs import prepare_outputs, save_with_fallback
    from ptychopinn.data.npz import read_scan
    from ptychopinn.data.reconstruction_file import write_reconstruction

    config, _ = load_run_config(args.config)
    prepare_outputs(args.output_dir, (NPZ_NAME, SUMMARY_NAME, "reconstruction.png"))  # before any work (#14)
    if args.write_refined_scan is not None:
        prepare_outputs(args.write_refined_scan.parent, (args.write_refined_scan.name,))
    inference = replace_given(config.inference, batch_size=args.batch_size, normalisation=args.normalisation)
    inference = replace_given(inference, refinement=refinement_from_args(args, inference.refinement))
    explicit = args.backend or config.inference_backend
    model = ptychopinn.load_model(args.model)
    # Fail fast: the backend, its capability and its options before reading the scan.
    from ptychopinn.api import select_inference_backend

    backend = select_inference_backend(model, explicit)
    backend.require("infer")
    options = backend.resolve_options(dict(config.backend_options) or None)
    scan = read_scan(args.data, mmap=args.mmap)
    result = ptychopinn.reconstruct(model, scan, backend=backend.name, config=inference,
                                    options=options, progress=_progress(args.quiet),
                                    refine_progress=_refine_progress(args.quiet))
    if result.refinement is not None and not args.quiet:
        print(file=sys.stderr)
    obj = result.object
    npz, rescued = save_with_fallback(lambda path: write_reconstruction(path, result), args.output_dir / NPZ_NAME,
                                      what="the reconstruction")
    summary = {
        **result.summary(),
        "model": str(args.model),
        "data": str(args.data),
        "output": str(npz),
        "inference_config": config_dict(inference),
    }
    write_json_atomic(npz.parent / SUMMARY_NAME, summary)
    _figures(result, npz.parent)
    if rescued:
        from ptychopinn.errors import OutputError

        raise OutputError(rescued)
    print(f"reconstructed {args.data} with backend '{result.backend}' (model from '{result.model_backend}'): "
          f"{obj.object.shape[0]}x{obj.object.shape[1]} canvas; wrote {npz} and {args.output_dir / SUMMARY_NAME}")
    print(consistency_line(result))
    if args.write_refined_scan is not None:
        _write_refined_scan(args.write_refined_scan, scan, result)
    return 0


def _write_refined_scan(path: Path, scan: Any, result: Any) -> None:
    """The scan with the refined probe/positions (unchanged parts as measured), for training on."""
    import dataclasses

    from ptychopinn.data.npz import write_scan

    changes = {}
    if result.refined_probe is not None:
        changes["probe"] = result.refined_probe
    if result.refined_positions is not None:
        changes["positions"] = result.refined_positions
    if not changes:
        print(f"note: nothing refined beyond the object (use --refine-probe / --refine-positions); {path} not written")
        return
    out = write_scan(path, dataclasses.replace(scan, **changes))
    print(f"wrote {out}: the scan with the refined {' and '.join(sorted(changes))}")


def consistency_line(result: Any) -> str:
    """One line: data consistency of the network object (and of the refined one) and what refinement did."""
    parts = []
    for name, c in result.consistency.items():
        s = c.summary()
        parts.append(f"{name}: Poisson deviance {s['poisson_deviance']['median']:.3g}/px, "
                     f"amplitude error {s['amplitude_error']['median']:.3g} (medians)")
    line = "data consistency — " + "; ".join(parts) if parts else "data consistency not computed"
    report = result.refinement
    if report is not None:
        kept = (f"kept sweep {report.best_iteration} of {report.iterations_run}" if report.best_iteration
                else f"no held-out improvement in {report.iterations_run} sweeps: network object kept")
        line += f"\nrefinement ({report.operator}): {kept}, stopped by {report.stopped_by}, {report.wall_time_s:.1f} s"
        if report.refined_positions:
            line += f", position change {report.position_shift_rms_px:.2f} px rms"
    return line


def _refine_progress(quiet: bool):  # type: ignore[no-untyped-def]
    if quiet:
        return None

    def report(sweep: int, train: float, heldout: float) -> None:
        print(f"\rrefining: sweep {sweep}, loss {train:.4f}, held-out {heldout:.4f}", end="", file=sys.stderr,
              flush=True)

    return report


def _figures(result: Any, out: Path) -> None:
    """Amplitude/phase PNG (skipped with a note when matplotlib is not installed)."""
    from ptychopinn.figures import plot_object

    try:
        plot_object(result.object.object, out / "reconstruction.png", valid=result.object.valid,
                    title=f"{result.backend}" + (" + refinement" if result.refinement is not None else ""))
        if result.consistency:
            from ptychopinn.figures import plot_consistency

            plot_consistency(result.consistency, out / "consistency.png")
    except ImportError as exc:
        print(f"note: no figure: {exc}")
