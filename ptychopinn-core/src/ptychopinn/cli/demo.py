"""``ptychopinn demo``: simulate a scan, train briefly, reconstruct, refine, evaluate, write figures.

Everything lands in one output directory: the simulated scan, the model bundle, the
reconstruction (NPZ), ``metrics.json`` and PNG figures. The recipe is the fastest one measured
to give a sharp image: the cost-aware ``fast`` architecture trained for a few epochs gives the
first answer, refinement against the measured patterns the detail (well under two minutes on
two CPU cores; README).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ptychopinn.cli._common import add_backend_option
from ptychopinn.cli._refine_options import add_refinement_options, refinement_from_args
from ptychopinn.config.model import ARCHITECTURES

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo",
        help="simulate, train (short budget), reconstruct and evaluate in one command",
        description="End-to-end demo on a built-in simulated scan with the selected (or the only installed) backend.",
    )
    add_backend_option(p)
    p.add_argument("-o", "--output-dir", type=Path, default=Path("ptychopinn-demo"))
    p.add_argument("--epochs", type=int, default=10,
                   help="training epochs (default 10: the network gives the first answer, refinement the detail)")
    p.add_argument("--n-patterns", type=int, default=256, help="simulated diffraction patterns (default 256)")
    p.add_argument(
        "--gridsize", type=int, default=2, help="model.gridsize (default 2: the real-space overlap constraint)"
    )
    p.add_argument(
        "--n-filters-scale",
        type=int,
        default=2,
        help="model.n_filters_scale (default 2: the fast architecture's measured width, 0.03 GFLOP per pattern "
        "at gridsize 2)",
    )
    p.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="fast",
        help="model.architecture (default fast: the cost-aware network; refinement restores the detail)",
    )
    p.add_argument("--seed", type=int, default=0)
    add_refinement_options(p)
    p.set_defaults(func=run, refine=True)


def _figures(out: Path, obj: Any, truth: Any, history: Any, frc_curves: Any) -> list[str]:
    """PNG figures via ptychopinn.figures; an empty list (and a note) without matplotlib."""
    from ptychopinn import figures

    written: list[str] = []
    try:
        written.append(str(figures.plot_object(obj.object, out / "reconstruction.png", valid=obj.valid)))
        if truth is not None:
            written.append(str(figures.plot_comparison(obj.object, truth, out / "comparison.png", valid=obj.valid)))
        if history:
            written.append(str(figures.plot_training_history(history, out / "loss.png")))
        if frc_curves:
            written.append(str(figures.plot_frc(frc_curves, out / "frc.png")))
    except ImportError as exc:
        print(f"note: figures skipped: {exc}")
    return written


def run(args: argparse.Namespace) -> int:
    import ptychopinn
    from ptychopinn.cli._common import write_json_atomic
    from ptychopinn.config import InferenceConfig, ModelConfig, RefinementConfig, TrainingConfig
    from ptychopinn.data.npz import write_scan
    from ptychopinn.data.reconstruction_file import write_reconstruction
    from ptychopinn.plugins.registry import get_backend
    from ptychopinn.plugins.selection import select_backend_name

    backend = get_backend(select_backend_name(args.backend))
    backend.require("train")
    out: Path = args.output_dir
    from ptychopinn.cli._outputs import prepare_outputs

    prepare_outputs(out, ("scan.npz", "model.ptychopinn.zip", "reconstruction.npz", "metrics.json"))  # (#14)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from ptychopinn.simulate import simulate_scan

    print(f"[1/5] simulating {args.n_patterns} diffraction patterns (N=64)")
    scan = simulate_scan(N=64, n_patterns=args.n_patterns, seed=args.seed)
    write_scan(out / "scan.npz", scan)
    print(f"[2/5] training with backend '{backend.name}' for {args.epochs} epochs")
    model = ptychopinn.train(
        scan,
        backend=backend.name,
        model_config=ModelConfig(
            N=64, gridsize=args.gridsize, n_filters_scale=args.n_filters_scale, architecture=args.architecture
        ),
        training_config=TrainingConfig(epochs=args.epochs, seed=args.seed, early_stopping_patience=None),
    )
    from ptychopinn.cli._outputs import raise_if_rescued, save_with_fallback

    bundle, rescued = save_with_fallback(lambda path: ptychopinn.save_model(model, path),
                                         out / "model.ptychopinn.zip", what="the trained model")
    raise_if_rescued(rescued)  # the output directory is gone: stop here, the model is safe (#14)
    refinement = refinement_from_args(args, RefinementConfig()) or RefinementConfig()
    print("[3/5] reconstructing" + (" and refining against the measured patterns" if refinement.enabled else ""))
    result = ptychopinn.reconstruct(model, scan, config=InferenceConfig(refinement=refinement))
    obj = result.object
    write_reconstruction(out / "reconstruction.npz", result)
    print("[4/5] evaluating against the simulated object")
    from ptychopinn.metrics import evaluate
    from ptychopinn.stitching import crop_to_canvas

    metrics: dict[str, Any] = {}
    network_metrics: dict[str, Any] | None = None
    truth = None
    if scan.object is not None:
        truth, _ = crop_to_canvas(scan.object, obj.canvas)
        metrics = evaluate(obj.object, truth, valid=obj.valid)
        if result.network_object is not None:
            net = result.network_object
            network_metrics = evaluate(net.object, crop_to_canvas(scan.object, net.canvas)[0], valid=net.valid)
    history = model.training_summary.history if model.training_summary else {}
    print("[5/5] writing figures")
    pngs = _figures(out, obj, truth, history, metrics.get("frc_curves"))
    summary = {
        "backend": result.backend,
        "backend_version": model.backend_version,
        "bundle": str(bundle),
        "epochs": args.epochs,
        "gridsize": args.gridsize,
        "n_filters_scale": args.n_filters_scale,
        "architecture": args.architecture,
        "n_patterns": scan.n_patterns,
        "final_loss": history.get("loss", [None])[-1] if history.get("loss") else None,
        "metrics": metrics,
        "network_only_metrics": network_metrics,
        "reconstruction": result.summary(),
        "figures": pngs,
        "wall_time_s": time.perf_counter() - start,
    }
    write_json_atomic(out / "metrics.json", summary)
    if metrics:
        final = "network + refinement" if result.refinement is not None else "network"
        if network_metrics is not None:
            print(f"network only:          amplitude / phase SSIM {network_metrics['amplitude']['ssim']:.3f} / "
                  f"{network_metrics['phase']['ssim']:.3f}")
        print(f"{final + ':':22s} amplitude / phase SSIM {metrics['amplitude']['ssim']:.3f} / "
              f"{metrics['phase']['ssim']:.3f}")
    print(f"done in {summary['wall_time_s']:.1f} s with backend '{result.backend}'; results in {out}/")
    return 0
