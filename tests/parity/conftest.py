"""Cross-backend parity suite: needs ptychopinn-tf and ptychopinn-torch in one environment
(the nox ``parity`` session). Tests are skipped, with the reason, when either is missing."""

from __future__ import annotations

import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import importlib.util  # noqa: E402

import pytest  # noqa: E402

MISSING = [
    d
    for d, m in (("ptychopinn-tf", "ptychopinn_tf"), ("ptychopinn-torch", "ptychopinn_torch"))
    if importlib.util.find_spec(m) is None
]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: minutes-long training comparisons (still 2-core affordable)")


def pytest_collection_modifyitems(config, items):
    if not MISSING:
        return
    skip = pytest.mark.skip(reason=f"parity needs both backends; missing: {', '.join(MISSING)}")
    for item in items:
        if "parity" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _single_thread_torch():
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def scan():
    from ptychopinn.testing.synthetic import synthetic_scan

    return synthetic_scan(N=64, n_side=4, step_px=8, seed=0)
