"""Shared fixtures of the TensorFlow backend tests (small, 2-core friendly)."""

from __future__ import annotations

import os

# One thread per op while testing on shared CPUs; must be set before TensorFlow starts.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def small_scan():
    from ptychopinn.testing.synthetic import synthetic_scan

    return synthetic_scan(N=64, n_side=4, step_px=8, seed=0)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(1234)
