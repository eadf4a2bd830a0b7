"""Simulated ptychography scans with ground truth (``ptychopinn simulate``).

Physics (``docs/conventions.md``): the object patch of pattern m is cut at its position
(:func:`ptychopinn.physics.patches.extract_object_patches`), illuminated by the probe and
propagated with :func:`ptychopinn.physics.far_field`. The probe is scaled so that the mean
expected total counts per pattern equal ``nphotons``; the stored probe therefore is in
sqrt(counts) units and ``|far_field(probe * patch)|**2`` is the expected count image.
Counts are drawn from a Poisson distribution and stored as amplitudes sqrt(counts).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ptychopinn.data.scan import ScanData
from ptychopinn.data.summary import probe_diameter
from ptychopinn.physics.patches import extract_object_patches
from ptychopinn.physics.propagation import far_field
from ptychopinn.simulate.objects import ObjectKind, make_object
from ptychopinn.simulate.probes import ProbeKind, make_probe
from ptychopinn.simulate.scans import ScanKind, make_positions

__all__ = ["BENCHMARKS", "benchmark_parameters", "benchmark_scan", "simulate_scan"]

_CHUNK = 256

_BENCHMARK: dict[str, Any] = {
    "N": 64,
    "object_kind": "lines",
    "probe_kind": "disk",
    "scan_kind": "jittered",
    "n_patterns": 1024,
    "step_px": 4.0,
    "nphotons": 1e6,
    "seed": 0,
}

BENCHMARKS: dict[str, dict[str, Any]] = {
    "benchmark": _BENCHMARK,
    "benchmark_zoneplate": {**_BENCHMARK, "probe_kind": "zoneplate"},
    "benchmark_fine": {**_BENCHMARK, "object_kind": "lines_fine"},
    "siemens": {
        "N": 64,
        "object_kind": "siemens",
        "probe_kind": "zoneplate",
        "scan_kind": "spiral",
        "n_patterns": 1024,
        "step_px": 4.0,
        "nphotons": 1e5,
        "seed": 0,
    },
    "low_dose_1e4": {**_BENCHMARK, "nphotons": 1e4},
    "low_dose_1e3": {**_BENCHMARK, "nphotons": 1e3},
    "sparse": {**_BENCHMARK, "n_patterns": 256, "step_px": 8.0},
    "perturbed": {**_BENCHMARK, "probe_kind": "zoneplate", "position_error_px": 2.0, "probe_error": 0.2},
    "small": {
        "N": 64,
        "object_kind": "lines",
        "probe_kind": "disk",
        "scan_kind": "raster",
        "n_patterns": 100,
        "step_px": 6.0,
        "nphotons": 1e6,
        "seed": 0,
    },
}
"""Named presets. ``benchmark``: the backends' quality benchmark (N=64, lines object of the
published SIM-LINES recipe, flat-phase disk probe, 1024 patterns on a jittered raster at 4 px,
1e6 photons per pattern). ``benchmark_zoneplate``: the same with a zone-plate probe (phase
structure, like an experimental probe; lifts the twin-image ambiguity a centrosymmetric real
probe leaves at gridsize 1). ``benchmark_fine``: the same as ``benchmark`` with the
``lines_fine`` object (sharp 1-2 px lines; the object of the first results). Regimes of the
refinement results table: ``low_dose_1e4`` / ``low_dose_1e3`` (``benchmark`` at 1e4 / 1e3 photons
per pattern), ``sparse`` (256 patterns at an 8 px step: low overlap), ``perturbed`` (zone-plate
probe; stored positions off by up to +-2 px and a stored probe with a 20 % amplitude/phase error,
as in a real experiment). ``siemens``: Siemens star,
zone-plate probe, spiral scan, 1e5 photons. ``small``: 100 patterns for quick tests."""


def benchmark_parameters(name: str) -> dict[str, Any]:
    """The keyword arguments of :func:`simulate_scan` for the preset ``name``."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark scan {name!r}; choose one of {', '.join(sorted(BENCHMARKS))}")
    return dict(BENCHMARKS[name])


def benchmark_scan(name: str = "benchmark") -> ScanData:
    """Simulate the preset scan ``name`` (see :data:`BENCHMARKS`); deterministic."""
    return simulate_scan(**benchmark_parameters(name))


def simulate_scan(
    *,
    N: int = 64,
    object_kind: ObjectKind = "lines",
    probe_kind: ProbeKind = "disk",
    scan_kind: ScanKind = "raster",
    n_patterns: int = 100,
    step_px: float | None = None,
    overlap: float | None = None,
    nphotons: float = 1e6,
    seed: int = 0,
    jitter_px: float | None = None,
    amp_min: float = 0.5,
    phase_max: float = 1.0,
    margin_px: int = 4,
    noise: bool = True,
    position_error_px: float = 0.0,
    probe_error: float = 0.0,
) -> ScanData:
    """Simulate a far-field ptychography scan with Poisson noise and ground truth.

    Parameters
    ----------
    N : int
        Pattern side (even).
    object_kind : {"lines", "lines_fine", "grf", "siemens"}
    probe_kind : {"disk", "gaussian", "zoneplate"}
    scan_kind : {"raster", "spiral", "jittered"}
    n_patterns : int
        M.
    step_px : float, optional
        Distance between neighbouring scan points in object pixels.
    overlap : float in [0, 1), optional
        Linear probe overlap; gives ``step_px = (1 - overlap) * probe diameter`` (90 % power
        diameter, :func:`ptychopinn.data.summary.probe_diameter`). Exclusive with
        ``step_px``; default (both None) is overlap 0.75.
    nphotons : float
        Mean expected total counts per pattern.
    seed : int
        Same seed and parameters give identical arrays (and identical files).
    jitter_px : float, optional
        Jitter amplitude of the ``jittered`` scan (default step / 4).
    amp_min, phase_max : float
        Object amplitude range [amp_min, 1] and phase range [-phase_max, phase_max] rad.
    margin_px : int
        Object pixels between the outermost patch and the object edge.
    noise : bool
        Draw Poisson counts (True) or store the expected amplitudes (False).
    position_error_px : float
        Stored positions = true positions + uniform error in [-e, e] px per axis (mean removed):
        a scan whose recorded positions are wrong. The patterns use the true positions.
    probe_error : float
        Stored probe = true probe x (1 + probe_error x smooth complex field of peak modulus 1):
        an amplitude and phase error of that relative size. The patterns use the true probe.

    Returns
    -------
    ScanData
        ``diffraction`` (M, N, N) float32 sqrt(counts); ``positions`` (M, 2) object pixels;
        ``probe`` (N, N) complex64 in sqrt(counts) units; ``object`` (H, W) complex64 ground
        truth; ``scan_index`` = arange(M).
    """
    if N < 2 or N % 2:
        raise ValueError(f"N must be a positive even integer, got {N}")
    if not (nphotons > 0 and math.isfinite(nphotons)):
        raise ValueError(f"nphotons must be finite and > 0, got {nphotons}")
    if step_px is not None and overlap is not None:
        raise ValueError("give step_px or overlap, not both")
    object_rng, scan_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    shape_probe = make_probe(probe_kind, N)
    if step_px is None:
        ov = 0.75 if overlap is None else overlap
        if not 0.0 <= ov < 1.0:
            raise ValueError(f"overlap must be in [0, 1), got {ov}")
        step_px = (1.0 - ov) * probe_diameter(shape_probe)
    rel = make_positions(scan_kind, n_patterns, step_px, rng=scan_rng, jitter_px=jitter_px)
    positions = rel - rel.min(axis=0) + (N / 2 + margin_px)
    if scan_kind == "raster" and float(step_px).is_integer():
        positions = np.round(positions)
    W = int(math.ceil(positions[:, 0].max() + N / 2 + margin_px))
    H = int(math.ceil(positions[:, 1].max() + N / 2 + margin_px))
    obj = make_object(object_kind, (H, W), rng=object_rng, amp_min=amp_min, phase_max=phase_max)
    # Scale the probe so that the mean expected counts per pattern equal nphotons.
    power = 0.0
    for start in range(0, n_patterns, _CHUNK):
        patches = extract_object_patches(obj, positions[start : start + _CHUNK], N)
        power += float(np.sum(np.abs(patches.astype(np.complex128) * shape_probe) ** 2))
    probe = (shape_probe.astype(np.complex128) * math.sqrt(nphotons / (power / n_patterns))).astype(np.complex64)
    diffraction = np.empty((n_patterns, N, N), dtype=np.float32)
    for start in range(0, n_patterns, _CHUNK):
        patches = extract_object_patches(obj, positions[start : start + _CHUNK], N).astype(np.complex128)
        expected = np.abs(far_field(probe.astype(np.complex128) * patches)) ** 2
        counts = noise_rng.poisson(expected).astype(np.float64) if noise else expected
        diffraction[start : start + _CHUNK] = np.sqrt(counts)
    stored_positions, stored_probe = positions, probe
    if position_error_px > 0 or probe_error > 0:
        error_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
        if position_error_px > 0:
            error = error_rng.uniform(-position_error_px, position_error_px, size=positions.shape)
            stored_positions = positions + (error - error.mean(axis=0))
        if probe_error > 0:
            stored_probe = (probe * (1 + probe_error * _smooth_field(N, error_rng))).astype(np.complex64)
    return ScanData(
        diffraction=diffraction,
        positions=stored_positions,
        probe=stored_probe,
        object=obj,
        scan_index=np.arange(n_patterns, dtype=np.int64),
    )


def _smooth_field(N: int, rng: np.random.Generator, *, cutoff: float = 0.08) -> np.ndarray:
    """(N, N) complex128 low-pass random field with peak modulus 1 (frequencies below ``cutoff`` cycles/px)."""
    white = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
    fy, fx = np.meshgrid(np.fft.fftfreq(N), np.fft.fftfreq(N), indexing="ij")
    field = np.fft.ifft2(np.fft.fft2(white) * (np.hypot(fx, fy) < cutoff))
    return np.asarray(field / np.abs(field).max())
