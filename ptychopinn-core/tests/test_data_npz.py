"""NPZ reader/writer: round trip, determinism, memory mapping, legacy layouts, integer-counts policy."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from ptychopinn.data.npz import read_npz_arrays, read_scan, write_npz, write_scan
from ptychopinn.data.scan import ScanData
from ptychopinn.data.summary import counts_per_pattern, linear_overlap, probe_diameter, summarise_scan
from ptychopinn.data.validate import ScanDataWarning, validate_scan_arrays
from ptychopinn.errors import ScanDataError


def _arrays(M: int = 6, N: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "diffraction": np.sqrt(rng.poisson(4.0, (M, N, N))).astype(np.float32),
        "xcoords": np.linspace(20, 30, M),
        "ycoords": np.linspace(22, 25, M),
        "probeGuess": (rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N))).astype(np.complex64),
        "objectGuess": np.ones((60, 60), dtype=np.complex64),
        "scan_index": np.arange(M),
    }


def test_round_trip_and_deterministic_bytes(tmp_path):
    scan = validate_scan_arrays(_arrays())
    a = write_scan(tmp_path / "a.npz", scan)
    b = write_scan(tmp_path / "b.npz", scan)
    assert a.read_bytes() == b.read_bytes()
    back = read_scan(a)
    np.testing.assert_array_equal(back.diffraction, scan.diffraction)
    np.testing.assert_array_equal(back.positions, scan.positions)
    np.testing.assert_array_equal(back.probe, scan.probe)
    np.testing.assert_array_equal(back.object, scan.object)
    np.testing.assert_array_equal(back.scan_index, scan.scan_index)
    assert back.diffraction.dtype == np.float32 and back.probe.dtype == np.complex64
    assert back.source == str(a)


def test_mmap_returns_read_only_memory_map(tmp_path):
    path = write_scan(tmp_path / "s.npz", validate_scan_arrays(_arrays()))
    scan = read_scan(path, mmap=True)
    assert isinstance(scan.diffraction, np.memmap)
    assert not scan.diffraction.flags.writeable
    np.testing.assert_array_equal(scan.diffraction, read_scan(path).diffraction)


def test_mmap_of_compressed_file_falls_back_to_memory(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, **_arrays())
    scan = read_scan(path, mmap=True)
    assert not isinstance(scan.diffraction, np.memmap)
    assert scan.n_patterns == 6


def test_legacy_diff3d_key(tmp_path):
    arr = _arrays()
    arr["diff3d"] = arr.pop("diffraction")
    path = tmp_path / "legacy.npz"
    np.savez(path, **arr)
    assert read_scan(path).n_patterns == 6


def test_legacy_NNM_layout_is_transposed_with_warning(tmp_path):
    arr = _arrays(M=5, N=16)
    d = arr["diffraction"]
    arr["diffraction"] = np.transpose(d, (1, 2, 0))
    path = tmp_path / "nnm.npz"
    np.savez(path, **arr)
    with pytest.warns(ScanDataWarning, match="legacy"):
        scan = read_scan(path)
    np.testing.assert_array_equal(scan.diffraction, d)


def test_trailing_singleton_axis_is_squeezed(tmp_path):
    arr = _arrays()
    arr["diffraction"] = arr["diffraction"][..., None]
    path = tmp_path / "s4.npz"
    np.savez(path, **arr)
    with pytest.warns(ScanDataWarning, match="singleton"):
        assert read_scan(path).diffraction.shape == (6, 16, 16)


def test_integer_counts_rejected_with_hint_or_converted_without_wraparound(tmp_path):
    arr = _arrays()
    counts = np.full((6, 16, 16), 65535, dtype=np.uint16)
    counts[0, 0, 0] = 300
    arr["diffraction"] = counts
    path = tmp_path / "counts.npz"
    np.savez(path, **arr)
    with pytest.raises(ScanDataError, match="integer_counts='sqrt'") as err:
        read_scan(path)
    assert "uint16" in str(err.value) and "'diffraction'" in str(err.value)
    scan = read_scan(path, integer_counts="sqrt")
    assert scan.diffraction[0, 0, 0] == pytest.approx(np.sqrt(300.0))
    assert scan.diffraction[0, 1, 1] == pytest.approx(np.sqrt(65535.0))  # no uint16 wrap-around
    np.testing.assert_allclose(counts_per_pattern(scan.diffraction), counts.astype(float).sum(axis=(1, 2)), rtol=1e-5)


def test_whole_number_float_amplitudes_warn(tmp_path):
    arr = _arrays()
    arr["diffraction"] = np.full((6, 16, 16), 12.0, dtype=np.float32)
    with pytest.warns(ScanDataWarning, match="whole number"):
        validate_scan_arrays(arr)


def test_extra_keys_are_ignored_and_never_unpickled(tmp_path):
    arr = _arrays()
    path = tmp_path / "meta.npz"
    np.savez(path, **arr, _metadata=np.array({"a": 1}, dtype=object))
    assert read_scan(path).n_patterns == 6  # the pickled key is never loaded
    with pytest.raises(ScanDataError, match="unpickling"):
        read_npz_arrays(path)


def test_write_is_atomic_and_refuses_object_arrays(tmp_path):
    path = tmp_path / "out.npz"
    with pytest.raises(ScanDataError, match="object arrays"):
        write_npz(path, {"x": np.array([{"a": 1}], dtype=object)})
    assert not path.exists()
    assert os.listdir(tmp_path) == []
    scan = validate_scan_arrays(_arrays())
    with pytest.raises(ScanDataError, match="collides"):
        write_scan(path, scan, extra={"xcoords": np.zeros(3)})
    assert os.listdir(tmp_path) == []


def test_write_scan_extra_round_trip(tmp_path):
    scan = validate_scan_arrays(_arrays())
    path = write_scan(tmp_path / "e.npz", scan, extra={"simulation": np.asarray('{"seed": 1}')})
    assert str(read_npz_arrays(path, ("simulation",))["simulation"]) == '{"seed": 1}'


def test_summary_numbers():
    arr = _arrays(M=9, N=32)
    g = np.arange(3) * 5.0 + 30
    X, Y = np.meshgrid(g, g)
    arr["xcoords"], arr["ycoords"] = X.ravel(), Y.ravel()
    yy, xx = np.indices((32, 32))
    arr["probeGuess"] = ((np.hypot(yy - 16, xx - 16) <= 8) * 2.0).astype(np.complex64)
    arr["objectGuess"] = np.ones((80, 80), dtype=np.complex64)
    arr["diffraction"] = np.ones((9, 32, 32), dtype=np.float32) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scan = validate_scan_arrays(arr)
    s = summarise_scan(scan)
    assert s["patterns"] == 9 and s["N"] == 32
    assert s["counts_per_pattern"]["mean"] == pytest.approx(32 * 32 * 0.25)
    assert s["step_px"] == pytest.approx(5.0)
    assert 14 < s["probe_diameter_px"] <= 16.5
    assert s["linear_overlap"] == pytest.approx(linear_overlap(5.0, probe_diameter(scan.probe)))
    assert s["probe_power"] == pytest.approx(4.0 * np.sum(np.hypot(yy - 16, xx - 16) <= 8))
    assert s["scan_extent_px"] == {"x_min": 30.0, "x_max": 40.0, "y_min": 30.0, "y_max": 40.0}


def test_scandata_passthrough_type():
    scan = validate_scan_arrays(_arrays())
    assert isinstance(scan, ScanData) and scan.positions.shape == (6, 2)
