"""The ptychopinn command line, run as a real subprocess (python -m ptychopinn)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from _plugin_helpers import require_fixture_distributions, run_cli

from ptychopinn.data.npz import write_scan
from ptychopinn.testing import synthetic_scan


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    require_fixture_distributions()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PTYCHOPINN_")}
    clean["OMP_NUM_THREADS"] = "1"
    return clean


@pytest.fixture(scope="module")
def scan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan(tmp_path_factory.mktemp("data") / "scan.npz", synthetic_scan(seed=0))


def test_backends_table(env: dict[str, str]) -> None:
    proc = run_cli("backends", "--check", env={**env, "PTYCHOPINN_PLUGIN_TIMEOUT": "3"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:6] == ["NAME", "DISTRIBUTION", "VERSION", "API", "CAPABILITIES", "STATUS"]
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert "ptychopinn-testbackend" in rows["numpy-test"] and "loaded" in rows["numpy-test"]
    assert "2.0" in rows["numpy-test"] and "infer,physics_forward,train" in rows["numpy-test"]
    assert "export,infer" in rows["numpy-test-alt"]
    assert "error" in rows["old-api-test"] and "backend API 1.1" in rows["old-api-test"]
    assert "error" in rows["broken-test"] and "ptychopinn_missing_native_dependency" in rows["broken-test"]
    assert "duplicate" in rows["dup-test"]
    assert "not installed" in rows["pytorch"] and "pip install ptychopinn-torch" in rows["pytorch"]
    data = json.loads(run_cli("backends", "--json", env=env).stdout)  # the default imports no plugin
    assert {r["name"]: r["status"] for r in data}["numpy-test"] == "available"
    assert {r["name"]: r["capabilities"] for r in data}["numpy-test"] == "-"  # unknown until loaded


def test_train_with_a_backend_that_cannot_train_exits_2_naming_the_backends_that_can(env, scan_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli("train", str(scan_file), "--backend", "numpy-test-alt", "-o", str(tmp_path / "out"), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "backend 'numpy-test-alt' cannot train; backends that can: numpy-test" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_export_writes_the_network_with_the_backend_that_can(env, scan_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    trained = run_cli("train", str(scan_file), "--backend", "numpy-test", "--epochs", "1", "-o", str(out), env=env)
    assert trained.returncode == 0, trained.stderr
    bundle = out / "model.ptychopinn.zip"
    default = run_cli("export", str(bundle), "-o", str(tmp_path / "dep" / "model.npz"), env=env)
    assert default.returncode == 2 and "pip install ptychopinn-onnx" in default.stderr  # no project backend exports
    proc = run_cli("export", str(bundle), "-o", str(tmp_path / "dep" / "model.npz"), "--backend", "numpy-test-alt",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    from ptychopinn.bundle import read_bundle

    weights = read_bundle(bundle).weights
    with np.load(tmp_path / "dep" / "model.npz") as npz:
        assert sorted(npz.files) == sorted(name.replace(".", "__") for name in weights)
        np.testing.assert_array_equal(npz["physics__log_scale"], weights["physics.log_scale"])
    refused = run_cli("export", str(bundle), "-o", str(tmp_path / "x.onnx"), "--backend", "numpy-test", env=env)
    assert refused.returncode == 2 and "backend 'numpy-test' cannot export models" in refused.stderr
    assert "backends that can: numpy-test-alt" in refused.stderr and not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize(("backend", "command"), [("pytorch", "pip install ptychopinn-torch"),
                                                  ("tensorflow", "pip install ptychopinn-tf")])
def test_train_with_missing_backend_fails_with_one_paragraph(env, scan_file, tmp_path, backend, command) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli("train", str(scan_file), "--backend", backend, "-o", str(tmp_path / "out"), env=env)
    assert proc.returncode == 2
    assert command in proc.stderr and f"backend '{backend}' selected" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_train_then_reconstruct_record_the_backend(env, scan_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "train"
    proc = run_cli("train", str(scan_file), "--backend", "numpy-test", "--epochs", "2", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["backend"] == "numpy-test" and summary["training_config"]["epochs"] == 2
    bundle = out / "model.ptychopinn.zip"
    from ptychopinn.bundle import read_manifest

    assert read_manifest(bundle)["backend"] == "numpy-test"
    rec = tmp_path / "rec"
    proc = run_cli("reconstruct", str(bundle), str(scan_file), "-o", str(rec), "--batch-size", "5", env=env)
    assert proc.returncode == 0, proc.stderr
    info = json.loads((rec / "reconstruction.json").read_text())
    assert info["backend"] == "numpy-test" and info["model_backend"] == "numpy-test"
    with np.load(rec / "reconstruction.npz", allow_pickle=False) as npz:
        assert str(npz["backend"][0]) == "numpy-test" and npz["object"].dtype == np.complex64
        assert npz["object"].shape == npz["valid"].shape
    proc = run_cli("reconstruct", str(bundle), str(scan_file), "--backend", "numpy-test-alt", "-o",
                   str(tmp_path / "rec2"), env=env)
    assert proc.returncode == 0, proc.stderr
    info = json.loads((tmp_path / "rec2" / "reconstruction.json").read_text())
    assert info["backend"] == "numpy-test-alt" and info["model_backend"] == "numpy-test"


def test_backend_from_config_file_and_environment(env, scan_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "run.toml"
    cfg.write_text('backend = "numpy-test-alt"\n[training]\nepochs = 2\n')
    proc = run_cli("train", str(scan_file), "--config", str(cfg), "-o", str(tmp_path / "a"), env=env)
    assert proc.returncode == 2 and "backend 'numpy-test-alt' cannot train" in proc.stderr  # the config chose it
    proc = run_cli("train", str(scan_file), "--epochs", "2", "-o", str(tmp_path / "b"),
                   env={**env, "PTYCHOPINN_BACKEND": "numpy-test"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "b" / "training_summary.json").read_text())["backend"] == "numpy-test"


def test_bad_inputs_are_one_paragraph_errors(env, scan_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[training]\nnepochs = 3\n")
    proc = run_cli("train", str(scan_file), "--backend", "numpy-test", "--config", str(cfg), env=env)
    assert proc.returncode == 2 and "'training.nepochs'" in proc.stderr and str(cfg) in proc.stderr
    assert "Traceback" not in proc.stderr
    bad_bundle = tmp_path / "bad.ptychopinn.zip"
    bad_bundle.write_bytes(b"PK\x03\x04 truncated")
    proc = run_cli("reconstruct", str(bad_bundle), str(scan_file), env=env)
    assert proc.returncode == 2 and str(bad_bundle) in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("train", str(scan_file), "--backend", "pytoch", env=env)
    assert proc.returncode == 2 and "Did you mean 'pytorch'" in proc.stderr


def test_config_migrate_command(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("model:\n  gridsize: 2\n  object.big: true\nnepochs: 12\nn_images: 256\nprobe.trainable: true\n")
    out = tmp_path / "new.toml"
    proc = run_cli("config", "migrate", str(legacy), "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "dropped" in proc.stderr and "probe.trainable" in proc.stderr and "training.n_groups" in proc.stderr
    proc = run_cli("config", "validate", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "epochs = 12" in proc.stdout and "gridsize = 2" in proc.stdout


def test_demo_runs_end_to_end_with_the_test_backend(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo"
    proc = run_cli("demo", "--backend", "numpy-test", "--epochs", "2", "--n-patterns", "36", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["backend"] == "numpy-test" and summary["n_patterns"] == 36
    assert "amplitude" in summary["metrics"] and "phase" in summary["metrics"]
    from ptychopinn.bundle import read_manifest

    assert read_manifest(out / "model.ptychopinn.zip")["backend"] == "numpy-test"
    for name in ("scan.npz", "reconstruction.npz"):
        assert (out / name).is_file()


def test_demo_without_a_selectable_backend_fails_fast(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli("demo", "-o", str(tmp_path / "d"), env=env)  # several installed, none is tensorflow
    assert proc.returncode == 2 and "--backend" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()
