"""Prepare a Ptychodus batch-mode directory from a PtychoPINN scan file.

``ptychodus --batch train|reconstruct -i DIR -o OUT`` reads Ptychodus's standard layout:
``DIR/diffraction.h5`` (patterns), ``DIR/product.h5`` (positions, probe, object),
``DIR/settings.ini`` and, for training, the training data in ``DIR`` (the adapter looks for
``train_data.npz``); reconstruct loads ``DIR/model.ptychopinn.zip``. This command writes the
first two with Ptychodus's own writers, copies the scan as ``train_data.npz`` and writes a
minimal ``settings.ini`` selecting the algorithm (an existing one is kept)::

    python -m ptychopinn_ptychodus.batch_input scan.npz DIR [--algorithm ptychopinn-next_pinn]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

__all__ = ["main", "write_batch_inputs"]

DEFAULT_ALGORITHM = "ptychopinn-next_pinn"


def write_batch_inputs(scan_file: Path, directory: Path, *, algorithm: str = DEFAULT_ALGORITHM) -> dict[str, Path]:
    """Write the batch-mode files for ``scan_file`` into ``directory``; return them by role.

    Raises
    ------
    ptychopinn.errors.ScanDataError
        The scan file is invalid (the message names the file and key); nothing is written.
    """
    from ptychodus.api.io import StandardFileLayout, save_diffraction_data, save_product

    from ptychopinn._atomic import atomic_write
    from ptychopinn_ptychodus.npz_reader import read_for_ptychodus

    diffraction, product, _ = read_for_ptychodus(Path(scan_file))  # validates before anything is written
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "diffraction": directory / StandardFileLayout.DIFFRACTION,
        "product": directory / StandardFileLayout.PRODUCT,
        "training_data": directory / "train_data.npz",
        "settings": directory / StandardFileLayout.SETTINGS,
    }
    save_diffraction_data(paths["diffraction"], diffraction)
    save_product(paths["product"], product)
    if Path(scan_file).resolve() != paths["training_data"].resolve():
        with open(scan_file, "rb") as src, atomic_write(paths["training_data"]) as dst:
            shutil.copyfileobj(src, dst)
    if not paths["settings"].exists():
        with atomic_write(paths["settings"], "w", encoding="utf-8") as handle:
            handle.write(f"[Processing]\nAlgorithm = {algorithm}\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m ptychopinn_ptychodus.batch_input SCAN DIR [--algorithm KEY]``."""
    parser = argparse.ArgumentParser(
        prog="python -m ptychopinn_ptychodus.batch_input", description=__doc__.split("\n")[0]
    )
    parser.add_argument("scan", type=Path, help="scan NPZ file (docs/data-contract.md)")
    parser.add_argument("directory", type=Path, help="batch input directory to write")
    parser.add_argument(
        "--algorithm", default=DEFAULT_ALGORITHM, help=f"[Processing] Algorithm (default {DEFAULT_ALGORITHM})"
    )
    args = parser.parse_args(argv)
    from ptychopinn.errors import PtychoPINNError

    try:
        paths = write_batch_inputs(args.scan, args.directory, algorithm=args.algorithm)
    except (PtychoPINNError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for role, path in paths.items():
        print(f"{role}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
