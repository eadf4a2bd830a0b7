"""Output files follow the umask (0644 under umask 022), not mkstemp's private 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ptychopinn._atomic import atomic_write
from ptychopinn.data.npz import write_scan
from ptychopinn.simulate import simulate_scan


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_gives_0644_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "out.json"
    with atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("{}")
    assert _mode(target) == 0o644


def test_atomic_write_follows_a_stricter_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        target = tmp_path / "private.bin"
        with atomic_write(target) as handle:
            handle.write(b"x")
    finally:
        os.umask(previous)
    assert _mode(target) == 0o600


def test_scan_npz_is_0644_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    scan = simulate_scan(n_patterns=8, N=16, seed=0)
    out = write_scan(tmp_path / "scan.npz", scan)
    assert _mode(Path(out)) == 0o644
    assert np.isfinite(np.asarray(scan.diffraction)).all()
