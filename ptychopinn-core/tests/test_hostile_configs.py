"""Hostile configuration files: bounded parsing and typed errors that name file, key, expected vs found (issue #14).

Cases run ``config validate``, ``config migrate`` and ``train --config`` (the training must never start).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _hostile import assert_refused, cli, previous_outputs, snapshot, write_good_scan
from _plugin_helpers import require_fixture_distributions

LEVELS = "\n".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10))
ALIAS_BOMB = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + LEVELS + "\n"
ALIAS_BOMB_IN_KNOWN_KEY = "training:\n  epochs: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"  b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n" for i in range(8)
)
"""10**9 values once expanded, in the [training] section (a message showing one would never end)."""

# name -> (file name, content, words the error must contain)
CASES: dict[str, tuple[str, str | bytes, tuple[str, ...]]] = {
    "yaml_alias_bomb": ("bomb.yaml", ALIAS_BOMB, ("alias",)),
    "yaml_alias_bomb_in_a_known_section": ("bomb2.yaml", ALIAS_BOMB_IN_KNOWN_KEY, ("alias",)),
    "yaml_recursive_alias": ("rec.yaml", "model: &a\n  N: *a\n", ("refers to itself",)),
    "yaml_deep_nesting": ("deep.yaml", "x: " + "[" * 5000 + "]" * 5000 + "\n", ("nested",)),
    "toml_deep_nesting": ("deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n", ("nested",)),
    "yaml_5000_digit_integer": ("big.yaml", "training:\n  epochs: " + "9" * 5000 + "\n", ("4300 digits",)),
    "toml_5000_digit_integer": ("big.toml", "[training]\nepochs = " + "9" * 5000 + "\n", ("4300 digits",)),
    "batch_size_2_63": ("bs.toml", "[training]\nbatch_size = 9223372036854775807\n",
                        ("TrainingConfig.batch_size", "<= 1048576", "9223372036854775807")),
    "seed_beyond_32_bits": ("seed.toml", "[training]\nseed = 9223372036854775807\n", ("TrainingConfig.seed", "<=")),
    "n_groups_huge": ("ng.yaml", "training:\n  n_groups: 100000000000000000000\n", ("TrainingConfig.n_groups",)),
    "epochs_huge": ("ep.toml", "[training]\nepochs = 99999999999\n", ("TrainingConfig.epochs", "<= 1000000")),
    "inference_batch_size_huge": ("ib.toml", "[inference]\nbatch_size = 4294967296\n", ("InferenceConfig.batch_size",)),
    "gridsize_huge": ("gs.toml", "[model]\ngridsize = 1000000\n", ("ModelConfig.gridsize", "<= 16")),
    "learning_rate_integer_overflow": ("lr.toml", "[training]\nlearning_rate = " + "9" * 400 + "\n",
                                       ("TrainingConfig.learning_rate", "digits")),
    "learning_rate_nan": ("lrn.toml", "[training]\nlearning_rate = nan\n", ("TrainingConfig.learning_rate", "finite")),
    "learning_rate_1e400": ("lr4.yaml", "training:\n  learning_rate: 1e400\n", ("TrainingConfig.learning_rate",)),
    "negative_batch_size": ("nb.toml", "[training]\nbatch_size = -4\n", ("TrainingConfig.batch_size", ">= 1", "-4")),
    "bool_for_integer": ("bi.toml", "[training]\nepochs = true\n", ("TrainingConfig.epochs", "integer", "True")),
    "string_for_integer": ("si.yaml", "training:\n  epochs: ten\n", ("TrainingConfig.epochs", "'ten'")),
    "list_for_choice": ("lc.yaml", "model:\n  N: [64, 64]\n", ("ModelConfig.N", "[64, 64]")),
    "unknown_key": ("uk.toml", "[training]\nepochz = 3\n", ("'training.epochz'", "Did you mean 'epochs'")),
    "unknown_section": ("us.toml", "[trainer]\nepochs = 3\n", ("'trainer'",)),
    "section_not_a_table": ("st.toml", "training = 3\n", ("[training]", "table")),
    "backend_options_not_a_table": ("bo.yaml", "backend_options: [1, 2]\n", ("backend_options", "table")),
    "top_level_list": ("tl.yaml", "- 1\n- 2\n", ("mapping", "list")),
    "binary_garbage": ("bin.toml", bytes(range(256)) * 4, ("cannot parse",)),
    "not_utf8_yaml": ("nu.yaml", b"training:\n  epochs: \xff\xfe\n", ("cannot parse",)),
    "duplicate_toml_key": ("dup.toml", "[training]\nepochs = 1\nepochs = 2\n", ("cannot parse",)),
    "yaml_python_tag": ("tag.yaml", "training: !!python/object/apply:os.system ['touch /tmp/ptychopinn-pwned']\n",
                        ("cannot parse",)),
    "yaml_duplicate_key": ("dupkey.yaml", "training:\n  epochs: 1\n  epochs: 2\n", ("'epochs' is given twice",)),
    "unsupported_suffix": ("run.json", '{"training": {"epochs": 1}}', ("unsupported", ".json")),
    "larger_than_one_mib": ("huge.toml", "# " + "x" * (1 << 20) + "\n", ("at most 1048576 bytes",)),
    "escape_sequences_in_a_key": ("esc.toml", '[training]\n"\\u001b[2Jevil" = 1\n', ("unknown key", "\\x1b[2Jevil")),
    "escape_sequences_in_backend": ("eb.toml", 'backend = "\\u001b]0;pwned\\u0007x"\n[training]\nepochs = 1\n',
                                    ("Unknown backend", "\\x1b]0;pwned")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_validate_refuses(name: str, tmp_path: Path) -> None:
    file, content, needles = CASES[name]
    path = tmp_path / file
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    start = time.perf_counter()
    result = cli("config", "validate", path)
    if name == "escape_sequences_in_backend":  # a valid file; the backend name is checked when a backend is chosen
        assert result.code == 0 and "\x1b" not in result.out, result.out
        return
    assert_refused(result, str(path), *needles)
    assert time.perf_counter() - start < 10  # bounded: an alias bomb must not hang
    assert not Path("/tmp/ptychopinn-pwned").exists()


MIGRATE = ["yaml_alias_bomb", "yaml_alias_bomb_in_a_known_section", "yaml_recursive_alias", "yaml_deep_nesting",
           "yaml_5000_digit_integer", "yaml_python_tag", "binary_garbage", "larger_than_one_mib"]


@pytest.mark.parametrize("name", MIGRATE)
def test_config_migrate_refuses(name: str, tmp_path: Path) -> None:
    file, content, needles = CASES[name]
    path = tmp_path / file
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "new.toml"
    out.write_text("# earlier\n")
    start = time.perf_counter()
    assert_refused(cli("config", "migrate", path, "-o", out), str(path), *needles)
    assert time.perf_counter() - start < 10
    assert out.read_text() == "# earlier\n"


@pytest.mark.parametrize("content", ["model_type: [1, 2]\n", "amp_activation: {a: 1}\n"])
def test_migrate_with_unhashable_legacy_values(content: str, tmp_path: Path) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_text(content)
    assert_refused(cli("config", "migrate", path), str(path), "ModelConfig")


def test_migrate_report_escapes_keys(tmp_path: Path) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_text('"\\e[2Jkey": 1\nnepochs: 3\n')
    result = cli("config", "migrate", path)
    assert result.code == 0 and "\x1b" not in result.err + result.out and "\\x1b[2Jkey" in result.err, result.err


def test_migrate_into_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "legacy.yaml"
    path.write_text("nepochs: 3\n")
    assert_refused(cli("config", "migrate", path, "-o", tmp_path), str(tmp_path), "is a directory")


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_fixture_distributions()
    return write_good_scan(tmp_path_factory.mktemp("cfg") / "good.npz")


TRAIN = ["yaml_alias_bomb_in_a_known_section", "batch_size_2_63", "seed_beyond_32_bits", "n_groups_huge",
         "epochs_huge", "learning_rate_integer_overflow", "toml_5000_digit_integer", "unknown_key"]


@pytest.mark.parametrize("name", TRAIN)
def test_train_refuses_before_training(name: str, scan: Path, tmp_path: Path) -> None:
    file, content, needles = CASES[name]
    path = tmp_path / file
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "run"
    before = previous_outputs(out, ("model.ptychopinn.zip", "training_summary.json"))
    result = cli("train", scan, "--backend", "numpy-test", "--config", path, "-o", out)
    assert_refused(result, str(path), *needles)
    assert "training with" not in result.out
    assert snapshot(out) == before


def test_unsupported_patch_size_is_blamed_on_the_scan_not_on_a_flag(tmp_path: Path) -> None:
    import numpy as np

    from ptychopinn.data.npz import write_npz

    rng = np.random.default_rng(0)
    path = write_npz(tmp_path / "n48.npz", {"diffraction": rng.random((9, 48, 48)).astype(np.float32),
                                            "xcoords": np.arange(9.0) * 5 + 30, "ycoords": np.arange(9.0) * 3 + 30,
                                            "probeGuess": np.ones((48, 48), np.complex64)})
    line = assert_refused(cli("train", path, "--backend", "numpy-test", "-o", tmp_path / "run"), str(path),
                          "48 x 48", "64, 128, 256", "got 48")
    assert "command-line option" not in line


def test_yaml_merge_keys_still_work(tmp_path: Path) -> None:
    """Positive control for the duplicate-key rule: '<<: *anchor' may be overridden."""
    path = tmp_path / "merge.yaml"
    path.write_text("training: &t\n  epochs: 1\ninference:\n  batch_size: 8\n")
    result = cli("config", "validate", path)
    assert result.code == 0 and "epochs = 1" in result.out, result.err


def test_toml_dates_in_backend_options_are_echoed_as_toml(tmp_path: Path) -> None:
    path = tmp_path / "dates.toml"
    path.write_text("[backend_options]\nwhen = 1979-05-27T07:32:00Z\n")
    result = cli("config", "validate", path)
    assert result.code == 0 and "when = 1979-05-27T07:32:00+00:00" in result.out, result.err


@pytest.mark.parametrize("window", ["65536", "63"])
def test_stitch_window_that_does_not_fit_the_patterns(window: str, scan: Path, tmp_path: Path) -> None:
    trained = tmp_path / "run"
    assert cli("train", scan, "--backend", "numpy-test", "--epochs", "1", "-o", trained).code == 0
    path = tmp_path / "window.toml"
    path.write_text(f'[inference]\nstitch_weight = "window"\nstitch_window_px = {window}\n')
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz",))
    result = cli("reconstruct", trained / "model.ptychopinn.zip", scan, "--config", path, "-o", out, "--quiet")
    assert_refused(result, "stitch_window_px", "N = 64", window)
    assert snapshot(out) == before
