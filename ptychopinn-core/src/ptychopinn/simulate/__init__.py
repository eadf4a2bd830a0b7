"""Synthetic scans with ground truth: objects, probes, scan paths, Poisson noise.

``simulate_scan(...)`` returns a :class:`~ptychopinn.data.ScanData` that follows the data
contract; ``benchmark_scan(name)`` gives the named presets the backends are benchmarked on.
"""

from ptychopinn.simulate.objects import make_object
from ptychopinn.simulate.probes import make_probe
from ptychopinn.simulate.scans import make_positions
from ptychopinn.simulate.simulation import BENCHMARKS, benchmark_parameters, benchmark_scan, simulate_scan

__all__ = [
    "BENCHMARKS",
    "benchmark_parameters",
    "benchmark_scan",
    "make_object",
    "make_positions",
    "make_probe",
    "simulate_scan",
]
