"""Bad-input corpus: malformed NPZ files made here, each with its specific, readable error.

Every case must raise ScanDataError whose message names the file and the key (and the
expected/found shape or dtype), whose traceback holds no numpy frame, and which
``ptychopinn inspect`` turns into one line on stderr with exit code 2.
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ptychopinn.data.npz import read_scan
from ptychopinn.errors import ScanDataError

M, N = 6, 16


def good() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "diffraction": np.sqrt(rng.poisson(4.0, (M, N, N))).astype(np.float32),
        "xcoords": np.linspace(20, 30, M),
        "ycoords": np.linspace(22, 25, M),
        "probeGuess": np.ones((N, N), dtype=np.complex64),
    }


def with_(**changes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        arrays = good()
        for k, v in changes.items():
            if v is None:
                arrays.pop(k)
            else:
                arrays[k] = v
        np.savez(path, **arrays)

    return make


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def truncated(path: Path) -> None:
    with_()(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def npy_not_npz(path: Path) -> None:
    with open(path, "wb") as fh:
        np.save(fh, good()["diffraction"])


def pickled_diffraction(path: Path) -> None:
    arrays = good()
    arrays["diffraction"] = np.array([arrays["diffraction"][0]] * M + [None], dtype=object)[:M]
    np.savez(path, **arrays)


def nan_at(a: np.ndarray, value: float) -> np.ndarray:
    a = a.copy()
    a.flat[7] = value
    return a


_d = good()["diffraction"]
CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "missing_diffraction": (with_(diffraction=None), ["missing required key", "'diffraction'"]),
    "missing_xcoords": (with_(xcoords=None), ["missing required key", "'xcoords'"]),
    "missing_probe": (with_(probeGuess=None), ["missing required key", "'probeGuess'"]),
    "xy_length_mismatch": (with_(ycoords=np.arange(M - 1.0)), ["'ycoords'", f"({M},)", f"({M - 1},)"]),
    "patterns_vs_positions": (
        with_(xcoords=np.arange(M + 2.0), ycoords=np.arange(M + 2.0)),
        ["'diffraction'", f"M = {M + 2}", f"({M}, {N}, {N})"],
    ),
    "non_square_patterns": (
        with_(diffraction=_d[:, :, : N // 2]),
        ["'diffraction'", "square", f"({M}, {N}, {N // 2})"],
    ),
    "odd_N": (
        with_(diffraction=_d[:, :15, :15], probeGuess=np.ones((15, 15), np.complex64)),
        ["'diffraction'", "even", "N = 15"],
    ),
    "probe_size_mismatch": (with_(probeGuess=np.ones((8, 8), np.complex64)), ["'probeGuess'", f"({N}, {N})", "(8, 8)"]),
    "probe_not_square": (with_(probeGuess=np.ones((N, 12), np.complex64)), ["'probeGuess'", "square", f"({N}, 12)"]),
    "probe_zero": (with_(probeGuess=np.zeros((N, N), np.complex64)), ["'probeGuess'", "zero"]),
    "probe_nan": (with_(probeGuess=nan_at(np.ones((N, N), np.complex64), np.nan)), ["'probeGuess'", "NaN"]),
    "diffraction_nan": (with_(diffraction=nan_at(_d, np.nan)), ["'diffraction'", "NaN/Inf", "index (0, 0, 7)"]),
    "diffraction_inf": (with_(diffraction=nan_at(_d, np.inf)), ["'diffraction'", "NaN/Inf"]),
    "xcoords_inf": (
        with_(xcoords=nan_at(np.arange(M, dtype=float), np.inf) if M > 7 else np.array([0, 1, np.inf, 3, 4, 5.0])),
        ["'xcoords'", "NaN/Inf"],
    ),
    "negative_amplitudes": (with_(diffraction=-_d - 1), ["'diffraction'", ">= 0"]),
    "uint16_counts": (with_(diffraction=(_d**2).astype(np.uint16)), ["'diffraction'", "uint16", "sqrt"]),
    "complex_diffraction": (with_(diffraction=_d.astype(np.complex64)), ["'diffraction'", "complex64", "real"]),
    "bool_diffraction": (with_(diffraction=_d > 1), ["'diffraction'", "bool"]),
    "string_coords": (with_(xcoords=np.array(["a"] * M)), ["'xcoords'", "<U1"]),
    "coords_2d": (with_(xcoords=np.zeros((M, 2))), ["'xcoords'", f"({M}, 2)"]),
    "empty_scan": (
        with_(diffraction=np.zeros((0, N, N), np.float32), xcoords=np.zeros(0), ycoords=np.zeros(0)),
        ["'xcoords'", "M = 0"],
    ),
    "single_2d_pattern": (with_(diffraction=_d[0]), ["'diffraction'", "3-D", f"({N}, {N})"]),
    "object_too_small": (
        with_(objectGuess=np.ones((30, 30), np.complex64)),
        ["'objectGuess'", "smaller than the scan", "30 x 30"],
    ),
    "object_1d": (with_(objectGuess=np.ones(100, np.complex64)), ["'objectGuess'", "2-D", "(100,)"]),
    "scan_index_length": (with_(scan_index=np.arange(M + 1)), ["'scan_index'", f"({M},)", f"({M + 1},)"]),
    "pickled_object_array": (pickled_diffraction, ["'diffraction'", "unpickling"]),
    "not_a_zip": (raw(b"this is not an npz file at all" * 10), ["not an NPZ archive"]),
    "empty_file": (raw(b""), ["not an NPZ archive"]),
    "npy_instead_of_npz": (npy_not_npz, ["not an NPZ archive"]),
    "truncated_zip": (truncated, ["NPZ"]),
}


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_specific_error(tmp_path, name):
    make, fragments = CASES[name]
    path = tmp_path / f"{name}.npz"
    make(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ScanDataError) as err:
            read_scan(path)
    message = str(err.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    frames = traceback.extract_tb(err.value.__traceback__)
    assert not any("/numpy/" in f.filename for f in frames), "traceback reaches into numpy"
    assert err.value.__cause__ is None


@pytest.mark.parametrize("name", ["missing_xcoords", "uint16_counts", "not_a_zip", "object_too_small"])
def test_inspect_cli_reports_one_line_and_exit_2(tmp_path, name):
    main = pytest.importorskip("ptychopinn.cli.main").main
    make, fragments = CASES[name]
    path = tmp_path / f"{name}.npz"
    make(path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["inspect", str(path)])
    assert code == 2
    text = err.getvalue()
    assert "Traceback" not in text and text.count("\n") == 1
    assert fragments[-1] in text


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ScanDataError, match="no such file"):
        read_scan(tmp_path / "nope.npz")
    with pytest.raises(ScanDataError, match="directory"):
        read_scan(tmp_path)
