"""Open this project's scan NPZ files in Ptychodus (diffraction, positions, probe, object).

A scan file (``docs/data-contract.md``) holds amplitudes sqrt(counts), positions in object
pixels (core convention: patch pixel N/2 sits on the position), ``probeGuess`` and optionally
``objectGuess``; it has no physical units. In Ptychodus it becomes:

- diffraction patterns: **counts** = amplitude**2 (float32), indexes = ``scan_index`` or 0..M-1;
- a product whose object is an all-ones start (never the file's ``objectGuess``, so that a
  reconstruction cannot show ground truth where no patch reached) on the ``objectGuess`` pixel
  grid (pixel (0, 0) = the file's pixel (0, 0)), or, without one, covering every patch from the
  file pixel :attr:`ScanGeometry.object_origin_px`; positions in metres:
  ``x_m = (x_px - 0.5) * pixel_size_m`` where ``x_px - 0.5`` is Ptychodus's (N-1)/2-centred
  pixel, computed once by :func:`ptychopinn.data.ptychodus_import.positions_to_ptychodus_pixels`;
- physical geometry from optional scalar keys ``pixel_size_m``, ``photon_energy_eV``,
  ``detector_distance_m`` or the documented defaults :data:`DEFAULT_PIXEL_SIZE_M`,
  :data:`DEFAULT_PHOTON_ENERGY_EV`, :data:`DEFAULT_DETECTOR_DISTANCE_M`; the detector pixel
  is then lambda z / (N dx), so Ptychodus's own far-field geometry agrees with the object pixel.

Ptychodus's own PtychoPINN training export (``diff3d`` counts) is read as well, through core's
importer. Files are validated by core (:func:`ptychopinn.data.npz.read_scan`): a bad file raises
``ScanDataError`` naming the file, the key, and what was expected and found.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from ptychopinn.data import ScanData
from ptychopinn.errors import ScanDataError

__all__ = [
    "DEFAULT_DETECTOR_DISTANCE_M",
    "DEFAULT_PHOTON_ENERGY_EV",
    "DEFAULT_PIXEL_SIZE_M",
    "ScanGeometry",
    "read_for_ptychodus",
    "read_scan_file",
    "register_file_readers",
    "scan_geometry",
    "scan_to_ptychodus",
]

DEFAULT_PIXEL_SIZE_M: Final = 10e-9
"""Object and probe pixel size used when the file has no ``pixel_size_m`` key (10 nm)."""
DEFAULT_PHOTON_ENERGY_EV: Final = 10_000.0
"""Photon energy used when the file has no ``photon_energy_eV`` key (10 keV)."""
DEFAULT_DETECTOR_DISTANCE_M: Final = 2.0
"""Sample-detector distance used when the file has no ``detector_distance_m`` key (2 m)."""

SIMPLE_NAME: Final = "PtychoPINNScan"
DISPLAY_NAME: Final = "PtychoPINN Scan (*.npz)"

_HC_EV_M: Final = 1.239841984e-6
_GEOMETRY_KEYS: Final = ("pixel_size_m", "photon_energy_eV", "detector_distance_m")


@dataclass(frozen=True)
class ScanGeometry:
    """Physical geometry given to a unit-less scan file."""

    pixel_size_m: float
    photon_energy_eV: float  # noqa: N815  (Ptychodus's spelling)
    detector_distance_m: float
    object_origin_px: tuple[int, int]
    """File pixel (x, y) of the Ptychodus object array's pixel (0, 0)."""
    object_shape: tuple[int, int]
    """(H, W) of the object array."""

    def detector_pixel_m(self, N: int) -> float:
        """Detector pixel for which the far-field object pixel is ``pixel_size_m``."""
        return _HC_EV_M / self.photon_energy_eV * self.detector_distance_m / (N * self.pixel_size_m)


def read_scan_file(path: Path) -> ScanData:
    """A scan file (core's format, or Ptychodus's PtychoPINN export) as a validated ``ScanData``."""
    from ptychopinn_ptychodus.child import load_training_data

    return load_training_data(Path(path))


def _scalar(path: Path, key: str, default: float) -> float:
    """An optional positive scalar key of an NPZ file (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if key not in npz.files:
                return default
            value = npz[key]
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ScanDataError(f"{path}: cannot read key '{key}': {exc}") from None
    if value.shape != () or not np.isrealobj(value) or not math.isfinite(float(value)) or float(value) <= 0:
        raise ScanDataError(f"{path}: key '{key}' must be a positive real scalar, found {value.dtype}{value.shape}")
    return float(value)


def scan_geometry(path: Path, scan: ScanData) -> ScanGeometry:
    """Geometry for ``scan`` read from ``path``: the optional keys, else the documented defaults."""
    values = dict(zip(_GEOMETRY_KEYS, (DEFAULT_PIXEL_SIZE_M, DEFAULT_PHOTON_ENERGY_EV, DEFAULT_DETECTOR_DISTANCE_M)))
    values = {key: _scalar(path, key, default) for key, default in values.items()}
    if scan.object is not None:
        origin = (0, 0)
        shape = (int(scan.object.shape[0]), int(scan.object.shape[1]))
    else:  # every patch (position +- N/2) inside, one spare pixel each side
        half = scan.N / 2
        lo = np.floor(scan.positions.min(axis=0) - half).astype(int) - 1
        hi = np.ceil(scan.positions.max(axis=0) + half).astype(int) + 1
        origin = (int(lo[0]), int(lo[1]))
        shape = (int(hi[1] - lo[1] + 1), int(hi[0] - lo[0] + 1))
    return ScanGeometry(object_origin_px=origin, object_shape=shape, **values)


def scan_to_ptychodus(scan: ScanData, geometry: ScanGeometry, name: str) -> tuple[Any, Any]:
    """(AssembledDiffractionData of counts, Product) for a scan, in Ptychodus 1.7's classes."""
    from ptychodus.api.assemble import AssembledDiffractionData
    from ptychodus.api.geometry import PixelGeometry
    from ptychodus.api.object import Object, ObjectCenter
    from ptychodus.api.probe import ProbeSequence
    from ptychodus.api.probe_positions import ProbePosition, ProbePositionSequence
    from ptychodus.api.product import Product, ProductMetadata

    from ptychopinn.data.ptychodus_import import positions_to_ptychodus_pixels

    dx = geometry.pixel_size_m
    pixel = PixelGeometry(width_m=dx, height_m=dx)
    indexes = np.asarray(scan.scan_index, dtype=np.int64) if scan.scan_index is not None else np.arange(scan.n_patterns)
    x_px, y_px = positions_to_ptychodus_pixels(scan.positions)  # the half pixel, once
    positions = ProbePositionSequence(
        [ProbePosition(index=int(i), x_m=float(x) * dx, y_m=float(y) * dx) for i, x, y in zip(indexes, x_px, y_px)]
    )
    H, W = geometry.object_shape
    x0, y0 = geometry.object_origin_px
    # A blank start (never the file's objectGuess): where no patch reaches, a reconstruction keeps
    # the input object, which must not show the ground truth. Supervised training reads the file.
    array = np.ones((H, W), dtype=np.complex64)
    # Ptychodus: object pixel j sits at centre + (j - (W-1)/2) dx; we want file pixel x0 + j at (x0 + j) dx
    center = ObjectCenter(x_m=(x0 + (W - 1) / 2) * dx, y_m=(y0 + (H - 1) / 2) * dx)
    counts = np.square(np.asarray(scan.diffraction, dtype=np.float32))
    metadata = ProductMetadata(
        name=name,
        comments=f"PtychoPINN scan {scan.source or name}",
        detector_distance_m=geometry.detector_distance_m,
        photon_energy_eV=geometry.photon_energy_eV,
        probe_photon_count=float(counts.sum(axis=(1, 2)).mean()),
        exposure_time_s=1.0,
        mass_attenuation_m2_per_kg=0.0,
        tomography_angle_deg=0.0,
    )
    product = Product(
        metadata=metadata,
        probe_positions=positions,
        probes=ProbeSequence(np.asarray(scan.probe, dtype=np.complex64)[np.newaxis], None, pixel),
        object_=Object(array, pixel, center),
        losses=[],
    )
    detector = PixelGeometry(width_m=geometry.detector_pixel_m(scan.N), height_m=geometry.detector_pixel_m(scan.N))
    diffraction = AssembledDiffractionData(indexes, counts, detector, np.zeros((scan.N, scan.N), dtype=bool))
    return diffraction, product


def read_for_ptychodus(path: Path) -> tuple[Any, Any, ScanData]:
    """(AssembledDiffractionData, Product, ScanData) of a scan file (see the module docstring)."""
    path = Path(path)
    scan = read_scan_file(path)
    diffraction, product = scan_to_ptychodus(scan, scan_geometry(path, scan), path.stem)
    return diffraction, product, scan


def _readers() -> tuple[Any, Any]:
    from ptychodus.api.diffraction import (
        DiffractionDataset,
        DiffractionDatasetLayoutNode,
        DiffractionFileReader,
        DiffractionMetadata,
        SimpleDiffractionArray,
        SimpleDiffractionDataset,
    )
    from ptychodus.api.geometry import ImageExtent
    from ptychodus.api.product import Product, ProductFileReader

    class ScanDiffractionReader(DiffractionFileReader):
        """Diffraction patterns (counts) of a PtychoPINN scan file."""

        def read(self, file_path: Path) -> DiffractionDataset:
            diffraction, product, scan = read_for_ptychodus(Path(file_path))
            patterns = diffraction.get_patterns()
            metadata = DiffractionMetadata(
                num_patterns_per_array=[scan.n_patterns],
                pattern_dtype=patterns.dtype,
                detector_extent=ImageExtent(scan.N, scan.N),
                detector_distance_m=product.metadata.detector_distance_m,
                detector_pixel_geometry=diffraction.get_pixel_geometry(),
                photon_energy_eV=product.metadata.photon_energy_eV,
                file_path=Path(file_path),
            )
            tree = DiffractionDatasetLayoutNode.create_root()
            tree.add_child(Path(file_path).stem, "ndarray", f"{patterns.dtype}{patterns.shape}")
            array = SimpleDiffractionArray(
                label=Path(file_path).stem, indexes=diffraction.get_indexes(), patterns=patterns
            )
            return SimpleDiffractionDataset(metadata, tree, [array])

    class ScanProductReader(ProductFileReader):
        """Positions, probe and object (or a blank object covering the scan) of a PtychoPINN scan file."""

        def read(self, file_path: Path) -> Product:
            return read_for_ptychodus(Path(file_path))[1]

    return ScanDiffractionReader(), ScanProductReader()


def register_file_readers(registry: Any) -> None:
    """Register the readers with a Ptychodus ``PluginRegistry`` (diffraction, product, probe, object, positions)."""
    diffraction_reader, product_reader = _readers()
    registry.diffraction_file_readers.register_plugin(
        diffraction_reader, simple_name=SIMPLE_NAME, display_name=DISPLAY_NAME
    )
    registry.register_product_file_reader_with_adapters(
        product_reader, simple_name=SIMPLE_NAME, display_name=DISPLAY_NAME
    )
