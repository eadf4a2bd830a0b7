"""Models and inputs the conformance kit feeds a backend (no training needed).

A kit model has the canonical weights of :func:`ptychopinn.architecture.init_weights` with
*non-zero* biases and log-scale (so a backend that drops or transposes a bias is caught), and
network-unit diffraction from :func:`~ptychopinn.testing.synthetic.synthetic_scan`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.physics.normalisation import estimate_normalisation
from ptychopinn.results import TrainedModel

__all__ = ["INFER_CONFIGS", "kit_diffraction", "kit_model", "kit_weights", "with_weights"]

INFER_CONFIGS: tuple[ModelConfig, ...] = tuple(
    ModelConfig(N=64, n_filters_scale=1, gridsize=gridsize, architecture=architecture)
    for architecture in ("published", "fast")
    for gridsize in (1, 2)
)
"""Small architectures of the ``infer`` tier: published and fast, gridsize 1 and 2, N = 64, width 1."""


def kit_weights(config: ModelConfig, *, seed: int) -> dict[str, np.ndarray]:
    """Canonical weights of ``config``: Glorot kernels, biases uniform in [-0.1, 0.1], log-scale 0.2.

    Returns
    -------
    dict
        Canonical name -> float32 array (:func:`ptychopinn.architecture.expected_shapes`).
    """
    from ptychopinn.architecture import LOG_SCALE, init_weights

    weights = init_weights(config, seed=seed)
    rng = np.random.default_rng(seed + 10_000)
    for name, value in weights.items():
        if name.endswith(".bias"):
            weights[name] = rng.uniform(-0.1, 0.1, value.shape).astype(np.float32)
    weights[LOG_SCALE] = np.asarray(0.2, dtype=np.float32)
    return weights


def kit_model(config: ModelConfig, *, seed: int, backend: str, backend_version: str = "0") -> TrainedModel:
    """An untrained model of ``config`` with :func:`kit_weights`, labelled with ``backend``.

    Returns
    -------
    TrainedModel
        Probe and normalisation of a 64 x 64 :func:`~ptychopinn.testing.synthetic.synthetic_scan`.
    """
    from ptychopinn.testing.synthetic import synthetic_scan

    scan = synthetic_scan(N=config.N, n_side=3, step_px=6, seed=seed)
    return TrainedModel(
        backend=backend,
        backend_version=backend_version,
        model_config=config,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(scan.diffraction),
        probe=np.asarray(scan.probe, dtype=np.complex64),
        weights=kit_weights(config, seed=seed),
        metadata={"source": f"ptychopinn.testing.models.kit_model(seed={seed})"},
    )


def kit_diffraction(config: ModelConfig, *, batch: int = 5, seed: int = 0) -> np.ndarray:
    """A fixed batch of network-unit diffraction groups for ``config``.

    Returns
    -------
    (batch, C, N, N) float32
        Neighbouring patterns of a synthetic scan (``C = gridsize**2``), times the scan's
        ``Normalisation.network_scale``: what core hands a predictor.
    """
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.testing.synthetic import synthetic_scan

    scan = synthetic_scan(N=config.N, n_side=4, step_px=6, seed=seed)
    groups = make_grouped_scan(scan, gridsize=config.gridsize, seed=seed)
    if groups.n_groups < batch:
        raise ValueError(f"kit_diffraction: only {groups.n_groups} groups, {batch} requested")
    scale = np.float32(estimate_normalisation(scan.diffraction).network_scale)
    return np.ascontiguousarray(groups.batch_diffraction(0, batch) * scale, dtype=np.float32)


def with_weights(model: TrainedModel, weights: dict[str, np.ndarray]) -> TrainedModel:
    """``model`` with other weights (a new mapping, so core's predictor cache misses)."""
    return dataclasses.replace(model, weights=weights)
