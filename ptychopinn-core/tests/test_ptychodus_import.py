"""ptychopinn.data.ptychodus_import without Ptychodus installed (the adapter's tests use Ptychodus's own writer).

The file below is laid out key for key like ``ptychodus.api.io.save_ptychopinn_training_data`` (1.7.0):
counts under ``diff3d``, (N-1)/2 positions, a (modes, N, N) probe stack, bad pixels, zero scan_index.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.data.ptychodus_import import (
    PTYCHODUS_PIXEL_OFFSET,
    inpaint_bad_pixels,
    is_ptychodus_training_data,
    positions_from_ptychodus_pixels,
    positions_to_ptychodus_pixels,
    read_ptychodus_training_data,
    select_probe_mode,
)
from ptychopinn.errors import ScanDataError
from ptychopinn.physics import far_field
from ptychopinn.physics.patches import extract_object_patches

N = 32


def _ptychodus_like_file(path, *, counts, x_px, y_px, probe_modes, obj, bad):
    np.savez(
        path,
        xcoords=x_px,
        ycoords=y_px,
        xcoords_start=x_px,
        ycoords_start=y_px,
        diff3d=counts,
        bad_pixels=bad,
        probeGuess=probe_modes,
        objectGuess=obj,
        scan_index=np.zeros(len(x_px), dtype=int),
    )
    return path


def _ptychodus_patch(obj, x_px, y_px):
    """Ptychodus 1.7's placement (ProbeGeometry.resolve_patch_bounds) for integral bounds."""
    x0, y0 = x_px - (N - 1) / 2, y_px - (N - 1) / 2
    assert float(x0).is_integer() and float(y0).is_integer()
    return obj[int(y0) : int(y0) + N, int(x0) : int(x0) + N]


def test_counts_positions_modes(tmp_path):
    rng = np.random.default_rng(0)
    obj = np.exp(1j * rng.uniform(-1, 1, (80, 90))).astype(np.complex64)
    probe = np.exp(-((np.arange(N) - N / 2) ** 2)[None, :] / 40 - ((np.arange(N) - N / 2) ** 2)[:, None] / 40)
    probe = probe.astype(np.complex64)
    modes = np.stack([0.3 * probe, probe])
    x_px = np.array([20.5, 33.5, 47.5])
    y_px = np.array([25.5, 30.5, 40.5])
    counts = np.stack([np.abs(far_field(probe * _ptychodus_patch(obj, x, y))) ** 2 for x, y in zip(x_px, y_px)]).astype(
        np.float64
    )
    bad = np.zeros((N, N), bool)
    path = _ptychodus_like_file(
        tmp_path / "p.npz", counts=counts, x_px=x_px, y_px=y_px, probe_modes=modes, obj=obj, bad=bad
    )
    assert is_ptychodus_training_data(path)
    scan = read_ptychodus_training_data(path)
    np.testing.assert_allclose(scan.diffraction.astype(np.float64) ** 2, counts, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(scan.positions[:, 0], x_px + 0.5)
    np.testing.assert_array_equal(scan.probe, probe)  # dominant mode
    assert scan.scan_index is None
    # core's forward model at the converted positions reproduces the counts; +-0.5 px does not
    good = np.abs(far_field(scan.probe * extract_object_patches(obj, scan.positions, N))) ** 2
    assert np.linalg.norm(good - counts) / np.linalg.norm(counts) < 1e-4
    for dx in (0.5, -0.5):
        bad_pos = scan.positions + np.array([dx, 0.0])
        wrong = np.abs(far_field(scan.probe * extract_object_patches(obj, bad_pos, N))) ** 2
        assert np.linalg.norm(wrong - counts) / np.linalg.norm(counts) > 1e-2


def test_round_trip_of_position_helpers():
    pos = np.array([[10.0, 20.25], [3.5, 4.0]])
    x_px, y_px = positions_to_ptychodus_pixels(pos)
    np.testing.assert_allclose(positions_from_ptychodus_pixels(x_px, y_px), pos)
    assert PTYCHODUS_PIXEL_OFFSET == 0.5


def test_inpaint_fills_bad_pixels_from_neighbours():
    frames = np.full((2, 8, 8), 4.0, np.float32)
    bad = np.zeros((8, 8), bool)
    bad[3:5, 3:5] = True
    frames[:, bad] = 1e6
    out = inpaint_bad_pixels(frames, bad)
    np.testing.assert_allclose(out, 4.0)
    with pytest.raises(ScanDataError, match="every detector pixel"):
        inpaint_bad_pixels(frames, np.ones((8, 8), bool))


def test_probe_mode_errors():
    with pytest.raises(ScanDataError, match="zero"):
        select_probe_mode(np.zeros((2, N, N), complex))
    with pytest.raises(ScanDataError, match="square"):
        select_probe_mode(np.ones((2, N, N + 1), complex))
    assert select_probe_mode(np.ones((N, N), complex)).note is None


def test_negative_counts_are_clipped_and_nan_rejected(tmp_path):
    counts = np.ones((2, N, N))
    counts[0, 0, 0] = -3.0
    base = dict(
        x_px=np.zeros(2),
        y_px=np.zeros(2),
        probe_modes=np.ones((N, N), complex),
        obj=np.ones((4, 4), complex),
        bad=np.zeros((N, N), bool),
    )
    scan = read_ptychodus_training_data(_ptychodus_like_file(tmp_path / "a.npz", counts=counts, **base))
    assert scan.diffraction[0, 0, 0] == 0.0
    counts[1, 1, 1] = np.nan
    with pytest.raises(ScanDataError, match="NaN"):
        read_ptychodus_training_data(_ptychodus_like_file(tmp_path / "b.npz", counts=counts, **base))


def test_read_scan_refuses_a_ptychodus_export_and_names_the_import_path(tmp_path):
    """Reading Ptychodus's export as a contract file would square counts and shift positions."""
    import numpy as np
    import pytest

    from ptychopinn.data.npz import read_scan
    from ptychopinn.errors import ScanDataError

    path = tmp_path / "export.npz"
    np.savez(
        path,
        diff3d=np.ones((4, 8, 8), dtype=np.float32),
        xcoords=np.arange(4.0),
        ycoords=np.arange(4.0),
        probeGuess=np.ones((1, 8, 8), dtype=np.complex64),
        bad_pixels=np.zeros((8, 8), dtype=bool),
    )
    with pytest.raises(ScanDataError, match="read_ptychodus_training_data") as info:
        read_scan(path)
    assert str(path) in str(info.value)
