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


@pytest.fixture(scope="session")
def make_model(small_scan):
    """``make_model(config, seed=0)``: a TrainedModel with core's initial weights and random biases
    (nothing trained: predictors and bundles do not need training)."""
    from ptychopinn.architecture import init_weights
    from ptychopinn.config import TrainingConfig
    from ptychopinn.physics import estimate_normalisation
    from ptychopinn.results import TrainedModel

    def make(config, seed: int = 0) -> TrainedModel:
        weights = init_weights(config, seed=seed)
        gen = np.random.default_rng(seed)
        for name in weights:
            if name.endswith(".bias"):
                weights[name] = gen.normal(scale=0.1, size=weights[name].shape).astype(np.float32)
        return TrainedModel(
            backend="tensorflow",
            backend_version="0",
            model_config=config,
            training_config=TrainingConfig(),
            normalisation=estimate_normalisation(small_scan.diffraction),
            probe=small_scan.probe,
            weights=weights,
        )

    return make
