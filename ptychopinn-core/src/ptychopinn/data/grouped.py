"""``GroupedScan``: a scan plus its groups of neighbouring patterns, as backends receive it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroupedScan"]


@dataclass(frozen=True, eq=False)
class GroupedScan:
    """Groups of C = gridsize**2 neighbouring patterns over a scan.

    The diffraction stack is held once (possibly memory-mapped); groups refer to it by
    index, so memory grows with the batch a backend materialises, not with C.

    Attributes
    ----------
    diffraction : (M, N, N) float32
        Amplitudes, sqrt(counts) (stored units; multiply by ``Normalisation.network_scale``
        for network input).
    indices : (B, C) int64
        Members of each group (rows of ``diffraction``).
    offsets : (B, C, 2) float64, object pixels (dx, dy)
        Member position minus group centre.
    centres : (B, 2) float64, object pixels (x, y)
        Group centre (mean of the members' positions).
    ground_truth : (M, N, N) complex64 or None
        Ground-truth object patch of each pattern (supervised training), cut at the
        pattern's position with core's patch convention.
    """

    diffraction: np.ndarray
    indices: np.ndarray
    offsets: np.ndarray
    centres: np.ndarray
    ground_truth: np.ndarray | None = None

    def __post_init__(self) -> None:
        B, C = self.indices.shape
        if self.offsets.shape != (B, C, 2) or self.centres.shape != (B, 2):
            raise ValueError(
                f"GroupedScan: offsets must be ({B}, {C}, 2) and centres ({B}, 2), "
                f"got {self.offsets.shape} and {self.centres.shape}"
            )

    @property
    def n_groups(self) -> int:
        """B, the number of groups."""
        return int(self.indices.shape[0])

    @property
    def channels(self) -> int:
        """C, the patterns per group."""
        return int(self.indices.shape[1])

    @property
    def N(self) -> int:
        """Pattern side in pixels."""
        return int(self.diffraction.shape[-1])

    def batch_diffraction(self, start: int, stop: int) -> np.ndarray:
        """(b, C, N, N) float32 stored amplitudes of groups ``start:stop``."""
        idx = self.indices[start:stop]
        members = np.unique(idx)  # sorted: one ordered read of a memory-mapped stack
        flat = np.asarray(self.diffraction[members], dtype=np.float32)
        return flat[np.searchsorted(members, idx)]

    def batch_ground_truth(self, start: int, stop: int) -> np.ndarray:
        """(b, C, N, N) complex64 ground-truth patches of groups ``start:stop``."""
        if self.ground_truth is None:
            raise ValueError("GroupedScan has no ground truth (supervised training needs objectGuess)")
        return np.asarray(self.ground_truth[self.indices[start:stop]], dtype=np.complex64)

    def select(self, groups: np.ndarray) -> GroupedScan:
        """A view holding only ``groups`` (B',) of the groups (the stack is shared)."""
        g = np.asarray(groups)
        return GroupedScan(
            diffraction=self.diffraction,
            indices=self.indices[g],
            offsets=self.offsets[g],
            centres=self.centres[g],
            ground_truth=self.ground_truth,
        )
