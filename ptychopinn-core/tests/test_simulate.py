"""Simulation: photon counts, determinism, probe units, contract compliance, presets."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.data.npz import read_scan, write_scan
from ptychopinn.data.summary import linear_overlap, nearest_neighbour_step, probe_diameter
from ptychopinn.physics import far_field
from ptychopinn.physics.patches import extract_object_patches
from ptychopinn.simulate import BENCHMARKS, benchmark_parameters, benchmark_scan, make_object, make_probe, simulate_scan


@pytest.mark.parametrize(
    ("nphotons", "object_kind", "probe_kind", "scan_kind"),
    [
        (1e4, "lines", "disk", "raster"),
        (1e6, "grf", "zoneplate", "spiral"),
        (3e2, "siemens", "gaussian", "jittered"),
    ],
)
def test_mean_counts_within_one_percent(nphotons, object_kind, probe_kind, scan_kind):
    scan = simulate_scan(
        N=32, n_patterns=36, nphotons=nphotons, object_kind=object_kind, probe_kind=probe_kind, scan_kind=scan_kind
    )
    counts = np.sum(scan.diffraction.astype(np.float64) ** 2, axis=(1, 2))
    assert abs(counts.mean() / nphotons - 1) < 0.01
    k = scan.diffraction.astype(np.float64) ** 2
    np.testing.assert_allclose(k, np.round(k), atol=1e-3 * max(1.0, float(k.max())) ** 0.5)  # sqrt of integer counts


def test_same_seed_identical_file_other_seed_differs(tmp_path):
    kw = {"N": 32, "n_patterns": 25, "scan_kind": "jittered", "nphotons": 1e5}
    a = write_scan(tmp_path / "a.npz", simulate_scan(seed=3, **kw))
    b = write_scan(tmp_path / "b.npz", simulate_scan(seed=3, **kw))
    c = write_scan(tmp_path / "c.npz", simulate_scan(seed=4, **kw))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_stored_probe_is_in_sqrt_counts_units():
    scan = simulate_scan(N=32, n_patterns=16, noise=False, nphotons=5e4)
    patches = extract_object_patches(scan.object, scan.positions, scan.N)
    predicted = np.abs(far_field(scan.probe.astype(np.complex128) * patches))
    np.testing.assert_allclose(predicted, scan.diffraction, rtol=1e-4, atol=1e-3)
    assert np.mean(np.sum(predicted**2, axis=(1, 2))) == pytest.approx(5e4, rel=1e-6)


def test_simulated_file_follows_the_contract(tmp_path):
    scan = simulate_scan(N=32, n_patterns=20, scan_kind="spiral", step_px=3.5)
    back = read_scan(write_scan(tmp_path / "s.npz", scan))
    np.testing.assert_array_equal(back.diffraction, scan.diffraction)
    assert back.object is not None and back.object.dtype == np.complex64
    assert nearest_neighbour_step(scan.positions) == pytest.approx(3.5, rel=0.25)


def test_overlap_sets_the_step():
    scan = simulate_scan(N=64, n_patterns=25, overlap=0.6, scan_kind="raster")
    step = nearest_neighbour_step(scan.positions)
    assert linear_overlap(step, probe_diameter(scan.probe)) == pytest.approx(0.6, abs=0.03)
    with pytest.raises(ValueError, match="not both"):
        simulate_scan(step_px=2.0, overlap=0.5)


@pytest.mark.parametrize("kind", ["lines", "grf", "siemens"])
def test_objects_ranges(kind):
    obj = make_object(kind, (64, 80), rng=np.random.default_rng(0), amp_min=0.4, phase_max=0.8)
    assert obj.shape == (64, 80) and obj.dtype == np.complex64
    amp, ph = np.abs(obj), np.angle(obj)
    assert amp.min() >= 0.4 - 1e-6 and amp.max() <= 1 + 1e-6 and amp.std() > 0.02
    assert np.abs(ph).max() <= 0.8 + 1e-6


@pytest.mark.parametrize("kind", ["disk", "gaussian", "zoneplate"])
def test_probes_fit_in_the_patch(kind):
    N = 64
    p = make_probe(kind, N)
    intensity = np.abs(p) ** 2
    yy, xx = np.indices((N, N))
    outside = intensity[np.hypot(yy - N // 2, xx - N // 2) > 0.45 * N].sum() / intensity.sum()
    assert outside < 0.05
    assert np.abs(p).max() == pytest.approx(1.0)
    if kind == "zoneplate":
        assert np.ptp(np.angle(p[np.abs(p) > 0.3])) > 1.0  # curved phase of a defocused beam


def test_benchmark_presets():
    assert BENCHMARKS["benchmark"]["n_patterns"] >= 1000 and BENCHMARKS["benchmark"]["N"] == 64
    assert 1e4 <= BENCHMARKS["benchmark"]["nphotons"] <= 1e6
    assert BENCHMARKS["small"]["n_patterns"] == 100
    small = benchmark_scan("small")
    assert small.n_patterns == 100 and small.N == 64 and small.object is not None
    with pytest.raises(ValueError, match="unknown benchmark"):
        benchmark_parameters("nope")
