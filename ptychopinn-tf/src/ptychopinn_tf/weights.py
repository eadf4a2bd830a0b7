"""Canonical weights <-> the Keras network: kernel layout conversion only (no framework import).

Core owns the names, shapes and validation (:func:`ptychopinn.architecture.expected_shapes`,
:func:`ptychopinn.architecture.validate_weights`). The canonical layout is channels-first:
kernels ``(out, in / groups, kh, kw)`` ("OIHW"), biases ``(out,)``, ``physics.log_scale`` ``()``,
float32. Keras stores ``Conv2D`` kernels as ``(kh, kw, in, out)`` ("HWIO") and
``DepthwiseConv2D`` kernels as ``(kh, kw, in, 1)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ptychopinn.architecture import LOG_SCALE, validate_weights

__all__ = ["hwio_to_oihw", "load_network_weights", "network_weights", "oihw_to_hwio"]


def hwio_to_oihw(kernel: np.ndarray, *, depthwise: bool = False) -> np.ndarray:
    """Keras kernel -> canonical OIHW: ``(kh, kw, in, out)`` -> ``(out, in, kh, kw)``;
    depthwise ``(kh, kw, C, 1)`` -> ``(C, 1, kh, kw)``."""
    order = (2, 3, 0, 1) if depthwise else (3, 2, 0, 1)
    return np.ascontiguousarray(np.transpose(np.asarray(kernel, dtype=np.float32), order))


def oihw_to_hwio(kernel: np.ndarray, *, depthwise: bool = False) -> np.ndarray:
    """Canonical OIHW kernel -> Keras layout (the inverse of :func:`hwio_to_oihw`)."""
    order = (2, 3, 0, 1) if depthwise else (2, 3, 1, 0)
    return np.ascontiguousarray(np.transpose(np.asarray(kernel, dtype=np.float32), order))


def _is_depthwise(layer: Any) -> bool:
    return type(layer).__name__ == "DepthwiseConv2D"


def network_weights(net: Any) -> dict[str, np.ndarray]:
    """Every weight of a built :class:`~ptychopinn_tf.network.GraphNetwork` under its canonical name.

    Returns
    -------
    dict
        ``{prefix}.weight`` (OIHW) and ``{prefix}.bias`` per conv node, and ``physics.log_scale`` ``()``;
        float32 numpy arrays.
    """
    out: dict[str, np.ndarray] = {}
    for prefix, layer in net.named_convs():
        out[f"{prefix}.weight"] = hwio_to_oihw(layer.kernel.numpy(), depthwise=_is_depthwise(layer))
        out[f"{prefix}.bias"] = np.asarray(layer.bias.numpy(), dtype=np.float32)
    out[LOG_SCALE] = np.asarray(net.log_scale.numpy(), dtype=np.float32).reshape(())
    return out


def load_network_weights(net: Any, weights: Mapping[str, np.ndarray], *, source: str = "model") -> None:
    """Assign canonical ``weights`` to a built network, after core's validation.

    Raises
    ------
    BundleError
        When a name is missing or unexpected or a shape differs from the architecture of
        ``net.model_config`` (core's :func:`~ptychopinn.architecture.validate_weights`, naming ``source``).
    """
    validate_weights(weights, net.model_config, source=source)
    for prefix, layer in net.named_convs():
        depthwise = _is_depthwise(layer)
        layer.kernel.assign(oihw_to_hwio(weights[f"{prefix}.weight"], depthwise=depthwise))
        layer.bias.assign(np.asarray(weights[f"{prefix}.bias"], dtype=np.float32))
    net.log_scale.assign(np.asarray(weights[LOG_SCALE], dtype=np.float32).reshape(()))
