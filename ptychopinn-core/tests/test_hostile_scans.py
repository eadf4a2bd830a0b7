"""Hostile scan files: every one is refused with a typed, one-paragraph error naming file and key (issue #14).

Each case builds a damaged or crafted NPZ file and runs ``ptychopinn inspect`` (which memory-maps,
the path that used to skip zipfile's CRC and encryption checks); some also run ``train`` with and
without ``--mmap`` and ``reconstruct``, whose earlier outputs must stay intact.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _hostile import (
    assert_refused,
    cli,
    flip_byte,
    good_scan_arrays,
    previous_outputs,
    set_encrypted_flag,
    set_extract_version,
    set_npy_shape,
    snapshot,
    write_arrays,
    write_good_scan,
)
from _plugin_helpers import require_fixture_distributions

D = good_scan_arrays()["diffraction"]


def _crc(path: Path) -> None:
    write_good_scan(path)
    flip_byte(path, "diffraction.npy", 5000)


def _crc_probe(path: Path) -> None:
    write_good_scan(path)
    flip_byte(path, "probeGuess.npy", 300)


def _encrypted(path: Path) -> None:
    write_good_scan(path)
    set_encrypted_flag(path, "diffraction.npy")


def _encrypted_central_only(path: Path) -> None:
    write_good_scan(path)
    set_encrypted_flag(path, "xcoords.npy", local=False)


def _shape_larger(path: Path) -> None:
    write_good_scan(path)
    set_npy_shape(path, "diffraction.npy", "(9, 64, 64)", "(90,64, 64)")


def _shape_smaller(path: Path) -> None:
    write_good_scan(path)
    set_npy_shape(path, "diffraction.npy", "(9, 64, 64)", "(8, 64, 64)")


def _truncated(path: Path) -> None:
    write_good_scan(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _duplicate_member(path: Path) -> None:
    write_good_scan(path)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we write on purpose
        with zf.open(zipfile.ZipInfo("xcoords.npy"), "w") as fh:
            np.lib.format.write_array(fh, np.zeros(9))


def _compressed_bomb(path: Path) -> None:
    np.savez_compressed(path, **{**good_scan_arrays(), "diffraction": np.zeros((2000, 64, 64), np.float32)})


def _escape_key(path: Path) -> None:
    arrays = good_scan_arrays()
    arrays.pop("diffraction")
    np.savez(path, **arrays, **{"\x1b[2J\x1b]0;owned\x07": np.zeros(3)})


def _zip_version(path: Path) -> None:
    write_good_scan(path)
    set_extract_version(path)


def _raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _arrays(**changes: object) -> Callable[[Path], None]:
    return lambda path: write_arrays(path, **changes) and None


def _nan(a: np.ndarray, index: int, value: float) -> np.ndarray:
    a = a.copy()
    a.flat[index] = value
    return a


# name -> (builder, words the error must contain)
CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "crc_mismatch_diffraction": (_crc, ("diffraction.npy", "CRC-32 mismatch")),
    "crc_mismatch_probe": (_crc_probe, ("probeGuess", "CRC")),
    "encrypted_member": (_encrypted, ("diffraction", "encrypted")),
    "encrypted_flag_central_directory_only": (_encrypted_central_only, ("xcoords", "encrypted")),
    "npy_header_declares_more_than_stored": (_shape_larger, ("diffraction", "(90, 64, 64)", "corrupt")),
    "npy_header_declares_less_than_stored": (_shape_smaller, ("diffraction", "(8, 64, 64)")),
    "truncated_archive": (_truncated, ("not an NPZ archive, or a truncated one",)),
    "empty_file": (_raw(b""), ("not an NPZ archive",)),
    "random_bytes": (_raw(os.urandom(4096)), ("not an NPZ archive",)),
    "zip_local_header_only": (_raw(b"PK\x03\x04" + b"\0" * 60), ("not an NPZ archive",)),
    "unsupported_zip_version": (_zip_version, ("NotImplementedError", "zip file version 22.1")),
    "duplicate_member": (_duplicate_member, ("xcoords.npy", "more than once")),
    "escape_sequences_in_key_names": (_escape_key, ("missing required key", "'diffraction'")),
    "all_zero_diffraction": (_arrays(diffraction=np.zeros_like(D)), ("'diffraction'", "zero", "no photons")),
    "nan_diffraction": (_arrays(diffraction=_nan(D, 77, np.nan)), ("'diffraction'", "NaN/Inf")),
    "inf_diffraction": (_arrays(diffraction=_nan(D, 5, np.inf)), ("'diffraction'", "NaN/Inf")),
    "negative_amplitudes": (_arrays(diffraction=_nan(D, 9, -1.0)), ("'diffraction'", ">= 0")),
    "nan_position": (_arrays(xcoords=_nan(good_scan_arrays()["xcoords"], 2, np.nan)), ("'xcoords'", "NaN/Inf")),
    "inf_position": (_arrays(ycoords=_nan(good_scan_arrays()["ycoords"], 0, -np.inf)), ("'ycoords'", "NaN/Inf")),
    "complex_diffraction": (_arrays(diffraction=D.astype(np.complex64)), ("'diffraction'", "complex64")),
    "two_dimensional_diffraction": (_arrays(diffraction=D[0]), ("'diffraction'", "3-D")),
    "odd_pattern_side": (_arrays(diffraction=D[:, :63, :63], probeGuess=np.ones((63, 63), np.complex64)),
                         ("'diffraction'", "even", "N = 63")),
    "positions_patterns_mismatch": (_arrays(diffraction=D[:5]), ("'diffraction'", "M = 9")),
    "probe_wrong_shape": (_arrays(probeGuess=np.ones((32, 32), np.complex64)), ("'probeGuess'", "(64, 64)")),
    "probe_all_zero": (_arrays(probeGuess=np.zeros((64, 64), np.complex64)), ("'probeGuess'", "zero")),
    "probe_power_underflows": (_arrays(probeGuess=np.full((64, 64), 1e-30, np.complex64)),
                               ("'probeGuess'", "underflows")),
    "probe_power_overflows": (_arrays(probeGuess=np.full((64, 64), 1e30, np.complex64)), ("'probeGuess'", "overflows")),
    "amplitudes_whose_counts_overflow": (_arrays(diffraction=np.full_like(D, 3e38)), ("'diffraction'", "overflows")),
    "probe_nan": (_arrays(probeGuess=_nan(np.ones((64, 64), np.complex64), 3, np.nan)), ("'probeGuess'", "NaN")),
    "object_dtype_needs_pickle": (_arrays(xcoords=np.array([1, "a", None] * 3, dtype=object)),
                                  ("'xcoords'", "never unpickles")),
    "object_smaller_than_scan": (_arrays(objectGuess=np.ones((10, 10), np.complex64)), ("'objectGuess'", "smaller")),
    "string_positions": (_arrays(xcoords=np.array(["a"] * 9)), ("'xcoords'", "<U1")),
    "missing_probe": (_arrays(probeGuess=None), ("missing required key", "'probeGuess'")),
    "integer_counts": (_arrays(diffraction=np.ones((9, 64, 64), np.int32)), ("'diffraction'", "integer")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inspect_refuses(name: str, tmp_path: Path) -> None:
    build, needles = CASES[name]
    path = tmp_path / f"{name}.npz"
    build(path)
    assert_refused(cli("inspect", path), str(path), *needles)


def test_compressed_member_is_not_inflated_beyond_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bomb.npz"
    _compressed_bomb(path)
    assert path.stat().st_size < 1 << 20  # 32 MiB of zeros in well under a megabyte
    monkeypatch.setenv("PTYCHOPINN_MAX_ALLOC_BYTES", str(8 << 20))
    assert_refused(cli("inspect", path), str(path), "'diffraction'", "inflates to 31.3 MiB", "8.0 MiB allowed")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "fifo", "directory", "missing"])
def test_special_paths_are_refused_without_hanging(special: str, tmp_path: Path) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "scan.npz"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path
    elif special == "missing":
        path = tmp_path / "nope.npz"
    words = {"/dev/zero": "not a regular file", "/dev/null": "not a regular file", "fifo": "not a regular file",
             "directory": "is a directory", "missing": "no such file"}[special]
    assert_refused(cli("inspect", path), str(path), words)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_fixture_distributions()
    root = tmp_path_factory.mktemp("trained")
    scan = write_good_scan(root / "good.npz")
    result = cli("train", scan, "--backend", "numpy-test", "--epochs", "1", "-o", root / "run")
    assert result.code == 0, result.err
    return root / "run" / "model.ptychopinn.zip"


OUT_NAMES = ("model.ptychopinn.zip", "training_summary.json")


@pytest.mark.parametrize(("name", "mmap"), [("crc_mismatch_diffraction", True), ("crc_mismatch_diffraction", False),
                                            ("encrypted_member", True), ("encrypted_member", False),
                                            ("all_zero_diffraction", True), ("all_zero_diffraction", False)])
def test_train_refuses_and_keeps_earlier_outputs(name: str, mmap: bool, tmp_path: Path, trained: Path) -> None:
    build, needles = CASES[name]
    path = tmp_path / f"{name}.npz"
    build(path)
    out = tmp_path / "run"
    before = previous_outputs(out, OUT_NAMES)
    result = cli("train", path, "--backend", "numpy-test", "--epochs", "1", "-o", out, *(["--mmap"] if mmap else []))
    assert_refused(result, str(path), needles[0])
    assert snapshot(out) == before


@pytest.mark.parametrize("name", ["all_zero_diffraction", "crc_mismatch_diffraction"])
def test_reconstruct_refuses_and_keeps_earlier_outputs(name: str, tmp_path: Path, trained: Path) -> None:
    build, needles = CASES[name]
    path = tmp_path / f"{name}.npz"
    build(path)
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz", "reconstruction.json"))
    assert_refused(cli("reconstruct", trained, path, "-o", out, "--mmap", "--quiet"), str(path), needles[0])
    assert snapshot(out) == before


def test_absurd_position_is_refused_by_the_contract(tmp_path: Path) -> None:
    x = good_scan_arrays()["xcoords"]
    x[4] = 1e300
    path = write_arrays(tmp_path / "absurd.npz", xcoords=x, objectGuess=None)
    assert_refused(cli("inspect", path), str(path), "'xcoords'", "1e+300", "index 4", "object pixels")


@pytest.mark.parametrize("offset", [2e6, 5e8])
def test_far_position_is_refused_up_front_with_the_computed_size(offset: float, tmp_path: Path,
                                                                 trained: Path) -> None:
    x = good_scan_arrays()["xcoords"]
    x[-1] += offset
    path = write_arrays(tmp_path / "far.npz", xcoords=x, objectGuess=None)
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz",))
    line = assert_refused(cli("reconstruct", trained, path, "-o", out, "--quiet"), str(path), "object canvas")
    assert "pixels" in line or "elements" in line  # what was computed
    assert "object pixels" in line  # what to check
    assert snapshot(out) == before


def test_small_scans_with_a_crc_error_in_an_unread_member_still_read(tmp_path: Path) -> None:
    """Members that are not scan keys are never loaded, so damage there is not an error (positive control)."""
    path = write_good_scan(tmp_path / "ok.npz")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("notes.npy", b"not even an array")
    result = cli("inspect", path)
    assert result.code == 0 and "(valid)" in result.out, result.err


@pytest.mark.parametrize("gridsize", ["2"])
def test_far_position_in_a_group_is_refused_before_training(gridsize: str, tmp_path: Path, trained: Path) -> None:
    """gridsize > 1 merges neighbours: one pattern 2e6 px away would ask for a canvas of many TiB per group."""
    x = good_scan_arrays()["xcoords"]
    x[-1] += 2e6
    path = write_arrays(tmp_path / "far.npz", xcoords=x, objectGuess=None)
    out = tmp_path / "run"
    before = previous_outputs(out, OUT_NAMES)
    line = assert_refused(cli("train", path, "--backend", "numpy-test", "--epochs", "1", "--gridsize", gridsize,
                              "-o", out), str(path), "object pixels from its centre", "canvas per group")
    assert "TiB" in line  # what was computed
    assert snapshot(out) == before
