"""Grouping: K-nearest-neighbour groups, seeds, offsets, and a leak-free train/validation split."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.data.scan import ScanData
from ptychopinn.errors import ConfigError, ScanDataError
from ptychopinn.grouping import group_neighbours, make_grouped_scan, split_scan, split_train_validation
from ptychopinn.physics.patches import extract_object_patches


def _grid(n: int = 10, step: float = 3.0, jitter: float = 0.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = np.arange(n) * step + 20
    X, Y = np.meshgrid(g, g)
    return np.stack([X.ravel(), Y.ravel()], axis=1) + rng.uniform(-jitter, jitter, (n * n, 2))


def _scan(pos: np.ndarray, N: int = 16) -> ScanData:
    rng = np.random.default_rng(1)
    H = int(pos.max() + N)
    obj = (rng.uniform(0.5, 1, (H, H)) * np.exp(1j * rng.uniform(-1, 1, (H, H)))).astype(np.complex64)
    return ScanData(
        diffraction=rng.uniform(0, 2, (len(pos), N, N)).astype(np.float32),
        positions=pos,
        probe=np.ones((N, N), np.complex64),
        object=obj,
    )


def test_gridsize1_one_pattern_per_group():
    pos = _grid()
    g = group_neighbours(pos, gridsize=1)
    np.testing.assert_array_equal(g.indices[:, 0], np.arange(len(pos)))
    assert g.indices.dtype == np.int64 and g.offsets.shape == (len(pos), 1, 2)
    assert np.all(g.offsets == 0)
    np.testing.assert_array_equal(g.centres, pos)
    sub = group_neighbours(pos, gridsize=1, n_groups=10, seed=3)
    assert sub.indices.shape == (10, 1) and len(np.unique(sub.indices)) == 10


def test_gridsize2_groups_are_seed_plus_nearest_neighbours():
    pos = _grid()
    K = 5
    g = group_neighbours(pos, gridsize=2, neighbor_count=K, seed=0)
    assert g.indices.shape == (len(pos), 4) and g.offsets.shape == (len(pos), 4, 2)
    np.testing.assert_array_equal(g.indices[:, 0], np.arange(len(pos)))  # one group per scan point, seed first
    d = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    for b in range(len(pos)):
        kth = np.sort(d[b])[K]  # distance of the K-th nearest neighbour (index 0 is the point itself)
        members = g.indices[b]
        assert len(set(members)) == 4
        assert np.all(d[b, members[1:]] <= kth + 1e-9)
    np.testing.assert_allclose(g.centres, pos[g.indices].mean(axis=1))
    np.testing.assert_allclose(g.offsets, pos[g.indices] - g.centres[:, None])  # member - centre
    np.testing.assert_allclose(g.offsets.sum(axis=1), 0, atol=1e-9)


def test_grouping_is_seeded_and_reproducible():
    pos = _grid()
    a = group_neighbours(pos, gridsize=2, neighbor_count=6, n_groups=50, seed=7)
    b = group_neighbours(pos, gridsize=2, neighbor_count=6, n_groups=50, seed=7)
    c = group_neighbours(pos, gridsize=2, neighbor_count=6, n_groups=50, seed=8)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert not np.array_equal(a.indices, c.indices)
    more = group_neighbours(pos, gridsize=2, neighbor_count=6, n_groups=300, seed=0)  # oversampling
    assert more.indices.shape == (300, 4)


def test_grouping_errors():
    pos = _grid(3)
    with pytest.raises(ConfigError, match="neighbor_count"):
        group_neighbours(pos, gridsize=3, neighbor_count=4)
    with pytest.raises(ScanDataError, match="at least 16"):
        group_neighbours(pos[:5], gridsize=4, neighbor_count=20)
    with pytest.raises(ConfigError, match="gridsize"):
        group_neighbours(pos, gridsize=0)
    with pytest.raises(ScanDataError):
        group_neighbours(np.zeros((3, 3)), gridsize=1)


def test_make_grouped_scan_shares_stack_and_cuts_ground_truth():
    pos = _grid(6)
    scan = _scan(pos)
    grouped = make_grouped_scan(scan, gridsize=2, seed=0, with_ground_truth=True)
    assert grouped.diffraction is scan.diffraction
    np.testing.assert_array_equal(grouped.ground_truth, extract_object_patches(scan.object, pos, scan.N))
    assert grouped.batch_ground_truth(0, 3).shape == (3, 4, scan.N, scan.N)
    assert grouped.batch_diffraction(0, 3).shape == (3, 4, scan.N, scan.N)
    no_obj = ScanData(diffraction=scan.diffraction, positions=pos, probe=scan.probe, source="x.npz")
    with pytest.raises(ScanDataError, match="objectGuess"):
        make_grouped_scan(no_obj, gridsize=1, with_ground_truth=True)


@pytest.mark.parametrize("gridsize", [1, 2])
def test_split_has_no_shared_pattern(gridsize):
    pos = _grid(12)
    grouped = make_grouped_scan(_scan(pos), gridsize=gridsize, neighbor_count=4, seed=0)
    train, val = split_train_validation(grouped, validation_fraction=0.2, seed=0)
    assert val is not None and val.n_groups > 0 and train.n_groups > 0
    assert not set(np.unique(train.indices)) & set(np.unique(val.indices))
    assert val.n_groups + train.n_groups <= grouped.n_groups
    # roughly the requested fraction of groups is held out
    assert 0.08 < val.n_groups / grouped.n_groups < 0.3
    again_t, again_v = split_train_validation(grouped, validation_fraction=0.2, seed=0)
    np.testing.assert_array_equal(again_v.indices, val.indices)
    t0, v0 = split_train_validation(grouped, validation_fraction=0.0)
    assert v0 is None and t0.n_groups == grouped.n_groups


def test_split_scan_by_patterns_then_group():
    pos = _grid(8)
    train, val = split_scan(_scan(pos), validation_fraction=0.25, seed=1)
    assert val is not None and val.n_patterns == 16 and train.n_patterns == 48
    assert not {tuple(p) for p in train.positions} & {tuple(p) for p in val.positions}
    assert make_grouped_scan(val, gridsize=2).n_groups == 16
