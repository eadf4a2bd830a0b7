"""Command-line misuse: wrong values, wrong paths, unwritable outputs, all refused before any work (issue #14).

Output problems are found before training starts ("training with ..." is never printed) and earlier
outputs, and files given where a directory was expected, stay untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _hostile import assert_refused, cli, previous_outputs, snapshot, write_good_scan
from _plugin_helpers import require_fixture_distributions


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_fixture_distributions()
    root = tmp_path_factory.mktemp("cli")
    scan = write_good_scan(root / "good.npz")
    result = cli("train", scan, "--backend", "numpy-test", "--epochs", "1", "-o", root / "run")
    assert result.code == 0, result.err
    rec = cli("reconstruct", root / "run" / "model.ptychopinn.zip", scan, "-o", root / "rec", "--quiet")
    assert rec.code == 0, rec.err
    return {"scan": scan, "bundle": root / "run" / "model.ptychopinn.zip", "rec": root / "rec" / "reconstruction.npz"}


TRAIN = ("train", "{scan}", "--backend", "numpy-test", "--epochs", "1")

# name -> (arguments, words the error must contain); {scan}, {bundle}, {tmp} are filled in
VALUE_CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "batch_size_zero": ((*TRAIN, "--batch-size", "0"), ("command-line option", "batch_size", ">= 1")),
    "batch_size_negative": ((*TRAIN, "--batch-size", "-5"), ("batch_size", "-5")),
    "batch_size_20_digits": ((*TRAIN, "--batch-size", "9" * 20), ("batch_size", "<= 1048576")),
    "epochs_20_digits": (("train", "{scan}", "--backend", "numpy-test", "--epochs", "9" * 20), ("epochs", "<=")),
    "seed_negative": ((*TRAIN, "--seed", "-1"), ("seed", ">= 0")),
    "seed_huge": ((*TRAIN, "--seed", str(2**64)), ("seed", "<=")),
    "n_groups_zero": ((*TRAIN, "--n-groups", "0"), ("n_groups", ">= 1")),
    "n_groups_huge": ((*TRAIN, "--n-groups", "9" * 30), ("n_groups", "<=")),
    "learning_rate_nan": ((*TRAIN, "--learning-rate", "nan"), ("learning_rate", "finite")),
    "learning_rate_inf": ((*TRAIN, "--learning-rate", "inf"), ("learning_rate", "finite")),
    "learning_rate_zero": ((*TRAIN, "--learning-rate", "0"), ("learning_rate", "> 0")),
    "gridsize_zero": ((*TRAIN, "--gridsize", "0"), ("gridsize", ">= 1")),
    "gridsize_huge": ((*TRAIN, "--gridsize", "1000"), ("gridsize", "<= 16")),
    "reconstruct_batch_size_zero": (("reconstruct", "{bundle}", "{scan}", "-o", "{tmp}/r", "--batch-size", "0"),
                                    ("batch_size", ">= 1")),
    "backend_empty": (("train", "{scan}", "--backend", " "), ("none is selected", "--backend")),
    "backend_with_escape_sequences": (("train", "{scan}", "--backend", "\x1b[2Jevil\x07"), ("Unknown backend",
                                                                                            "\\x1b[2jevil")),
    "backend_misspelt": (("train", "{scan}", "--backend", "numpy-tset"), ("Did you mean 'numpy-test'",)),
    "config_missing": ((*TRAIN, "--config", "{tmp}/nope.toml"), ("nope.toml", "no such configuration file")),
    "config_is_a_directory": ((*TRAIN, "--config", "{tmp}"), ("is a directory",)),
    "data_missing": (("train", "{tmp}/nope.npz", "--backend", "numpy-test"), ("nope.npz", "no such file")),
    "data_is_a_bundle": (("train", "{bundle}", "--backend", "numpy-test", "-o", "{tmp}/r"),
                         ("missing required key", "'diffraction'")),
    "model_and_scan_swapped": (("reconstruct", "{scan}", "{bundle}", "-o", "{tmp}/r"), ("bundle",)),
    "inspect_a_directory": (("inspect", "{tmp}"), ("is a directory",)),
    "evaluate_missing_truth_file": (("evaluate", "{rec}", "--truth", "{tmp}/nope.npz", "-o", "{tmp}/e"),
                                    ("nope.npz", "no such file")),
    "file_name_with_escape_sequences": (("inspect", "{tmp}/\x1b[31mred\x07.npz"), ("\\x1b[31mred", "no such file")),
    "simulate_zero_patterns": (("simulate", "{tmp}/s.npz", "--n-patterns", "0"), ("--n-patterns", "[1, 10000000]")),
    "simulate_huge": (("simulate", "{tmp}/s.npz", "--n-patterns", "999999999999"), ("--n-patterns",)),
    "simulate_nan_step": (("simulate", "{tmp}/s.npz", "--step", "nan"), ("--step", "finite")),
    "simulate_into_a_directory": (("simulate", "{tmp}"), ("is a directory",)),
}


def _fill(args: tuple[str, ...], files: dict[str, Path], tmp: Path) -> list[str]:
    return [a.format(scan=files["scan"], bundle=files["bundle"], rec=files["rec"], tmp=tmp) for a in args]


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_misuse_is_one_paragraph(name: str, files: dict[str, Path], tmp_path: Path) -> None:
    args, needles = VALUE_CASES[name]
    result = cli(*_fill(args, files, tmp_path))
    assert_refused(result, *needles)
    assert "training with" not in result.out


@pytest.mark.parametrize("args", [(), ("frobnicate",), ("train",), ("train", "x.npz", "--epochs", "ten"),
                                  ("train", "x.npz", "--epochs", "9" * 5000), ("reconstruct", "only-one-arg"),
                                  ("train", "x.npz", "--model-type", "quantum"),
                                  ("train", "x.npz", "--seed", "\x1b[2J")])
def test_argument_errors_exit_2_without_traceback(args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == 2 and "Traceback" not in result.err
    assert "usage:" in result.err + result.out
    assert len(result.err) < 2000  # a 5000-digit value is not repeated in full
    assert "\x1b" not in result.err


# Output targets that cannot work: (how to make it, command, words)
def _regular_file(tmp: Path) -> Path:
    path = tmp / "out.txt"
    path.write_text("a file the user cares about\n")
    return path


def _under_a_file(tmp: Path) -> Path:
    return _regular_file(tmp) / "sub"


def _squatted(tmp: Path) -> Path:
    out = tmp / "run"
    (out / "model.ptychopinn.zip").mkdir(parents=True)
    (out / "reconstruction.npz").mkdir(parents=True)
    (out / "metrics.json").mkdir(parents=True)
    return out


OUTPUT_CASES = {
    "regular_file": (_regular_file, "is not a directory"),
    "path_below_a_regular_file": (_under_a_file, "is a file, not a directory"),
    "output_name_taken_by_a_directory": (_squatted, "a directory of that name is in the way"),
    "not_writable_even_for_root": (lambda tmp: Path("/proc/ptychopinn-out"), "cannot write there"),
    "device_file": (lambda tmp: Path("/dev/null"), "is not a directory"),
}


@pytest.mark.parametrize("command", ["train", "reconstruct", "evaluate", "demo"])
@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
def test_unusable_output_is_refused_before_any_work(command: str, case: str, files: dict[str, Path],
                                                    tmp_path: Path) -> None:
    make, words = OUTPUT_CASES[case]
    out = make(tmp_path)
    before = snapshot(tmp_path)
    args = {
        "train": ("train", files["scan"], "--backend", "numpy-test", "--epochs", "1", "-o", out),
        "reconstruct": ("reconstruct", files["bundle"], files["scan"], "-o", out, "--quiet"),
        "evaluate": ("evaluate", files["rec"], "--truth", files["scan"], "-o", out, "--no-figures"),
        "demo": ("demo", "--backend", "numpy-test", "--epochs", "1", "--n-patterns", "16", "-o", out),
    }[command]
    result = cli(*args)
    assert_refused(result, str(out), words)
    assert "training with" not in result.out and "reconstructing" not in result.err
    assert snapshot(tmp_path) == before


def test_config_migrate_output_below_a_file(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("nepochs: 3\n")
    target = _regular_file(tmp_path) / "new.toml"
    assert_refused(cli("config", "migrate", legacy, "-o", target), "out.txt", "not a directory")


def test_simulate_output_below_a_file(tmp_path: Path) -> None:
    target = _regular_file(tmp_path) / "scan.npz"
    assert_refused(cli("simulate", target, "--n-patterns", "9"), "out.txt", "not a directory")


def test_traceback_flag_still_shows_the_traceback(files: dict[str, Path], tmp_path: Path) -> None:
    """Positive control: the traceback is hidden, not lost."""
    from ptychopinn.errors import OutputError

    with pytest.raises(OutputError):
        from ptychopinn.cli.main import main

        main(["--traceback", "train", str(files["scan"]), "--backend", "numpy-test", "-o",
              str(_regular_file(tmp_path))])


def test_outputs_of_an_earlier_run_survive_a_refused_run(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip", "training_summary.json", "loss.png"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert_refused(cli("train", bad, "--backend", "numpy-test", "-o", out), str(bad))
    assert snapshot(out) == before


def _special_file(path: Path, kind: str) -> None:
    import os

    if kind == "fifo":
        os.mkfifo(path)
    else:  # a character device like /dev/null (needs root; never the real /dev/null: replacing it breaks the machine)
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(path, 0o644 | __import__("stat").S_IFCHR, os.makedev(1, 3))


@pytest.mark.parametrize("kind", ["fifo", "char_device"])
@pytest.mark.parametrize("command", ["simulate", "config-migrate", "train", "reconstruct"])
def test_special_output_files_are_never_replaced(command: str, kind: str, files: dict[str, Path],
                                                 tmp_path: Path) -> None:
    """As root, os.replace would turn /dev/null into a regular file: outputs that are not regular files are refused."""
    import stat

    out = tmp_path / "out"
    out.mkdir()
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("nepochs: 3\n")
    target, args = {
        "simulate": (out / "scan.npz", ("simulate", out / "scan.npz", "--n-patterns", "9")),
        "config-migrate": (out / "new.toml", ("config", "migrate", legacy, "-o", out / "new.toml")),
        "train": (out / "model.ptychopinn.zip", ("train", files["scan"], "--backend", "numpy-test", "--epochs", "1",
                                                 "-o", out)),
        "reconstruct": (out / "reconstruction.npz", ("reconstruct", files["bundle"], files["scan"], "-o", out,
                                                     "--quiet")),
    }[command]
    _special_file(target, kind)
    assert_refused(cli(*args), str(target), "not a regular file", "never replaced")
    mode = target.lstat().st_mode
    assert stat.S_ISFIFO(mode) if kind == "fifo" else stat.S_ISCHR(mode)


def test_api_writers_refuse_special_files(tmp_path: Path) -> None:
    import os

    import numpy as np

    from ptychopinn.data.npz import write_npz
    from ptychopinn.errors import OutputError

    fifo = tmp_path / "x.npz"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"):
        write_npz(fifo, {"a": np.zeros(3)})
