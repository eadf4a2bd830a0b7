"""Reconstruction quality on core's simulated benchmark, for any installed backend.

Simulates a preset scan (``ptychopinn.simulate.benchmark_scan``), trains self-supervised
(Poisson NLL) on the scan itself, reconstructs it, and scores amplitude and phase against the
ground truth with ``ptychopinn.metrics.evaluate`` (SSIM, PSNR, FRC). Writes
``<out>/<tag>.json`` and PNG figures ``<figures>/<tag>_{comparison,history,frc}.png``.

    OMP_NUM_THREADS=2 python benchmarks/quality.py --backend pytorch --preset benchmark --gridsize 1 \
        --epochs 30 --threads 2 --out benchmarks/results --figures docs/figures

``--options`` takes a JSON object of backend options (passed through untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np


def contrast(al) -> dict[str, dict[str, float]]:
    """Is the reconstruction flat? Per channel: std of recon and truth, and their Pearson r.

    ``al`` is the :class:`ptychopinn.metrics.alignment.Alignment` the metrics were scored on.
    """
    r, t = al.reconstruction[al.mask], al.truth[al.mask]
    out = {}
    for name, f in (("amplitude", np.abs), ("phase", np.angle)):
        a, b = f(r), f(t)
        out[name] = {
            "std_recon": float(a.std()),
            "std_truth": float(b.std()),
            "pearson_r": float(np.corrcoef(a, b)[0, 1]),
        }
    return out


def truth_half_deviance(scan) -> float:
    """The training loss (NLL relative to the saturated model) that the true object would reach on this scan.

    Expected amplitudes of the true object under the scan's probe, scored against the measured
    (Poisson) amplitudes with ``ptychopinn.physics.poisson_half_deviance``: the noise floor a
    perfect reconstruction sits at; the model's final ``loss`` is on the same per-pixel scale.
    """
    from ptychopinn.physics import far_field_amplitude, poisson_half_deviance
    from ptychopinn.physics.patches import extract_object_patches

    patches = extract_object_patches(np.asarray(scan.object), scan.positions, scan.N)
    expected = far_field_amplitude(np.asarray(scan.probe)[None] * patches)
    return poisson_half_deviance(expected, np.asarray(scan.diffraction))


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="pytorch")
    ap.add_argument("--preset", default="benchmark", help="ptychopinn.simulate preset (benchmark, siemens, small)")
    ap.add_argument("--n-patterns", type=int, default=None, help="override the preset's pattern count")
    ap.add_argument("--gridsize", type=int, default=1)
    ap.add_argument("--n-filters-scale", type=int, default=2)
    ap.add_argument("--architecture", choices=["published", "fast"], default="published")
    ap.add_argument("--quick", action="store_true",
                    help="64 patterns, 1 epoch (smoke test: pass --out/--figures under /tmp)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--nll-weight", type=float, default=1.0)
    ap.add_argument("--mae-weight", type=float, default=0.0)
    ap.add_argument("--early-stopping", type=int, default=None, help="patience; default off")
    ap.add_argument("--validation-fraction", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--options", default=None, help="backend options as a JSON object")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--figures", default="docs/figures")
    ap.add_argument("--save-dir", default=None, help="also write the model bundle and the reconstruction NPZ here")
    args = ap.parse_args()
    if args.quick:
        args.n_patterns, args.epochs = args.n_patterns or 64, 1

    import ptychopinn
    from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
    from ptychopinn.figures import plot_comparison, plot_frc, plot_training_history
    from ptychopinn.metrics import align, score_alignment
    from ptychopinn.stitching import crop_to_canvas
    from ptychopinn.simulate import benchmark_parameters, simulate_scan

    params = benchmark_parameters(args.preset)
    if args.n_patterns is not None:
        params["n_patterns"] = args.n_patterns
    scan = simulate_scan(**params)
    arch = "" if args.architecture == "published" else f"_{args.architecture}"
    tag = args.tag or f"{args.backend}_{args.preset}_gs{args.gridsize}{arch}"
    options = json.loads(args.options) if args.options else None
    if options is None and args.backend in ("pytorch", "torch"):
        options = {"accelerator": "cpu", "num_threads": args.threads}
    elif options is None and args.backend in ("tensorflow", "tf"):
        options = {"intra_op_threads": args.threads, "inter_op_threads": 1}

    mc = ModelConfig(
        N=scan.N, gridsize=args.gridsize, n_filters_scale=args.n_filters_scale, architecture=args.architecture
    )
    tc = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        nll_weight=args.nll_weight,
        mae_weight=args.mae_weight,
        early_stopping_patience=args.early_stopping,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
    )
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    model = ptychopinn.train(scan, backend=args.backend, model_config=mc, training_config=tc, options=options)
    train_wall, train_cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    cpu1, t1 = _cpu_seconds(), time.perf_counter()
    rec = ptychopinn.reconstruct(model, scan, backend=args.backend, config=InferenceConfig(), options=options)
    infer_wall, infer_cpu = time.perf_counter() - t1, _cpu_seconds() - cpu1

    obj = rec.object
    if args.save_dir:
        save = Path(args.save_dir)
        save.mkdir(parents=True, exist_ok=True)
        ptychopinn.save_model(model, save / f"{tag}.ptychopinn.zip")
        np.savez(
            save / f"{tag}_recon.npz", object=obj.object, valid=obj.valid, canvas_origin=np.asarray(obj.canvas.origin)
        )
    truth, _ = crop_to_canvas(scan.object, obj.canvas)
    al = align(obj.object, truth, valid=obj.valid)  # = evaluate(); the alignment is reused by contrast()
    metrics = score_alignment(al)
    curves = metrics.pop("frc_curves", None)
    metrics["contrast"] = contrast(al)

    summary = model.training_summary
    result = {
        "benchmark": "quality",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "backend": rec.backend,
        "scan": {**params, "n_patterns": scan.n_patterns},
        "model_config": {
            "N": mc.N, "gridsize": mc.gridsize, "n_filters_scale": mc.n_filters_scale, "architecture": mc.architecture
        },
        "training": {
            "epochs": tc.epochs,
            "epochs_run": summary.epochs_run if summary else None,
            "batch_size": tc.batch_size,
            "learning_rate": tc.learning_rate,
            "nll_weight": tc.nll_weight,
            "mae_weight": tc.mae_weight,
            "history": dict(summary.history) if summary else None,
            "wall_s": train_wall,
            "cpu_s": train_cpu,
            "final_loss": summary.history.get("loss", [None])[-1] if summary else None,
        },
        "truth_half_deviance": truth_half_deviance(scan),
        "inference": {"wall_s": infer_wall, "cpu_s": infer_cpu, "groups": rec.n_groups},
        "threads": {"requested": args.threads, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "loadavg": os.getloadavg(),
        "metrics": metrics,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{tag}.json").write_text(json.dumps(result, indent=2, default=float))
    # Figures last, so that a missing matplotlib never loses a finished run's numbers.
    fig_dir = Path(args.figures)
    fig_dir.mkdir(parents=True, exist_ok=True)
    try:
        plot_comparison(obj.object, truth, fig_dir / f"{tag}_comparison.png", valid=obj.valid)
        if model.training_summary is not None and model.training_summary.history:
            plot_training_history(model.training_summary.history, fig_dir / f"{tag}_history.png")
        if curves:
            plot_frc(curves, fig_dir / f"{tag}_frc.png")
    except ImportError as exc:
        print(f"figures skipped: {exc}")
    a, p = metrics["amplitude"], metrics["phase"]
    print(
        f"{tag}: amplitude SSIM {a['ssim']:.3f} PSNR {a['psnr_db']} | phase SSIM {p['ssim']:.3f} PSNR {p['psnr_db']} "
        f"| train {train_wall:.0f} s wall, {train_cpu:.0f} s CPU"
    )


if __name__ == "__main__":
    main()
