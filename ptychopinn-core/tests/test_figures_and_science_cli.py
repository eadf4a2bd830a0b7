"""Figures (matplotlib optional) and the simulate -> evaluate / inspect command lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ptychopinn.data.npz import read_scan, write_npz
from ptychopinn.physics.patches import extract_object_patches
from ptychopinn.stitching import reassemble

PNG = b"\x89PNG\r\n\x1a\n"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ptychopinn", *args], cwd=cwd, capture_output=True, text=True, env=ENV, timeout=300
    )


def test_figures_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from ptychopinn import figures
    from ptychopinn.metrics import evaluate

    rng = np.random.default_rng(0)
    truth = np.exp(1j * rng.uniform(-1, 1, (40, 50))) * rng.uniform(0.5, 1, (40, 50))
    recon = truth * np.exp(0.3j)
    valid = np.ones(truth.shape, bool)
    valid[:5] = False
    paths = [
        figures.plot_object(recon, tmp_path / "obj.png", valid=valid),
        figures.plot_comparison(recon, truth, tmp_path / "cmp.png", valid=valid),
        figures.plot_frc(evaluate(recon, truth)["frc_curves"], tmp_path / "frc.png"),
        figures.plot_training_history(
            {"loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.5, 2.0], "learning_rate": [1e-3, 1e-3, 5e-4]},
            tmp_path / "loss.png",
        ),
        figures.plot_training_history({}, tmp_path / "empty.png"),
    ]
    for p in paths:
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 1000
    assert sorted(os.listdir(tmp_path)) == ["cmp.png", "empty.png", "frc.png", "loss.png", "obj.png"]  # no temp left


def test_figures_without_matplotlib_say_how_to_install(tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import numpy as np\n"
        "from ptychopinn import figures\n"
        "try:\n"
        f"    figures.plot_object(np.ones((4, 4)), {str(tmp_path / 'x.png')!r})\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert "ERR" in out.stdout and "pip install 'ptychopinn-core[figures]'" in out.stdout


def test_import_ptychopinn_stays_cheap():
    code = (
        "import sys, ptychopinn, ptychopinn.data, ptychopinn.grouping, ptychopinn.stitching, ptychopinn.metrics\n"
        "import ptychopinn.simulate, ptychopinn.figures, ptychopinn.data.npz\n"
        "print(sorted(m for m in ('scipy', 'matplotlib', 'skimage', 'torch', 'tensorflow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_simulate_then_evaluate_from_the_command_line(tmp_path):
    sim = _cli("simulate", "scan.npz", "--preset", "small", "--n-patterns", "49", "--seed", "2", cwd=tmp_path)
    assert sim.returncode == 0, sim.stderr
    assert "49 patterns" in sim.stdout
    scan = read_scan(tmp_path / "scan.npz")
    assert scan.n_patterns == 49 and scan.object is not None
    # a stand-in reconstruction: slightly noisy true patches, stitched by core, as `ptychopinn reconstruct` writes it
    rng = np.random.default_rng(0)
    patches = extract_object_patches(scan.object, scan.positions, scan.N) * np.exp(1j * 1.1)
    patches = patches * (1 + 0.02 * rng.standard_normal(patches.shape))
    st = reassemble(patches, scan.positions, scan.probe)
    write_npz(
        tmp_path / "reconstruction.npz",
        {"object": st.object, "weight": st.weight, "valid": st.valid, "canvas_origin": np.asarray(st.canvas.origin)},
    )
    ev = _cli("evaluate", "reconstruction.npz", "--truth", "scan.npz", "-o", "eval", cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["amplitude"]["ssim"] > 0.8 and metrics["phase"]["ssim"] > 0.8
    assert abs(metrics["phase_offset_rad"] + 1.1) < 0.05
    assert max(abs(s) for s in metrics["registration_shift_px"]) < 0.1
    for png in ("comparison.png", "frc.png"):
        assert (tmp_path / "eval" / png).read_bytes()[:8] == PNG


def test_simulate_is_deterministic_and_inspect_summarises(tmp_path):
    for name in ("a.npz", "b.npz"):
        r = _cli(
            "simulate",
            name,
            "--N",
            "32",
            "--n-patterns",
            "16",
            "--object",
            "siemens",
            "--probe",
            "zoneplate",
            "--scan",
            "spiral",
            "--nphotons",
            "1e4",
            "--seed",
            "5",
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    ins = _cli("inspect", "a.npz", "--json", cwd=tmp_path)
    assert ins.returncode == 0, ins.stderr
    summary = json.loads(ins.stdout)
    assert summary["patterns"] == 16 and summary["N"] == 32
    assert abs(summary["counts_per_pattern"]["mean"] / 1e4 - 1) < 0.01
    text = _cli("inspect", "a.npz", cwd=tmp_path).stdout
    assert "counts/pattern" in text and "overlap" in text and "probe power" in text


def test_evaluate_reports_missing_object_key(tmp_path):
    write_npz(tmp_path / "r.npz", {"something": np.zeros(3)})
    write_npz(tmp_path / "t.npz", {"objectGuess": np.ones((20, 20), np.complex64)})
    r = _cli("evaluate", "r.npz", "--truth", "t.npz", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'object'" in r.stderr and "r.npz" in r.stderr
