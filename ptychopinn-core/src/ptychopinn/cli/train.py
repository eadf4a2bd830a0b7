"""``ptychopinn train``: train a model on a scan file and write a model bundle + JSON summary."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptychopinn.cli._common import add_backend_option, add_config_option
from ptychopinn.config.model import ARCHITECTURES

__all__ = ["add_parser", "run"]

BUNDLE_NAME = "model.ptychopinn.zip"
SUMMARY_NAME = "training_summary.json"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "train",
        help="train a model on a scan (NPZ) and write a model bundle",
        description=f"Train on DATA and write OUTPUT_DIR/{BUNDLE_NAME} and OUTPUT_DIR/{SUMMARY_NAME} "
        "(both record the backend).",
    )
    p.add_argument("data", type=Path, nargs="+", help="scan NPZ file(s) (docs/data-contract.md); several scans with "
                   "the same pattern size and probe train one model on all their patterns")
    add_backend_option(p)
    add_config_option(p)
    p.add_argument("-o", "--output-dir", type=Path, default=Path("ptychopinn-train"), help="output directory")
    p.add_argument("--epochs", type=int, help="training.epochs")
    p.add_argument("--batch-size", type=int, help="training.batch_size")
    p.add_argument("--learning-rate", type=float, help="training.learning_rate")
    p.add_argument("--n-groups", type=int, help="training.n_groups (default: one group per scan point)")
    p.add_argument("--seed", type=int, help="training.seed")
    p.add_argument("--gridsize", type=int, help="model.gridsize")
    p.add_argument("--architecture", choices=ARCHITECTURES,
                   help="model.architecture: published (the original CNN) or fast (cost-aware, ~14x fewer FLOPs)")
    p.add_argument("--model-type", choices=("pinn", "supervised"), help="model.model_type")
    p.add_argument("--mmap", action="store_true", help="memory-map the diffraction stack")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import ptychopinn
    from ptychopinn.cli._common import config_dict, load_run_config, replace_given, write_json_atomic
    from ptychopinn._safety import printable
    from ptychopinn.cli._outputs import prepare_outputs, save_with_fallback
    from ptychopinn.errors import OutputError
    from ptychopinn.data.npz import read_scan
    from ptychopinn.plugins.registry import get_backend
    from ptychopinn.plugins.selection import select_backend_name

    config, raw = load_run_config(args.config)
    # Fail fast: resolve and load the backend before reading any data.
    backend = get_backend(select_backend_name(args.backend, config_backend=config.training_backend))
    backend.require("train")
    options = backend.resolve_options(dict(config.backend_options) or None)
    prepare_outputs(args.output_dir, (BUNDLE_NAME, SUMMARY_NAME, "loss.png"))  # before any work (#14)
    training = replace_given(config.training, epochs=args.epochs, batch_size=args.batch_size,
                             learning_rate=args.learning_rate, n_groups=args.n_groups, seed=args.seed)
    from ptychopinn.data.combine import combine_scans

    data_label = printable(", ".join(str(path) for path in args.data))  # file names are echoed escaped (#14)
    scan = combine_scans([read_scan(path, mmap=args.mmap) for path in args.data])
    model_config = replace_given(config.model, gridsize=args.gridsize, model_type=args.model_type,
                                 architecture=args.architecture)
    if "N" not in (raw.get("model") or {}):
        model_config = replace_given(model_config, source=f"{data_label}: patterns of {scan.N} x {scan.N} pixels",
                                     N=scan.N)
    print(f"training with backend '{backend.name}' ({backend.distribution} {backend.version}) on {data_label}: "
          f"{scan.n_patterns} patterns of {scan.N}x{scan.N}, gridsize {model_config.gridsize}, "
          f"{training.epochs} epochs")
    model = ptychopinn.train(scan, backend=backend.name, model_config=model_config, training_config=training,
                             options=options)
    bundle, rescued = save_with_fallback(lambda path: ptychopinn.save_model(model, path),
                                         args.output_dir / BUNDLE_NAME, what="the trained model")
    summary = {
        "backend": model.backend,
        "backend_version": model.backend_version,
        "backend_distribution": backend.distribution,
        "bundle": str(bundle),
        "data": str(args.data[0]) if len(args.data) == 1 else [str(path) for path in args.data],
        "model_config": config_dict(model.model_config),
        "training_config": config_dict(model.training_config),
        "normalisation": model.normalisation.to_dict(),
        "training_summary": model.training_summary.to_dict() if model.training_summary else None,
    }
    write_json_atomic(bundle.parent / SUMMARY_NAME, summary)
    _loss_figure(model, bundle.parent)
    if rescued:
        raise OutputError(rescued)
    history = model.training_summary.history if model.training_summary else {}
    loss = history.get("loss", ())
    final = f", final loss {loss[-1]:.6g}" if loss else ""
    print(f"wrote {bundle} and {args.output_dir / SUMMARY_NAME}{final}")
    return 0


def _loss_figure(model: object, out: Path) -> None:
    """Loss-curve PNG (skipped with a note when matplotlib is not installed)."""
    summary = getattr(model, "training_summary", None)
    if summary is None or not summary.history:
        return
    from ptychopinn.figures import plot_training_history

    try:
        plot_training_history(summary.history, out / "loss.png")
    except ImportError as exc:
        print(f"note: no loss figure: {exc}")
