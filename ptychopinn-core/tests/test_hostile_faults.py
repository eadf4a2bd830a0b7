"""Faults: Ctrl-C, SIGTERM, kill -9, an output that disappears or fills up during the run (issue #14).

Real subprocesses and real signals. The slow fixture backends (``slow-test``, ``lightning-like-test``
of ``tests/fixtures/testbackend-hostile``) keep training long enough to be interrupted.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _hostile import HOSTILE_DISTRIBUTION, Outcome, assert_refused, clean_env, previous_outputs, snapshot
from _hostile import write_good_scan as _write_good_scan
from _plugin_helpers import require_fixture_distributions

from ptychopinn.bundle import read_manifest


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_fixture_distributions()
    from importlib import metadata

    metadata.distribution(HOSTILE_DISTRIBUTION)  # raises when the fixture is not installed
    return _write_good_scan(tmp_path_factory.mktemp("faults") / "good.npz")


def _start(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None,
           **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ptychopinn", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env(**(env or {})), cwd=cwd, **kwargs)


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float = 60) -> str:
    """Read stdout until a line contains ``marker`` (the command printed it, then started the work)."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    proc.kill()
    raise AssertionError(f"{marker!r} never printed; stdout: {''.join(seen)!r}; stderr: {proc.stderr.read()!r}")


def _finish(proc: subprocess.Popen[str], earlier: str = "") -> Outcome:
    out, err = proc.communicate(timeout=60)
    return Outcome(proc.returncode, earlier + out, err)


def _leftover_temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob(".*.tmp")) if directory.exists() else []


@pytest.mark.parametrize(("backend", "sig", "code"), [("slow-test", signal.SIGINT, 130),
                                                      ("lightning-like-test", signal.SIGINT, 130),
                                                      ("slow-test", signal.SIGTERM, 143),
                                                      ("lightning-like-test", signal.SIGTERM, 143)])
def test_interrupt_during_training(backend: str, sig: int, code: int, scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip", "training_summary.json"))
    proc = _start("train", scan, "--backend", backend, "--epochs", "1", "-o", out, env={"PTYCHOPINN_TEST_SLOW_S": "60"})
    earlier = _wait_for(proc, "training with")
    time.sleep(0.3)
    proc.send_signal(sig)
    result = _finish(proc, earlier)
    assert result.code == code, result
    assert "ptychopinn: interrupted" in result.err and "Traceback" not in result.err
    assert snapshot(out) == before and not _leftover_temporaries(out)


def test_interrupt_while_a_plugin_import_hangs_is_an_interrupt(scan: Path, tmp_path: Path) -> None:
    proc = _start("train", scan, "--backend", "hang-test", "-o", tmp_path / "run",
                  env={"PTYCHOPINN_PLUGIN_TIMEOUT": "60"})
    time.sleep(2.0)  # well into the hanging import
    proc.send_signal(signal.SIGINT)
    result = _finish(proc)
    assert result.code == 130 and "ptychopinn: interrupted" in result.err and "Traceback" not in result.err, result
    assert not (tmp_path / "run").exists()


def test_interrupt_during_reconstruction_keeps_earlier_outputs(scan: Path, tmp_path: Path) -> None:
    env = {"PTYCHOPINN_TEST_SLOW_S": "0"}
    trained = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "slow-test",
                              "--epochs", "1", "-o", str(tmp_path / "run")], capture_output=True, text=True,
                             env=clean_env(**env), timeout=120)
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz", "reconstruction.json"))
    # 'hang-test' is the backend: its import hangs, so the command is interrupted mid-load of a real bundle.
    proc = _start("reconstruct", tmp_path / "run" / "model.ptychopinn.zip", scan, "--backend", "hang-test",
                  "-o", out, env={"PTYCHOPINN_PLUGIN_TIMEOUT": "60"})
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    result = _finish(proc)
    assert result.code == 130 and "ptychopinn: interrupted" in result.err, result
    assert snapshot(out) == before


def test_kill_9_then_rerun_cleans_stale_temporaries(scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip", "training_summary.json"))
    proc = _start("train", scan, "--backend", "slow-test", "--epochs", "1", "-o", out,
                  env={"PTYCHOPINN_TEST_SLOW_S": "60"})
    _wait_for(proc, "training with")
    proc.kill()
    proc.communicate(timeout=30)
    assert snapshot(out) == before  # the killed run changed nothing
    # What a kill -9 in the middle of atomic_write leaves behind:
    stale = [out / ".model.ptychopinn.zip.k1ll3d.tmp", out / ".training_summary.json.abc123.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    unrelated = out / ".someone-else.tmp"
    unrelated.write_bytes(b"not ours")
    rerun = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "slow-test",
                            "--epochs", "1", "-o", str(out)], capture_output=True, text=True, timeout=120,
                           env=clean_env(PTYCHOPINN_TEST_SLOW_S="0"))
    assert rerun.returncode == 0, rerun.stderr
    assert "removed 2 stale temporary file(s)" in rerun.stderr
    assert not any(p.exists() for p in stale) and unrelated.exists()
    assert read_manifest(out / "model.ptychopinn.zip")["backend"] == "slow-test"


def _replace_output_during_training(scan: Path, tmp_path: Path, *, rescue_env: dict[str, str]) -> tuple[Outcome, Path]:
    out = tmp_path / "run"
    out.mkdir()
    proc = _start("train", scan, "--backend", "slow-test", "--epochs", "1", "-o", out, cwd=tmp_path,
                  env={"PTYCHOPINN_TEST_SLOW_S": "1.5", **rescue_env})
    earlier = _wait_for(proc, "training with")
    out.rmdir()
    out.write_text("the output directory was replaced by a file during training\n")
    return _finish(proc, earlier), out


def test_trained_model_is_rescued_when_the_output_vanishes_during_training(scan: Path, tmp_path: Path) -> None:
    result, out = _replace_output_during_training(scan, tmp_path, rescue_env={})
    line = assert_refused(result, f"could not write {out}/model.ptychopinn.zip", "no longer a directory",
                          "The trained model was saved to",
                          "ptychopinn-rescue-")
    rescued = Path(line.split("was saved to ")[1].split(" instead")[0])
    assert rescued.is_file() and rescued.parent.parent == tmp_path  # ./ptychopinn-rescue-<time>/
    assert read_manifest(rescued)["backend"] == "slow-test"
    assert json.loads((rescued.parent / "training_summary.json").read_text())["bundle"] == str(rescued)
    assert out.read_text().startswith("the output directory was replaced")


def test_rescue_directory_from_the_environment(scan: Path, tmp_path: Path) -> None:
    rescue = tmp_path / "rescue-here"
    result, _ = _replace_output_during_training(scan, tmp_path, rescue_env={"PTYCHOPINN_RESCUE_DIR": str(rescue)})
    assert_refused(result, f"saved to {rescue}/model.ptychopinn.zip")
    assert (rescue / "model.ptychopinn.zip").is_file()


def _limit_file_size() -> None:  # runs in the child: every write beyond 20 kB fails with EFBIG ("disk full")
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_nowhere_to_write_says_so_and_leaves_no_debris(scan: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip",))
    proc = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "numpy-test",
                           "--epochs", "1", "-o", str(out)], capture_output=True, text=True, timeout=120,
                          env=clean_env(PTYCHOPINN_RESCUE_DIR=str(tmp_path / "rescue")), cwd=tmp_path,
                          preexec_fn=_limit_file_size)
    result = Outcome(proc.returncode, proc.stdout, proc.stderr)
    assert_refused(result, "could not write", "File too large", "could not be saved anywhere")
    assert snapshot(out) == before and not _leftover_temporaries(out)
    assert not list(tmp_path.glob("ptychopinn-rescue-*")) and not (tmp_path / "rescue").exists()


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="needs RLIMIT_FSIZE")
def test_disk_full_while_writing_a_reconstruction(scan: Path, tmp_path: Path) -> None:
    trained = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "numpy-test",
                              "--epochs", "1", "-o", str(tmp_path / "run")], capture_output=True, text=True,
                             env=clean_env(), timeout=120)
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz",))
    proc = subprocess.run([sys.executable, "-m", "ptychopinn", "reconstruct", str(tmp_path / "run" /
                           "model.ptychopinn.zip"), str(scan), "-o", str(out), "--quiet"], capture_output=True,
                          text=True, timeout=120, env=clean_env(PTYCHOPINN_RESCUE_DIR=str(tmp_path / "rescue")),
                          cwd=tmp_path, preexec_fn=_limit_file_size)
    assert_refused(Outcome(proc.returncode, proc.stdout, proc.stderr), "reconstruction", "File too large")
    assert snapshot(out) == before and not _leftover_temporaries(out)


def test_memory_limit_refuses_the_canvas_with_the_computed_size(scan: Path, tmp_path: Path) -> None:
    trained = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "numpy-test",
                              "--epochs", "1", "-o", str(tmp_path / "run")], capture_output=True, text=True,
                             env=clean_env(), timeout=120)
    assert trained.returncode == 0, trained.stderr
    # The same patterns, spread 400x wider: a ~3200 x 3200 canvas (hundreds of MB), while the model is ~9 MB.
    from _hostile import good_scan_arrays, write_arrays

    arrays = good_scan_arrays()
    wide = write_arrays(tmp_path / "wide.npz", xcoords=arrays["xcoords"] * 400, ycoords=arrays["ycoords"] * 400,
                        objectGuess=None)
    proc = subprocess.run([sys.executable, "-m", "ptychopinn", "reconstruct", str(tmp_path / "run" /
                           "model.ptychopinn.zip"), str(wide), "-o", str(tmp_path / "rec"), "--quiet"],
                          capture_output=True, text=True, timeout=120,
                          env=clean_env(PTYCHOPINN_MAX_ALLOC_BYTES="50000000"))  # > the model, < the canvas
    assert_refused(Outcome(proc.returncode, proc.stdout, proc.stderr), "object canvas", "x", "elements",
                   "PTYCHOPINN_MAX_ALLOC_BYTES")
    assert not (tmp_path / "rec" / "reconstruction.npz").exists()


def test_sigint_before_any_work_is_still_an_interrupt(tmp_path: Path) -> None:
    """Ctrl-C while the hang-test import blocks `backends --check` children: the parent exits 130 promptly."""
    require_fixture_distributions()
    proc = _start("backends", "--check", env={"PTYCHOPINN_PLUGIN_TIMEOUT": "60"}, start_new_session=True)
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole process group
    start = time.monotonic()
    result = _finish(proc)
    assert result.code == 130 and "ptychopinn: interrupted" in result.err and "Traceback" not in result.err, result
    assert time.monotonic() - start < 20


def _wait_for_stderr(proc: subprocess.Popen[str], marker: str, timeout: float = 60) -> str:
    """Read stderr character by character (progress lines end in '\\r') until ``marker`` appears."""
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and marker not in seen:
        ch = proc.stderr.read(1)
        if not ch:
            break
        seen += ch
    if marker not in seen:
        proc.kill()
        raise AssertionError(f"{marker!r} never printed; stderr: {seen!r}")
    return seen


@pytest.fixture(scope="module")
def slow_bundle(scan: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("slow") / "run"
    trained = subprocess.run([sys.executable, "-m", "ptychopinn", "train", str(scan), "--backend", "slow-test",
                              "--epochs", "1", "-o", str(out)], capture_output=True, text=True,
                             env=clean_env(PTYCHOPINN_TEST_SLOW_S="0"), timeout=120)
    assert trained.returncode == 0, trained.stderr
    return out / "model.ptychopinn.zip"


def _slow_reconstruct(bundle: Path, scan: Path, out: Path, cwd: Path) -> subprocess.Popen[str]:
    proc = _start("reconstruct", bundle, scan, "-o", out, "--batch-size", "1", cwd=cwd,
                  env={"PTYCHOPINN_TEST_SLOW_INFER_S": "0.4"})
    return proc


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_during_inference_keeps_earlier_outputs(sig: int, code: int, scan: Path, slow_bundle: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz", "reconstruction.json", "reconstruction.png"))
    proc = _slow_reconstruct(slow_bundle, scan, out, tmp_path)
    seen = _wait_for_stderr(proc, "reconstructing: 1/9")
    proc.send_signal(sig)
    result = _finish(proc)
    assert result.code == code and "ptychopinn: interrupted" in result.err and "Traceback" not in seen + result.err
    assert snapshot(out) == before and not _leftover_temporaries(out)


def test_reconstruction_is_rescued_when_the_output_vanishes(scan: Path, slow_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    out.mkdir()
    proc = _slow_reconstruct(slow_bundle, scan, out, tmp_path)
    seen = _wait_for_stderr(proc, "reconstructing: 1/9")
    out.rmdir()
    out.write_text("replaced by a file during the reconstruction\n")
    result = _finish(proc)
    line = assert_refused(Outcome(result.code, result.out, seen + result.err), "could not write",
                          "The reconstruction was saved to")
    rescued = Path(line.split("was saved to ")[1].split(" instead")[0])
    import numpy as np

    with np.load(rescued, allow_pickle=False) as npz:
        assert npz["object"].ndim == 2 and np.all(np.isfinite(npz["object"]))
    assert (rescued.parent / "reconstruction.json").is_file()


@pytest.mark.parametrize("command", ["reconstruct", "simulate", "config-migrate"])
def test_next_run_removes_stale_temporaries_of_its_outputs(command: str, scan: Path, slow_bundle: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    names = {"reconstruct": ["reconstruction.npz", "reconstruction.json"], "simulate": ["sim.npz"],
             "config-migrate": ["new.toml"]}[command]
    stale = [out / f".{name}.x1y2z3.tmp" for name in names]
    for path in stale:
        path.write_bytes(b"left by kill -9")
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("nepochs: 3\n")
    args = {"reconstruct": ("reconstruct", slow_bundle, scan, "-o", out, "--quiet"),
            "simulate": ("simulate", out / "sim.npz", "--n-patterns", "9"),
            "config-migrate": ("config", "migrate", legacy, "-o", out / "new.toml")}[command]
    proc = subprocess.run([sys.executable, "-m", "ptychopinn", *map(str, args)], capture_output=True, text=True,
                          env=clean_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"removed {len(stale)} stale temporary file(s)" in proc.stderr
    assert not any(p.exists() for p in stale)
    assert (out / names[0]).is_file()
