"""``ptychopinn export MODEL -o FILE``: write a bundle's network in a backend's deployment format (e.g. ONNX)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ptychopinn.cli._common import add_config_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "export",
        help="export a model bundle's network for deployment (e.g. ONNX)",
        description="Write the network of MODEL (a *.ptychopinn.zip bundle, trained by any backend) to OUTPUT in "
        "the deployment format of a backend with the 'export' capability (ptychopinn-onnx: model.onnx). Default "
        "backend: the only installed backend that can export.",
    )
    p.add_argument("model", type=Path, help="model bundle (*.ptychopinn.zip)")
    p.add_argument("-o", "--output", type=Path, required=True, help="file to write (e.g. model.onnx)")
    p.add_argument("--backend", metavar="NAME", help="backend that exports (default: the only one that can)")
    add_config_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ptychopinn._safety import printable
    from ptychopinn.api import export_model, load_model
    from ptychopinn.cli._common import load_run_config
    from ptychopinn.cli._outputs import prepare_outputs

    config, _ = load_run_config(args.config)
    model = load_model(args.model)
    prepare_outputs(args.output.parent, (args.output.name,))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    written = export_model(model, args.output, backend=args.backend,
                           options=dict(config.backend_options) or None)
    print(f"exported {printable(str(args.model))} (trained by '{model.backend}') to {printable(str(written))}")
    return 0
