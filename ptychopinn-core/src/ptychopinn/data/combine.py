"""Training on several scans: one combined scan whose parts never share a neighbourhood.

``ptychopinn train a.npz b.npz`` trains one model on every pattern of every scan. The scans
must have the same pattern size N and the same probe (within
:data:`ptychopinn.refinement.pipeline.PROBE_MISMATCH_TOLERANCE`): the model's physics layer
holds one probe. Each scan's positions are moved into a band of the object plane of its own,
separated by more than a probe width, so grouping (gridsize > 1) never puts patterns of two scans
into one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ptychopinn.data.scan import ScanData
from ptychopinn.errors import ConfigError

__all__ = ["combine_scans"]


def combine_scans(scans: Sequence[ScanData]) -> ScanData:
    """One scan holding every pattern of ``scans`` (see the module docstring).

    Parameters
    ----------
    scans : sequence of ScanData
        Same N and probe. Ground-truth objects are dropped (they live on different grids).

    Returns
    -------
    ScanData
        ``diffraction`` (sum M_i, N, N) float32 (a copy), positions shifted per scan along x,
        the first scan's probe, ``scan_index`` the pattern's index within its own scan.

    Raises
    ------
    ConfigError
        No scan, different N, or a probe that differs from the first scan's.
    """
    from ptychopinn.refinement.pipeline import PROBE_MISMATCH_TOLERANCE, probe_mismatch

    if not scans:
        raise ConfigError("no scan to train on")
    if len(scans) == 1:
        return scans[0]
    first = scans[0]
    name = [s.source or f"scan {i + 1}" for i, s in enumerate(scans)]
    for i, scan in enumerate(scans[1:], start=1):
        if scan.N != first.N:
            raise ConfigError(
                f"{name[i]}: diffraction patterns are {scan.N} x {scan.N}, but {name[0]} has {first.N} x {first.N}; "
                "scans trained together must have the same pattern size"
            )
        mismatch = probe_mismatch(scan.probe, first.probe)
        if mismatch > PROBE_MISMATCH_TOLERANCE:
            raise ConfigError(
                f"{name[i]}: its probe differs from the probe of {name[0]} by {mismatch:.1%} (tolerance "
                f"{PROBE_MISMATCH_TOLERANCE:.0%}); one model holds one probe: train on scans measured with the "
                "same probe"
            )
    gap = 2.0 * first.N
    positions, stacks, index = [], [], []
    x_start = 0.0
    for scan in scans:
        pos = np.asarray(scan.positions, dtype=np.float64)
        shifted = pos.copy()
        shifted[:, 0] += x_start - pos[:, 0].min()
        x_start = float(shifted[:, 0].max()) + gap
        positions.append(shifted)
        stacks.append(np.asarray(scan.diffraction, dtype=np.float32))
        index.append(np.arange(scan.n_patterns, dtype=np.int64) if scan.scan_index is None else scan.scan_index)
    return ScanData(
        diffraction=np.concatenate(stacks),
        positions=np.concatenate(positions),
        probe=first.probe,
        object=None,
        scan_index=np.concatenate(index),
        source=" + ".join(name),
    )
