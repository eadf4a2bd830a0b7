"""Shared helpers of the ONNX backend tests: models made from core's canonical initialisation."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.architecture import init_weights
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.physics import Normalisation
from ptychopinn.results import TrainedModel
from ptychopinn_onnx.options import OnnxOptions

ONE_THREAD = OnnxOptions(intra_op_num_threads=1, inter_op_num_threads=1)
"""Tests run on a shared machine: one ONNX Runtime thread."""

CONFIGS: dict[str, dict[str, object]] = {
    "published-N64-g1": {"architecture": "published"},
    "published-N64-g2": {"architecture": "published", "gridsize": 2},
    "published-N64-nopad": {"architecture": "published", "pad_object": False},
    "published-N128": {"architecture": "published", "N": 128, "n_filters_scale": 1},
    "fast-N64-g1": {"architecture": "fast"},
    "fast-N64-g2": {"architecture": "fast", "gridsize": 2},
    "fast-N64-nopad": {"architecture": "fast", "pad_object": False},
    "fast-N128": {"architecture": "fast", "N": 128},
}
"""The model configurations every numerical test covers (both architectures)."""


def random_weights(config: ModelConfig, seed: int = 1) -> dict[str, np.ndarray]:
    """``init_weights`` with non-zero biases and log-scale (so every parameter is exercised)."""
    rng = np.random.default_rng(seed)
    weights = init_weights(config, seed=seed)
    for name, value in weights.items():
        if not name.endswith(".weight"):
            weights[name] = (value + rng.normal(0.0, 0.1, value.shape)).astype(np.float32)
    return weights


def make_model(config: ModelConfig, *, seed: int = 1, backend: str = "onnx") -> TrainedModel:
    """A :class:`TrainedModel` with :func:`random_weights` (no training needed for inference tests)."""
    return TrainedModel(
        backend=backend,
        backend_version="0.1.0",
        model_config=config,
        training_config=TrainingConfig(),
        normalisation=Normalisation(N=config.N, mean_counts=1.0e5),
        probe=np.ones((config.N, config.N), dtype=np.complex64),
        weights=random_weights(config, seed),
    )


def diffraction(config: ModelConfig, batch: int = 3, seed: int = 0) -> np.ndarray:
    """(batch, C, N, N) float32 non-negative network-unit amplitudes."""
    rng = np.random.default_rng(seed)
    return (3.0 * rng.random((batch, config.channels, config.N, config.N))).astype(np.float32)


@pytest.fixture(params=sorted(CONFIGS), ids=sorted(CONFIGS))
def config(request: pytest.FixtureRequest) -> ModelConfig:
    return ModelConfig(**CONFIGS[request.param])  # type: ignore[arg-type]
