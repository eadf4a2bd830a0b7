"""The architecture of a :class:`~ptychopinn.config.ModelConfig`: graph, weights, cost.

One owner for what every backend needs: :func:`architecture_graph` (what to build),
:func:`expected_shapes` / :func:`validate_weights` (the canonical weights, checked once when a
bundle is read and before a predictor is built), :func:`init_weights` (Glorot-uniform
kernels, zero biases) and :func:`architecture_cost` (FLOPs and parameters per pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ptychopinn.architecture.fast import build_fast
from ptychopinn.architecture.graph import Graph
from ptychopinn.architecture.published import build_published
from ptychopinn.config.model import ARCHITECTURES, ModelConfig
from ptychopinn.errors import BundleError

__all__ = [
    "LOG_SCALE",
    "ArchitectureCost",
    "architecture_cost",
    "architecture_graph",
    "expected_shapes",
    "init_weights",
    "validate_weights",
]

LOG_SCALE = "physics.log_scale"
"""Canonical name of the global log amplitude scale w (shape ``()``, every architecture)."""

_BUILDERS: dict[str, Callable[[ModelConfig], Graph]] = {"published": build_published, "fast": build_fast}
assert tuple(_BUILDERS) == ARCHITECTURES


@lru_cache(maxsize=32)
def architecture_graph(config: ModelConfig) -> Graph:
    """The network graph ``config`` describes (cached; graphs are immutable)."""
    return _BUILDERS[config.architecture](config)


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every canonical weight name of the architecture with its stored shape (OIHW kernels)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for node in architecture_graph(config).convs():
        shapes[f"{node.name}.weight"] = (node.out_channels, node.in_channels // node.groups, node.kernel, node.kernel)
        shapes[f"{node.name}.bias"] = (node.out_channels,)
    shapes[LOG_SCALE] = ()
    return shapes


def _describe(config: ModelConfig) -> str:
    return (
        f"architecture={config.architecture}, N={config.N}, gridsize={config.gridsize}, "
        f"n_filters_scale={config.n_filters_scale}, object_big={config.object_big}, probe_big={config.probe_big}, "
        f"pad_object={config.pad_object}"
    )


def validate_weights(weights: Mapping[str, np.ndarray], config: ModelConfig, *, source: str = "model") -> None:
    """Check that ``weights`` holds exactly the canonical names, shapes and a float dtype.

    Raises
    ------
    BundleError
        Naming ``source`` and the missing, unexpected, mis-shaped or non-float weights.
    """
    expected = expected_shapes(config)
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    problems = []
    if missing:
        problems.append(
            f"missing {len(missing)} weight(s): {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}"
        )
    if extra:
        problems.append(f"unexpected {len(extra)} weight(s): {', '.join(extra[:6])}{' ...' if len(extra) > 6 else ''}")
    for name in sorted(set(expected) & set(weights)):
        array = np.asarray(weights[name])
        if tuple(array.shape) != expected[name]:
            problems.append(f"{name} has shape {tuple(array.shape)}, expected {expected[name]}")
        elif not np.issubdtype(array.dtype, np.floating):
            problems.append(f"{name} has dtype {array.dtype}, expected float32")
    if problems:
        raise BundleError(
            f"{source}: the weights do not match the architecture of its model_config ({_describe(config)}): "
            + "; ".join(problems[:8])
        )


def init_weights(config: ModelConfig, *, seed: int) -> dict[str, np.ndarray]:
    """Fresh canonical weights: Glorot-uniform kernels, zero biases, ``physics.log_scale`` = 0.

    Returns
    -------
    dict
        Canonical name -> float32 array (OIHW kernels).
    """
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for name, shape in expected_shapes(config).items():
        if name.endswith(".weight"):
            o, i, kh, kw = shape
            limit = np.sqrt(6.0 / ((i + o) * kh * kw))
            out[name] = rng.uniform(-limit, limit, size=shape).astype(np.float32)
        else:
            out[name] = np.zeros(shape, dtype=np.float32)
    return out


@dataclass(frozen=True, kw_only=True)
class ArchitectureCost:
    """Cost of one forward pass of the network for one group."""

    flops: int
    """Floating-point operations of the convolutions (2 per multiply-accumulate) of one forward pass
    (one group)."""

    params: int
    """Number of weights (kernels, biases, the log-scale)."""

    patterns: int
    """Diffraction patterns per group (``gridsize**2``)."""

    @property
    def gflops_per_pattern(self) -> float:
        """GFLOP per reconstructed diffraction pattern.

        Core builds one group around every scan position (``ptychopinn.grouping``), so a scan of M
        patterns costs M forward passes whatever the gridsize: this is :attr:`flops` / 1e9, not
        divided by the group size.
        """
        return self.flops / 1e9


def architecture_cost(config: ModelConfig) -> ArchitectureCost:
    """FLOPs and parameters of one forward pass for one group of ``config.channels`` patterns."""
    graph = architecture_graph(config)
    macs = 0
    for node in graph.convs():
        _, h, w = graph.shapes[node.output]
        macs += node.out_channels * (node.in_channels // node.groups) * node.kernel**2 * h * w
    params = sum(int(np.prod(s)) for s in expected_shapes(config).values())
    return ArchitectureCost(flops=2 * macs, params=params, patterns=config.channels)
