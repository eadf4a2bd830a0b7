"""Cross-backend check: bundles trained by PyTorch / TensorFlow reconstruct identically on ONNX Runtime.

Two steps, two environments::

    # 1. with ptychopinn-core + ptychopinn-torch + ptychopinn-tf installed (e.g. /work/venv):
    #    simulate a small scan, train tiny models with each backend (both architectures),
    #    and reconstruct with the training backend (network only) -> reference reconstruction.npz
    python ptychopinn-onnx/tests/cross_backend_check.py make [--dir DIR] [--epochs 2]

    # 2. with ONLY ptychopinn-core + ptychopinn-onnx installed (e.g. /work/venv-onnx):
    #    refuse to run if torch/TensorFlow are installed or get imported, reconstruct the same scan
    #    with the onnx backend (CLI and Python API), compare with the references (max |diff| <= 1e-4)
    python ptychopinn-onnx/tests/cross_backend_check.py check [--dir DIR]

``DIR`` defaults to ``$PTYCHOPINN_ONNX_CROSS_DIR`` or ``ptychopinn-onnx/tests/cross_backend_data``
(git-ignored). ``make`` writes ``DIR/cases.json``; ``check`` writes ``DIR/check.json`` and exits 1
on a failed case. ``tests/test_cross_backend.py`` runs ``check`` when ``cases.json`` exists.
When a backend cannot train (``--untrained``, or training fails), ``make`` writes a bundle of
core's seeded initial weights labelled with that backend instead (``trained: false`` in the case).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TOLERANCE = 1e-4
"""Maximum absolute difference of the reconstructed objects (network units, |object| ~ 1)."""
FRAMEWORKS = ("torch", "tensorflow", "keras", "lightning", "jax")
"""Modules and distributions that must be absent in the ``check`` environment."""
ARCHITECTURES = {
    "fast-g2": {"architecture": "fast", "gridsize": 2, "n_filters_scale": 1},
    "published-g1": {"architecture": "published", "gridsize": 1, "n_filters_scale": 1},
}
DEFAULT_DIR = Path(__file__).resolve().parent / "cross_backend_data"


def case_dir(default: Path | None = None) -> Path:
    """The data directory: ``$PTYCHOPINN_ONNX_CROSS_DIR`` or ``default`` / :data:`DEFAULT_DIR`."""
    env = os.environ.get("PTYCHOPINN_ONNX_CROSS_DIR", "").strip()
    return Path(env) if env else (default or DEFAULT_DIR)


def _cli(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    subprocess.run([sys.executable, "-m", "ptychopinn", *args], check=True, env=env)


def _toml(model: dict[str, Any]) -> str:
    lines = ["[model]"]
    for key, value in model.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def _untrained_bundle(backend: str, model: dict[str, Any], path: Path) -> None:
    from ptychopinn.architecture import init_weights
    from ptychopinn.bundle import write_bundle
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.physics import Normalisation
    from ptychopinn.results import TrainedModel

    config = ModelConfig(**model)
    trained = TrainedModel(
        backend=backend,
        backend_version="untrained",
        model_config=config,
        training_config=TrainingConfig(),
        normalisation=Normalisation(N=config.N, mean_counts=1.0e5),
        probe=np.ones((config.N, config.N), dtype=np.complex64),
        weights=init_weights(config, seed=0),
    )
    write_bundle(trained, path)


def _reconstruct_api(bundle: Path, scan: Path, backend: str, target: Path) -> None:
    import ptychopinn
    from ptychopinn.config import InferenceConfig, RefinementConfig
    from ptychopinn import read_scan
    from ptychopinn.data.reconstruction_file import write_reconstruction

    config = InferenceConfig(refinement=RefinementConfig(enabled=False))
    write_reconstruction(target, ptychopinn.reconstruct(bundle, read_scan(scan), backend=backend, config=config))


def _reference(bundle: Path, scan: Path, backend: str, out: Path) -> str:
    """The training backend's reconstruction (network only): ``ptychopinn reconstruct --no-refine``,
    or the Python API when the command fails. Returns which one wrote it."""
    try:
        _cli("reconstruct", str(bundle), str(scan), "--backend", backend, "--no-refine", "--quiet", "-o", str(out))
        return "cli"
    except subprocess.CalledProcessError as exc:
        print(f"[make] ptychopinn reconstruct failed ({exc}); using ptychopinn.reconstruct", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        _reconstruct_api(bundle, scan, backend, out / "reconstruction.npz")
        return "api"


def make(root: Path, *, backends: list[str], epochs: int, untrained: bool) -> list[dict[str, Any]]:
    """Scan, bundles and reference reconstructions (network only) by each training backend."""
    root.mkdir(parents=True, exist_ok=True)
    scan = root / "scan.npz"
    _cli("simulate", "--preset", "small", "--seed", "3", str(scan))
    cases = []
    for backend in backends:
        for arch, model in ARCHITECTURES.items():
            name = f"{backend}-{arch}"
            out = root / name
            out.mkdir(exist_ok=True)
            (out / "config.toml").write_text(_toml(model))
            bundle, trained = out / "model.ptychopinn.zip", False
            start = time.perf_counter()
            if not untrained and bundle.exists() and (out / "training_summary.json").exists():
                trained = True  # trained by an earlier run: reuse
            elif not untrained:
                try:
                    _cli("train", str(scan), "--backend", backend, "--config", str(out / "config.toml"), "-o", str(out),
                         "--epochs", str(epochs), "--seed", "0")
                    trained = bundle.exists()
                except subprocess.CalledProcessError as exc:
                    print(f"[make] training {name} failed ({exc}); using core's initial weights", file=sys.stderr)
            if not trained:
                _untrained_bundle(backend, model, bundle)
            via = _reference(bundle, scan, backend, out / "reference")
            cases.append({"name": name, "backend": backend, "trained": trained, "model": model, "reference_via": via,
                          "bundle": str(bundle.relative_to(root)), "scan": scan.name,
                          "reference": str((out / "reference" / "reconstruction.npz").relative_to(root)),
                          "seconds": round(time.perf_counter() - start, 1)})
    (root / "cases.json").write_text(json.dumps({"cases": cases}, indent=2))
    return cases


def frameworks_installed() -> list[str]:
    """Framework distributions installed in this environment (``pip list`` and importlib.metadata)."""
    from importlib.metadata import distributions

    names = {(d.metadata["Name"] or "").lower() for d in distributions()}
    listed = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json"], capture_output=True, text=True)
    if listed.returncode == 0:
        names |= {p["name"].lower() for p in json.loads(listed.stdout)}
    bad = ("torch", "tensorflow", "tensorflow-cpu", "tf-keras", "keras", "lightning", "pytorch-lightning", "jax")
    return sorted(n for n in names if n in bad)


def frameworks_imported() -> list[str]:
    """Framework modules present in ``sys.modules``."""
    return sorted(m for m in FRAMEWORKS if m in sys.modules)


def compare(reference: Path, candidate: Path) -> dict[str, Any]:
    """Max differences between two reconstruction.npz files (object, weight, valid, origin)."""
    with np.load(reference) as ref, np.load(candidate) as out:
        diff = np.abs(out["object"].astype(np.complex128) - ref["object"].astype(np.complex128))
        return {
            "shape": list(ref["object"].shape),
            "max_abs_diff": float(diff.max()),
            "max_abs_object": float(np.abs(ref["object"]).max()),
            "weight_max_diff": float(np.abs(out["weight"] - ref["weight"]).max()),
            "valid_equal": bool(np.array_equal(out["valid"], ref["valid"])),
            "origin_equal": bool(np.array_equal(out["canvas_origin"], ref["canvas_origin"])),
            "backend": str(out["backend"][0]),
            "reference_backend": str(ref["backend"][0]),
            "model_backend": str(out["model_backend"][0]),
        }


def check(root: Path) -> dict[str, Any]:
    """Reconstruct every case of ``root/cases.json`` with the onnx backend and compare (see module doc)."""
    installed = frameworks_installed()
    if installed:
        raise SystemExit(f"[check] refusing: framework distributions installed here: {', '.join(installed)}")
    import ptychopinn

    cases = json.loads((root / "cases.json").read_text())["cases"]
    results = []
    for case in cases:
        bundle, scan_path = root / case["bundle"], root / case["scan"]
        cli_dir, api_file = root / case["name"] / "onnx_cli", root / case["name"] / "onnx_api.npz"
        row: dict[str, Any] = {"name": case["name"], "backend": case["backend"], "trained": case["trained"]}
        try:
            _cli("reconstruct", str(bundle), str(scan_path), "--backend", "onnx", "--no-refine", "--quiet",
                 "-o", str(cli_dir))
            row["cli"] = compare(root / case["reference"], cli_dir / "reconstruction.npz")
        except subprocess.CalledProcessError as exc:
            row["cli"] = {"error": str(exc)}
        _reconstruct_api(bundle, scan_path, "onnx", api_file)
        row["api"] = compare(root / case["reference"], api_file)
        row["ok"] = all(
            "error" not in r and r["max_abs_diff"] <= TOLERANCE and r["valid_equal"] and r["origin_equal"]
            and r["backend"] == "onnx"
            for r in (row["cli"], row["api"])
        )
        results.append(row)
    imported = frameworks_imported()
    report = {
        "tolerance": TOLERANCE,
        "frameworks_installed": installed,
        "frameworks_imported_after_reconstruct": imported,
        "python": sys.executable,
        "versions": {"ptychopinn": ptychopinn.__version__, "onnxruntime": _version("onnxruntime"),
                     "onnx": _version("onnx"), "ptychopinn-onnx": _version("ptychopinn-onnx")},
        "cases": results,
        "ok": bool(results) and not imported and all(r["ok"] for r in results),
    }
    (root / "check.json").write_text(json.dumps(report, indent=2))
    return report


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["make", "check"])
    parser.add_argument("--dir", type=Path, default=None, help="data directory (default: $PTYCHOPINN_ONNX_CROSS_DIR)")
    parser.add_argument("--backends", nargs="+", default=["pytorch", "tensorflow"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--untrained", action="store_true", help="bundles of core's initial weights, no training")
    args = parser.parse_args(argv)
    root = case_dir(args.dir)
    if args.step == "make":
        cases = make(root, backends=args.backends, epochs=args.epochs, untrained=args.untrained)
        print(json.dumps(cases, indent=2))
        return 0
    report = check(root)
    for row in report["cases"]:
        cli = row["cli"].get("error") or f"{row['cli']['max_abs_diff']:.2e}"
        print(f"{row['name']:28s} trained={row['trained']!s:5s} cli max|diff|={cli} "
              f"api max|diff|={row['api']['max_abs_diff']:.2e} (|object| <= {row['api']['max_abs_object']:.2f}) "
              f"{'OK' if row['ok'] else 'FAIL'}")
    print(f"frameworks imported: {report['frameworks_imported_after_reconstruct'] or 'none'}; "
          f"installed: {report['frameworks_installed'] or 'none'}; overall {'OK' if report['ok'] else 'FAIL'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
