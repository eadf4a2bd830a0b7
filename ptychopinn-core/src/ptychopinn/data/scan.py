"""``ScanData``: one validated ptychography scan in core's conventions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ptychopinn.errors import ScanDataError

__all__ = ["ScanData"]


@dataclass(frozen=True, eq=False)
class ScanData:
    """A ptychography scan (``docs/data-contract.md``).

    Attributes
    ----------
    diffraction : (M, N, N) float32
        Diffraction amplitudes, sqrt(photon counts), zero frequency at pixel (N/2, N/2).
        May be a read-only memory map.
    positions : (M, 2) float64, object pixels (x, y)
        Scan position of each pattern: x = column, y = row of the object; the patch's pixel
        (N/2, N/2) sits on object pixel (y, x).
    probe : (N, N) complex64
        Probe on the object pixel grid.
    object : (H, W) complex64 or None
        Ground-truth (simulation) or reference object on the same pixel grid.
    scan_index : (M,) int64 or None
        Index of each pattern in the original acquisition.
    source : str or None
        Where the scan came from (file path), used in error messages.
    """

    diffraction: np.ndarray
    positions: np.ndarray
    probe: np.ndarray
    object: np.ndarray | None = None
    scan_index: np.ndarray | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        where = f"{self.source}: " if self.source else ""
        d, pos, probe = self.diffraction, self.positions, self.probe
        if not isinstance(d, np.ndarray) or d.ndim != 3 or d.shape[1] != d.shape[2]:
            shape = getattr(d, "shape", None)
            raise ScanDataError(f"{where}'diffraction' must be an (M, N, N) array of amplitudes, got shape {shape}")
        M, N = d.shape[0], d.shape[1]
        if not isinstance(pos, np.ndarray) or pos.shape != (M, 2):
            raise ScanDataError(
                f"{where}'positions' must be ({M}, 2) = (x, y) per pattern, got shape {getattr(pos, 'shape', None)}"
            )
        if not isinstance(probe, np.ndarray) or probe.shape != (N, N):
            raise ScanDataError(
                f"{where}'probeGuess' must be ({N}, {N}) to match the diffraction patterns, "
                f"got shape {getattr(probe, 'shape', None)}"
            )
        if self.object is not None and (not isinstance(self.object, np.ndarray) or self.object.ndim != 2):
            shape = getattr(self.object, "shape", None)
            raise ScanDataError(f"{where}'objectGuess' must be an (H, W) array, got {shape}")
        if self.scan_index is not None and (
            not isinstance(self.scan_index, np.ndarray) or self.scan_index.shape != (M,)
        ):
            raise ScanDataError(
                f"{where}'scan_index' must have shape ({M},), got {getattr(self.scan_index, 'shape', None)}"
            )

    @property
    def n_patterns(self) -> int:
        """M, the number of diffraction patterns."""
        return int(self.diffraction.shape[0])

    @property
    def N(self) -> int:
        """Pattern side in pixels."""
        return int(self.diffraction.shape[1])

    @property
    def xcoords(self) -> np.ndarray:
        """(M,) float64 column positions in object pixels."""
        return self.positions[:, 0]

    @property
    def ycoords(self) -> np.ndarray:
        """(M,) float64 row positions in object pixels."""
        return self.positions[:, 1]

    def subset(self, indices: np.ndarray) -> ScanData:
        """A new scan holding only ``indices`` (M',) of the patterns (copies them)."""
        idx = np.asarray(indices)
        return ScanData(
            diffraction=np.asarray(self.diffraction[idx]),
            positions=self.positions[idx],
            probe=self.probe,
            object=self.object,
            scan_index=None if self.scan_index is None else self.scan_index[idx],
            source=self.source,
        )
