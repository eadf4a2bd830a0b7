"""Broken and hostile plugins never take the host down (issue #14).

Uses the real fixture distributions ``ptychopinn-testbackend-broken``, ``-dup`` and ``-hostile``
(installed by ``nox -s core``): plugins that hang, exit or kill the interpreter at import, exit or
raise in hooks, reject their options, or return NaN. Listing imports no plugin; loading one is
bounded; every failure is that plugin's typed error, with exit code 2.
"""

from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path

import pytest
from _hostile import HOSTILE_DISTRIBUTION, assert_refused, cli, previous_outputs, run_cli, snapshot, write_good_scan
from _plugin_helpers import require_fixture_distributions, run_python

from ptychopinn.errors import BackendLoadError

HOSTILE_MODULES = ("hang", "exits", "interrupt", "crash", "nan_infer", "nan_train", "exit_hook", "picky", "slow",
                   "lightning_like")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_fixture_distributions()
    metadata.distribution(HOSTILE_DISTRIBUTION)
    root = tmp_path_factory.mktemp("plugins")
    scan = write_good_scan(root / "good.npz")
    result = cli("train", scan, "--backend", "numpy-test", "--epochs", "1", "-o", root / "run")
    assert result.code == 0, result.err
    return {"scan": scan, "bundle": root / "run" / "model.ptychopinn.zip"}


@pytest.mark.parametrize("args", [("backends",), ("backends", "--json"), ("backends", "--no-load")])
def test_listing_imports_no_plugin_and_never_hangs(args: tuple[str, ...], files: dict[str, Path]) -> None:
    start = time.monotonic()
    result = run_cli(*args, env={"PTYCHOPINN_PLUGIN_TIMEOUT": "600"}, timeout=60)
    assert result.code == 0 and "Traceback" not in result.err, result
    assert time.monotonic() - start < 30
    for name in ("hang-test", "exit-test", "crash-test", "numpy-test"):
        assert name in result.out


def test_list_backends_imports_no_plugin_module(files: dict[str, Path]) -> None:
    code = ("import sys, ptychopinn\n"
            "rows = ptychopinn.list_backends()\n"
            "bad = sorted(m for m in sys.modules if m.startswith('ptychopinn_testbackend'))\n"
            "assert not bad, bad\n"
            "print(len(rows))\n")
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_check_isolates_each_plugin(files: dict[str, Path]) -> None:
    start = time.monotonic()
    result = run_cli("backends", "--check", "--json", env={"PTYCHOPINN_PLUGIN_TIMEOUT": "3"}, timeout=120)
    elapsed = time.monotonic() - start
    assert result.code == 0 and "Traceback" not in result.err, result
    import json

    rows = {r["name"]: r for r in json.loads(result.out)}
    assert rows["numpy-test"]["status"] == "loaded" and rows["numpy-test"]["api"] != "-"
    assert rows["hang-test"]["status"] == "error" and "did not finish importing" in rows["hang-test"]["error"]
    assert rows["exit-test"]["status"] == "error" and "SystemExit" in rows["exit-test"]["error"]
    assert rows["interrupt-test"]["status"] == "error" and "KeyboardInterrupt" in rows["interrupt-test"]["error"]
    assert rows["crash-test"]["status"] == "error" and "ended the checking process" in rows["crash-test"]["error"]
    assert rows["broken-test"]["status"] == "error" and "ptychopinn_missing_native_dependency" in rows["broken-test"][
        "error"]
    assert rows["dup-test"]["status"] == "duplicate"
    assert elapsed < 60  # children run in parallel, each bounded


def test_check_table_survives_the_crashing_plugin(files: dict[str, Path]) -> None:
    result = run_cli("backends", "--check", env={"PTYCHOPINN_PLUGIN_TIMEOUT": "3"}, timeout=120)
    assert result.code == 0, result
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:] if line.strip()}
    assert "loaded" in lines["numpy-test"] and "error" in lines["crash-test"] and "error" in lines["hang-test"]


TRAIN_FAILURES = {
    "hang-test": ("did not finish importing", "PTYCHOPINN_PLUGIN_TIMEOUT"),
    "exit-test": ("failed to import", "SystemExit"),
    "interrupt-test": ("failed to import", "KeyboardInterrupt"),
    "broken-test": ("failed to import", "ptychopinn_missing_native_dependency"),
    "badsig-test": ("hook specification",),
    "future-api-test": ("backend API 3.0",),
    "old-api-test": ("backend API 1.1", "pip install -U ptychopinn-testbackend-broken"),
    "misnamed-test": ("something-else",),
    "incomplete-test": ("infer needs ptychopinn_build_predictor",),
    "dup-test": ("ptychopinn-testbackend-dup", "ptychopinn-testbackend-broken"),
    "nan-train-test": ("ptychopinn_train", "NaN/Inf", "diverged"),
    "exit-hook-test": ("ptychopinn_train", "sys.exit(3)"),
}


@pytest.mark.parametrize("backend", sorted(TRAIN_FAILURES))
def test_train_with_a_failing_plugin(backend: str, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip", "training_summary.json"))
    start = time.monotonic()
    result = run_cli("train", files["scan"], "--backend", backend, "--epochs", "1", "-o", out,
                     env={"PTYCHOPINN_PLUGIN_TIMEOUT": "2"}, timeout=60)
    assert_refused(result, f"'{backend}'" if backend != "dup-test" else "'dup-test'", *TRAIN_FAILURES[backend])
    assert snapshot(out) == before
    assert time.monotonic() - start < 30


@pytest.mark.parametrize(("backend", "words"), [("nan-infer-test", ("predictor", "NaN/Inf")),
                                                ("exit-hook-test", ("ptychopinn_build_predictor", "sys.exit(4)")),
                                                ("exit-test", ("SystemExit",)),
                                                ("hang-test", ("did not finish importing",))])
def test_reconstruct_with_a_failing_plugin(backend: str, words: tuple[str, ...], files: dict[str, Path],
                                           tmp_path: Path) -> None:
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz", "reconstruction.json"))
    result = run_cli("reconstruct", files["bundle"], files["scan"], "--backend", backend, "-o", out, "--quiet",
                     env={"PTYCHOPINN_PLUGIN_TIMEOUT": "2"}, timeout=60)
    assert_refused(result, f"'{backend}'", *words)
    assert snapshot(out) == before


@pytest.mark.parametrize(("option", "ok"), [("quantum", False), ("cuda:7", False), ("cpu", True)])
def test_backend_options_the_backend_rejects(option: str, ok: bool, files: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'[backend_options]\naccelerator = "{option}"\n')
    out = tmp_path / "run"
    result = cli("train", files["scan"], "--backend", "picky-test", "--epochs", "1", "--config", config, "-o", out)
    if ok:  # positive control: the same backend trains with an option it accepts
        assert result.code == 0 and (out / "model.ptychopinn.zip").is_file(), result.err
        return
    assert_refused(result, "'picky-test'", "ptychopinn_train", option, "[backend_options]")
    assert not out.exists()


@pytest.mark.parametrize("backend", ["exit-test", "interrupt-test"])
def test_api_reports_exits_at_import_as_the_plugins_failure(backend: str) -> None:
    """In a process of its own: SystemExit/KeyboardInterrupt from a plugin's import is a BackendLoadError."""
    code = ("import ptychopinn\n"
            "from ptychopinn.errors import BackendLoadError\n"
            f"try:\n    ptychopinn.get_backend({backend!r})\n"
            "except BackendLoadError as exc:\n    print('typed:', type(exc.__cause__).__name__)\n")
    proc = run_python(code)
    assert proc.returncode == 0 and "typed:" in proc.stdout, (proc.stdout, proc.stderr)
    assert BackendLoadError.__mro__[1].__name__ == "BackendError"


def test_disabled_hanging_plugin_is_listed_as_disabled(files: dict[str, Path]) -> None:
    result = run_cli("backends", "--check", env={"PTYCHOPINN_DISABLE_BACKENDS": "hang-test,crash-test",
                                                 "PTYCHOPINN_PLUGIN_TIMEOUT": "3"}, timeout=120)
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:] if line.strip()}
    assert result.code == 0 and "disabled" in lines["hang-test"] and "disabled" in lines["crash-test"], result


def test_the_numpy_backend_still_works_beside_the_hostile_ones(files: dict[str, Path], tmp_path: Path) -> None:
    result = run_cli("reconstruct", files["bundle"], files["scan"], "-o", tmp_path / "rec", "--quiet")
    assert result.code == 0 and (tmp_path / "rec" / "reconstruction.npz").is_file(), result.err


def test_no_plugin_module_is_named_in_the_hostile_fixture_twice() -> None:
    """The fixture's entry points all resolve to distinct modules of the distribution (guards the corpus itself)."""
    eps = [ep for ep in metadata.entry_points(group="ptychopinn.backends")
           if ep.dist is not None and ep.dist.metadata["Name"] == HOSTILE_DISTRIBUTION]
    modules = {ep.value.rsplit(".", 1)[1] for ep in eps}
    assert modules == set(HOSTILE_MODULES) and len(eps) == len(HOSTILE_MODULES)
