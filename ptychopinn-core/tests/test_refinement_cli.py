"""Refinement and data consistency through the real command line and API (numpy test backend)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from _plugin_helpers import require_fixture_distributions, run_cli

import ptychopinn
from ptychopinn.config import InferenceConfig, RefinementConfig, TrainingConfig
from ptychopinn.config.files import config_from_mapping, config_to_mapping
from ptychopinn.data.npz import write_scan
from ptychopinn.errors import ConfigError
from ptychopinn.refinement.pipeline import ProbeMismatchWarning
from ptychopinn.simulate import BENCHMARKS, simulate_scan


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    require_fixture_distributions()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PTYCHOPINN_")}
    clean["OMP_NUM_THREADS"] = "1"
    return clean


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("refine")
    scan = write_scan(folder / "scan.npz", simulate_scan(N=64, n_patterns=64, step_px=5.0, nphotons=1e5, seed=1,
                                                         probe_kind="zoneplate"))
    proc = run_cli("train", str(scan), "--backend", "numpy-test", "--epochs", "1", "-o", str(folder / "t"), env=env)
    assert proc.returncode == 0, proc.stderr
    return scan, folder / "t" / "model.ptychopinn.zip"


def test_reconstruct_refine_writes_network_and_refined_results(trained, env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scan, bundle = trained
    out = tmp_path / "rec"
    proc = run_cli("reconstruct", str(bundle), str(scan), "-o", str(out), "--refine", "--refine-positions",
                   "--refine-iterations", "15", "--quiet", "--write-refined-scan", str(tmp_path / "fed_back.npz"),
                   env=env)
    assert proc.returncode == 0, proc.stderr
    assert "data consistency" in proc.stdout and "refinement (numpy)" in proc.stdout
    summary = json.loads((out / "reconstruction.json").read_text())
    network = summary["data_consistency"]["network"]["poisson_deviance"]["median"]
    refined = summary["data_consistency"]["refined"]["poisson_deviance"]["median"]
    assert refined < network
    assert summary["refinement"]["best_iteration"] >= 1 and summary["refinement"]["needed"] is True
    assert summary["inference_config"]["refinement"]["refine_positions"] is True
    with np.load(out / "reconstruction.npz") as npz:
        assert {"object", "network_object", "positions", "pattern_deviance"} <= set(npz.files)
        assert "probe" not in npz.files  # the probe was not refined
        assert npz["positions"].shape == (64, 2) and npz["pattern_deviance"].shape == (64,)
        refined_positions = npz["positions"]
    from ptychopinn.data.npz import read_scan

    fed_back = read_scan(tmp_path / "fed_back.npz")  # refined positions, measured patterns: ready to train on
    np.testing.assert_allclose(fed_back.positions, refined_positions)
    np.testing.assert_array_equal(fed_back.diffraction, read_scan(scan).diffraction)
    # without ground truth, evaluate reports data consistency (scan found through reconstruction.json)
    proc = run_cli("evaluate", str(out / "reconstruction.npz"), env=env)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "reconstruction-evaluation" / "metrics.json").read_text())
    # the file holds complex64: the same consistency to float32 precision
    assert metrics["data_consistency"]["poisson_deviance"]["median"] == pytest.approx(refined, rel=1e-2)
    assert "amplitude" not in metrics
    # a tampered reconstruction (NaN refined positions) is a one-line error naming the key
    with np.load(out / "reconstruction.npz") as npz:
        arrays = dict(npz)
    arrays["positions"][0, 0] = np.nan
    np.savez(out / "tampered.npz", **arrays)
    proc = run_cli("evaluate", str(out / "tampered.npz"), "--data", str(scan), env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "'positions'" in proc.stderr


def test_evaluate_without_truth_or_scan_is_a_clear_error(trained, env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scan, bundle = trained
    out = tmp_path / "rec"
    assert run_cli("reconstruct", str(bundle), str(scan), "-o", str(out), "--quiet", env=env).returncode == 0
    (out / "reconstruction.json").unlink()
    proc = run_cli("evaluate", str(out / "reconstruction.npz"), env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--truth" in proc.stderr and "--data" in proc.stderr


def test_refinement_options_in_a_config_file_round_trip(tmp_path: Path) -> None:
    config = config_from_mapping({"inference": {"refinement": {"enabled": True, "refine_probe": True,
                                                               "max_iterations": 7}}}, source="x.toml")
    assert config.inference.refinement == RefinementConfig(enabled=True, refine_probe=True, max_iterations=7)
    table = config_to_mapping(config, only_changed=True)
    assert table["inference"]["refinement"]["max_iterations"] == 7
    assert config_from_mapping(table).inference.refinement == config.inference.refinement
    with pytest.raises(ConfigError, match="inference.refinement.max_iteration"):
        config_from_mapping({"inference": {"refinement": {"max_iteration": 7}}}, source="x.toml")
    with pytest.raises(ConfigError, match="holdout_fraction"):
        RefinementConfig(holdout_fraction=0.9)


def test_reconstructing_a_scan_with_another_probe_warns_and_refinement_still_fits() -> None:
    scan = simulate_scan(N=64, n_patterns=49, step_px=5.0, nphotons=1e5, seed=2, probe_kind="zoneplate")
    other = simulate_scan(N=64, n_patterns=49, step_px=5.0, nphotons=1e5, seed=2, probe_kind="disk")
    model = ptychopinn.train(scan, backend="numpy-test", training_config=TrainingConfig(epochs=1, batch_size=8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same = ptychopinn.reconstruct(model, scan, config=InferenceConfig())
    assert not [w for w in caught if issubclass(w.category, ProbeMismatchWarning)]
    assert same.probe_mismatch is not None and same.probe_mismatch < 1e-6
    cfg = InferenceConfig(refinement=RefinementConfig(enabled=True, max_iterations=10))
    with pytest.warns(ProbeMismatchWarning, match="differs from the model's training probe"):
        result = ptychopinn.reconstruct(model, other, config=cfg)
    summary = result.summary()
    assert summary["probe_mismatch"] > 0.1
    assert summary["data_consistency"]["refined"]["poisson_deviance"]["median"] < \
        summary["data_consistency"]["network"]["poisson_deviance"]["median"]


def test_regime_presets_are_offered_by_the_cli_and_perturbations_touch_only_the_stored_metadata() -> None:
    from ptychopinn.cli.simulate import _PRESETS

    assert set(_PRESETS) == set(BENCHMARKS)
    kw = dict(N=32, n_patterns=36, step_px=3.0, seed=4, noise=False)
    clean = simulate_scan(**kw)
    wrong = simulate_scan(**kw, position_error_px=2.0, probe_error=0.2)
    np.testing.assert_array_equal(clean.diffraction, wrong.diffraction)  # the data come from the true setup
    error = wrong.positions - clean.positions
    assert np.abs(error).max() <= 4.0 and np.abs(error).max() > 1.0 and np.allclose(error.mean(axis=0), 0)
    rel = np.linalg.norm(wrong.probe - clean.probe) / np.linalg.norm(clean.probe)
    assert 0.02 < rel < 0.2


def test_train_on_several_scans_uses_every_pattern_and_never_mixes_scans_in_a_group(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ptychopinn.data.combine import combine_scans
    from ptychopinn.grouping import make_grouped_scan

    a = simulate_scan(N=64, n_patterns=36, step_px=5.0, seed=5, probe_kind="zoneplate")
    b = simulate_scan(N=64, n_patterns=25, step_px=5.0, seed=6, probe_kind="zoneplate")
    both = combine_scans([a, b])
    assert both.n_patterns == 61 and both.object is None
    grouped = make_grouped_scan(both, gridsize=2, neighbor_count=4, n_groups=None, seed=0)
    from_a = grouped.indices < a.n_patterns
    assert np.all(from_a.all(axis=1) | (~from_a).all(axis=1))  # no group spans the two scans
    files = [write_scan(tmp_path / "a.npz", a), write_scan(tmp_path / "b.npz", b)]
    proc = run_cli("train", *map(str, files), "--backend", "numpy-test", "--epochs", "1", "--gridsize", "1",
                   "-o", str(tmp_path / "t"), env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "t" / "training_summary.json").read_text())
    assert summary["data"] == [str(f) for f in files]
    ts = summary["training_summary"]
    assert ts["n_train_groups"] + ts["n_validation_groups"] == 61
    other = write_scan(tmp_path / "c.npz", simulate_scan(N=64, n_patterns=25, step_px=5.0, seed=6, probe_kind="disk"))
    proc = run_cli("train", str(files[0]), str(other), "--backend", "numpy-test", "--epochs", "1",
                   "-o", str(tmp_path / "t2"), env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "c.npz" in proc.stderr and "probe" in proc.stderr
    assert not (tmp_path / "t2" / "model.ptychopinn.zip").exists()
