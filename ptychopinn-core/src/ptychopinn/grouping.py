"""Groups of neighbouring scan points (gridsize > 1) and the train/validation split.

A *group* is C = gridsize**2 patterns: a seed scan point plus C - 1 partners drawn at random
(seeded) from its K = ``neighbor_count`` nearest neighbours (scipy ``cKDTree``). The group
centre is the mean of the members' positions and each member's offset is
``member position - centre`` as (dx, dy) in object pixels (``docs/conventions.md``; the
published implementation fed the network the opposite sign, ``centre - member``).

gridsize 1: every pattern is its own group, offset 0, centre = its position.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ptychopinn.data.grouped import GroupedScan
from ptychopinn.data.scan import ScanData
from ptychopinn.errors import ConfigError, ScanDataError

__all__ = ["Groups", "group_neighbours", "make_grouped_scan", "split_scan", "split_train_validation"]


@dataclass(frozen=True, eq=False)
class Groups:
    """Neighbour groups over a scan.

    Attributes
    ----------
    indices : (B, C) int64
        Pattern indices of each group's members; member 0 is the seed point.
    offsets : (B, C, 2) float64, object pixels (dx, dy)
        Member position minus group centre.
    centres : (B, 2) float64, object pixels (x, y)
        Mean of the members' positions.
    """

    indices: np.ndarray
    offsets: np.ndarray
    centres: np.ndarray


def _check_positions(positions: npt.ArrayLike) -> np.ndarray:
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] == 0:
        raise ScanDataError(f"positions must be (M, 2) as (x, y) with M > 0, got shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ScanDataError("positions contain NaN or Inf")
    return pos


def group_neighbours(
    positions: npt.ArrayLike,
    *,
    gridsize: int,
    neighbor_count: int = 4,
    n_groups: int | None = None,
    seed: int = 0,
) -> Groups:
    """Form seeded, reproducible K-nearest-neighbour groups of ``gridsize**2`` patterns.

    Parameters
    ----------
    positions : (M, 2) float, object pixels (x, y)
    gridsize : int >= 1
        C = gridsize**2 patterns per group.
    neighbor_count : int
        K, the pool of nearest neighbours (excluding the seed) the C - 1 partners are drawn
        from; must be >= C - 1 when gridsize > 1.
    n_groups : int, optional
        Number of groups. ``None``: one group per scan point (seed = every point, in order).
        Otherwise seeds are drawn at random without replacement (with replacement when
        more groups than points are asked for and gridsize > 1; capped at M with a warning
        for gridsize 1).
    seed : int
        Seed of the random generator (``numpy.random.default_rng``); same inputs and seed
        give identical groups.

    Returns
    -------
    Groups
    """
    pos = _check_positions(positions)
    M = pos.shape[0]
    if isinstance(gridsize, bool) or not isinstance(gridsize, int) or gridsize < 1:
        raise ConfigError(f"gridsize must be an integer >= 1, got {gridsize!r}")
    if isinstance(neighbor_count, bool) or not isinstance(neighbor_count, int) or neighbor_count < 1:
        raise ConfigError(f"neighbor_count must be an integer >= 1, got {neighbor_count!r}")
    if n_groups is not None and (isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1):
        raise ConfigError(f"n_groups must be None or an integer >= 1, got {n_groups!r}")
    C = gridsize * gridsize
    rng = np.random.default_rng(seed)
    if C == 1:
        if n_groups is None:
            seeds = np.arange(M, dtype=np.int64)
        else:
            if n_groups > M:
                warnings.warn(
                    f"n_groups={n_groups} > {M} patterns with gridsize 1; using {M} groups", UserWarning, stacklevel=2
                )
            seeds = np.sort(rng.choice(M, size=min(n_groups, M), replace=False)).astype(np.int64)
        indices = seeds[:, None]
        return Groups(indices=indices, offsets=np.zeros((len(seeds), 1, 2)), centres=pos[seeds].copy())
    if neighbor_count < C - 1:
        raise ConfigError(
            f"neighbor_count={neighbor_count} is too small for gridsize {gridsize}: a group needs "
            f"C - 1 = {C - 1} partners drawn from the K nearest neighbours; use neighbor_count >= {C - 1}"
        )
    if M < C:
        raise ScanDataError(f"gridsize {gridsize} needs at least {C} scan points per group, the scan has {M}")
    from scipy.spatial import cKDTree

    K = min(neighbor_count, M - 1)
    if n_groups is None:
        seeds = np.arange(M, dtype=np.int64)
    else:
        seeds = rng.choice(M, size=n_groups, replace=n_groups > M).astype(np.int64)
    tree = cKDTree(pos)
    _, nn = tree.query(pos[seeds], k=min(K + 1, M))
    nn = np.asarray(nn, dtype=np.int64).reshape(len(seeds), -1)
    indices = np.empty((len(seeds), C), dtype=np.int64)
    for b, s in enumerate(seeds):
        pool = nn[b][nn[b] != s][:K]  # K nearest, seed excluded (robust to duplicate positions)
        chosen = np.sort(rng.choice(len(pool), size=C - 1, replace=False))  # keep distance order
        indices[b, 0] = s
        indices[b, 1:] = pool[chosen]
    members = pos[indices]  # (B, C, 2)
    centres = members.mean(axis=1)
    offsets = members - centres[:, None, :]
    return Groups(indices=indices, offsets=offsets, centres=centres)


def make_grouped_scan(
    scan: ScanData,
    *,
    gridsize: int,
    neighbor_count: int = 4,
    n_groups: int | None = None,
    seed: int = 0,
    with_ground_truth: bool = False,
) -> GroupedScan:
    """Group a scan for a backend (see :func:`group_neighbours`).

    Parameters
    ----------
    scan : ScanData
    gridsize, neighbor_count, n_groups, seed
        As in :func:`group_neighbours`.
    with_ground_truth : bool
        Cut the ground-truth patch of every pattern from ``scan.object`` with
        :func:`ptychopinn.physics.patches.extract_object_patches` (supervised training).

    Returns
    -------
    GroupedScan
        Sharing ``scan.diffraction`` (no copy; a memory map stays a memory map).
    """
    groups = group_neighbours(
        scan.positions, gridsize=gridsize, neighbor_count=neighbor_count, n_groups=n_groups, seed=seed
    )
    truth = None
    if with_ground_truth:
        if scan.object is None:
            where = f"{scan.source}: " if scan.source else ""
            raise ScanDataError(
                f"{where}supervised training needs the ground-truth object: key 'objectGuess' is missing"
            )
        from ptychopinn.physics.patches import extract_object_patches

        truth = extract_object_patches(scan.object, scan.positions, scan.N)
    return GroupedScan(
        diffraction=scan.diffraction,
        indices=groups.indices,
        offsets=groups.offsets,
        centres=groups.centres,
        ground_truth=truth,
    )


def _validation_patterns(positions: np.ndarray, n_val: int, rng: np.random.Generator, compact: bool) -> np.ndarray:
    """Pick ``n_val`` validation patterns: random ones, or a compact region around a random point."""
    M = positions.shape[0]
    if not compact:
        return np.sort(rng.choice(M, size=n_val, replace=False))
    anchor = positions[rng.integers(M)]
    dist = np.linalg.norm(positions - anchor, axis=1)
    return np.sort(np.argsort(dist, kind="stable")[:n_val])


def split_scan(scan: ScanData, *, validation_fraction: float, seed: int = 0) -> tuple[ScanData, ScanData | None]:
    """Split a scan's *patterns* into training and validation scans (group each side afterwards).

    The validation patterns are a compact region (the patterns nearest to a random scan
    point), so that groups formed within each side are spatially coherent.

    Returns
    -------
    (train, validation)
        ``validation`` is None when ``validation_fraction`` is 0 or would select no pattern.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    M = scan.n_patterns
    n_val = int(round(validation_fraction * M))
    if n_val == 0:
        return scan, None
    val = _validation_patterns(scan.positions, n_val, np.random.default_rng(seed), compact=True)
    train = np.setdiff1d(np.arange(M), val)
    return scan.subset(train), scan.subset(val)


def split_train_validation(
    grouped: GroupedScan, *, validation_fraction: float, seed: int = 0
) -> tuple[GroupedScan, GroupedScan | None]:
    """Split groups into training and validation sets that share no pattern.

    The *patterns* are split first; a group goes to a side only when all of its members
    belong to that side. gridsize 1: the validation patterns are drawn at random.
    gridsize > 1: they are a compact region of the scan (the patterns nearest to a random
    point), so only groups on the region's border, which would straddle both sides, are
    dropped.

    Parameters
    ----------
    grouped : GroupedScan
    validation_fraction : float in [0, 1)
        Fraction of the grouped patterns held out.
    seed : int

    Returns
    -------
    (train, validation)
        Views sharing the diffraction stack; ``validation`` is None when the fraction is 0
        or no group lies entirely in the validation region.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    used = np.unique(grouped.indices)
    n_val = int(round(validation_fraction * used.size))
    if n_val == 0:
        return grouped, None
    # Recover each used pattern's position from the groups (centre + offset).
    member_pos = grouped.centres[:, None, :] + grouped.offsets  # (B, C, 2)
    pos = np.zeros((used.size, 2))
    pos[np.searchsorted(used, grouped.indices.ravel())] = member_pos.reshape(-1, 2)
    rng = np.random.default_rng(seed)
    val_patterns = used[_validation_patterns(pos, n_val, rng, compact=grouped.channels > 1)]
    in_val = np.isin(grouped.indices, val_patterns)
    val_groups = np.flatnonzero(in_val.all(axis=1))
    train_groups = np.flatnonzero(~in_val.any(axis=1))
    if train_groups.size == 0:
        raise ConfigError(f"validation_fraction={validation_fraction} leaves no training group; use a smaller fraction")
    train = grouped.select(train_groups)
    return train, (grouped.select(val_groups) if val_groups.size else None)
