"""Build Ptychodus 1.7 inputs from numpy arrays with Ptychodus's own classes (ptychodus.api only)."""

from __future__ import annotations

import numpy as np
from ptychodus.api.geometry import PixelGeometry
from ptychodus.api.object import Object, ObjectCenter
from ptychodus.api.probe import ProbeSequence
from ptychodus.api.probe_positions import ProbePosition, ProbePositionSequence
from ptychodus.api.product import Product, ProductMetadata
from ptychodus.api.reconstruct import ReconstructInput

PIXEL_M = 10e-9
"""Object and probe pixel size (10 nm)."""

CENTER_M = (3.0e-6, -2.0e-6)
"""World position of the object array centre (deliberately not 0)."""


def metadata(name: str = "test") -> ProductMetadata:
    """Far-field metadata: 12.4 keV (0.1 nm), 10 m detector (Fresnel number ~1e-7 per pixel)."""
    return ProductMetadata(
        name=name,
        comments="",
        detector_distance_m=10.0,
        photon_energy_eV=12400.0,
        probe_photon_count=1e6,
        exposure_time_s=1.0,
        mass_attenuation_m2_per_kg=0.0,
        tomography_angle_deg=0.0,
    )


def make_product(
    obj: np.ndarray,
    probe: np.ndarray,
    x_m: np.ndarray,
    y_m: np.ndarray,
    *,
    indexes: np.ndarray | None = None,
    name: str = "test",
) -> Product:
    """A Product whose object array is ``obj`` (centre at CENTER_M) and probe ``probe`` (modes allowed)."""
    pixel = PixelGeometry(width_m=PIXEL_M, height_m=PIXEL_M)
    idx = np.arange(len(x_m)) if indexes is None else indexes
    positions = ProbePositionSequence(
        [ProbePosition(index=int(i), x_m=float(x), y_m=float(y)) for i, x, y in zip(idx, x_m, y_m)]
    )
    return Product(
        metadata=metadata(name),
        probe_positions=positions,
        probes=ProbeSequence(np.asarray(probe, dtype=np.complex128), None, pixel),
        object_=Object(np.asarray(obj, dtype=np.complex128), pixel, ObjectCenter(*CENTER_M)),
        losses=[],
    )


def metres_for_object_pixels(
    x_px: np.ndarray, y_px: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """World metres of Ptychodus object-pixel coordinates (its (W-1)/2 centred convention)."""
    H, W = shape
    x_m = CENTER_M[0] + (np.asarray(x_px, dtype=float) - (W - 1) / 2) * PIXEL_M
    y_m = CENTER_M[1] + (np.asarray(y_px, dtype=float) - (H - 1) / 2) * PIXEL_M
    return x_m, y_m


def reconstruct_input_from_scan(
    scan, *, initial_object: np.ndarray | None = None, counts: bool = True
) -> ReconstructInput:
    """A ReconstructInput for a core ScanData (positions in the object's pixels, core convention).

    Positions are turned into metres with Ptychodus's object geometry
    (``ObjectGeometry.map_coordinates_object_to_probe``) after the documented -0.5 px shift,
    patterns into counts (amplitude**2).
    """
    from ptychodus.api.object import ObjectPosition

    from ptychopinn.data.ptychodus_import import positions_to_ptychodus_pixels

    truth = scan.object
    obj = np.ones_like(truth) if initial_object is None else initial_object
    x_px, y_px = positions_to_ptychodus_pixels(scan.positions)
    pixel = PixelGeometry(width_m=PIXEL_M, height_m=PIXEL_M)
    geometry = Object(np.asarray(obj, dtype=np.complex128), pixel, ObjectCenter(*CENTER_M)).get_geometry()
    points = []
    for i, (x, y) in enumerate(zip(x_px, y_px)):
        p = geometry.map_coordinates_object_to_probe(ObjectPosition(i, float(x), float(y)))
        points.append(ProbePosition(index=i, x_m=p.x_m, y_m=p.y_m))
    x_m = np.array([p.x_m for p in points])
    y_m = np.array([p.y_m for p in points])
    product = make_product(obj, scan.probe, x_m, y_m)
    patterns = np.asarray(scan.diffraction, dtype=np.float64) ** 2 if counts else np.asarray(scan.diffraction)
    bad = np.zeros(patterns.shape[1:], dtype=bool)
    return ReconstructInput(diffraction_patterns=patterns, bad_pixels=bad, product=product)


def child_that_waits(payload, channel) -> None:
    """A child entry point for runner tests: reports its pid, logs, then waits to be stopped."""
    import logging
    import os
    import time

    logging.getLogger("ptychopinn_ptychodus.test_child").warning("child says %s", payload)
    channel.put(("pid", os.getpid()))
    time.sleep(600)


def write_tiny_scan(path, *, n_patterns: int = 49, seed: int = 0, jitter: bool = True):
    """A small simulated scan file (64 x 64 patterns) in core's format; returns (path, ScanData)."""
    from ptychopinn.data.npz import write_scan
    from ptychopinn.simulate import simulate_scan

    kind = "jittered" if jitter else "raster"
    scan = simulate_scan(N=64, object_kind="lines", probe_kind="disk", scan_kind=kind, n_patterns=n_patterns, seed=seed)
    return write_scan(path, scan), scan


def real_backends() -> list[str]:
    """Installed real PtychoPINN backends (the fixture test backends are not real ones)."""
    from ptychopinn.plugins.registry import installed_backends

    return [name for name in ("pytorch", "tensorflow") if name in installed_backends()]


def ptychodus_settings(path, algorithm: str, **groups: dict) -> None:
    """Write a Ptychodus settings.ini: [Processing] Algorithm plus the given {group: {key: value}}."""
    lines = ["[Processing]", f"Algorithm = {algorithm}", ""]
    for group, values in groups.items():
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines))


def child_logs_as_core(payload, channel) -> None:
    """A child entry point that logs on core's logger names, as the backends and ``ptychopinn`` do."""
    import logging

    logging.getLogger("ptychopinn.api").warning("core says %s", payload)
