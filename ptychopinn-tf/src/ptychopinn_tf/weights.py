"""Canonical weight names and shapes of ``docs/architecture-model.md`` (no framework import).

The canonical layout is channels-first: convolution kernels ``(out, in, kh, kw)`` ("OIHW"),
biases ``(out,)``, the physics log-scale ``()``; all float32. Keras stores kernels as
``(kh, kw, in, out)`` ("HWIO"); :func:`hwio_to_oihw` and :func:`oihw_to_hwio` convert at the
boundary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from ptychopinn.config import ModelConfig
from ptychopinn.errors import BundleError

__all__ = [
    "BORDER_CHANNELS",
    "LOG_SCALE",
    "decoder_widths",
    "encoder_widths",
    "expected_shapes",
    "hwio_to_oihw",
    "oihw_to_hwio",
    "validate_weights",
]

BORDER_CHANNELS = 4
"""Decoder channels used by the border branch (``probe_big``); the central head sees the rest."""

LOG_SCALE = "physics.log_scale"
"""Canonical name of the global log amplitude scale w."""


def encoder_widths(N: int, n: int) -> list[int]:
    """Encoder block widths from the input (N=64: 32n, 64n, 128n; one more block per doubling of N)."""
    blocks = int(round(math.log2(N))) - 3
    return [128 * n // 2 ** (blocks - 1 - i) for i in range(blocks)]


def decoder_widths(N: int, n: int) -> list[int]:
    """Decoder block widths from the bottleneck (N=64: 64n, 32n; N=128: 128n, 64n, 32n)."""
    blocks = int(round(math.log2(N))) - 4
    return [32 * n * 2 ** (blocks - 1 - j) for j in range(blocks)]


def _conv(out: int, cin: int) -> list[tuple[str, tuple[int, ...]]]:
    return [("weight", (out, cin, 3, 3)), ("bias", (out,))]


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every canonical weight name of the architecture ``config`` implies, with its stored shape."""
    N, n = config.N, config.n_filters_scale
    c_in = config.channels
    c_out = config.channels if config.object_big else 1
    shapes: dict[str, tuple[int, ...]] = {}

    def block(prefix: str, cin: int, f: int) -> None:
        for k, (a, b) in enumerate(((cin, f), (f, f))):
            for kind, shape in _conv(b, a):
                shapes[f"{prefix}.conv{k}.{kind}"] = shape

    cin = c_in
    for i, f in enumerate(encoder_widths(N, n)):
        block(f"encoder.{i}", cin, f)
        cin = f
    bottleneck = cin
    for branch in ("amp", "phase"):
        cin = bottleneck
        for j, f in enumerate(decoder_widths(N, n)):
            block(f"decoder_{branch}.{j}", cin, f)
            cin = f
        head = f"head_{branch}"
        if config.pad_object:
            for kind, shape in _conv(c_out, cin - BORDER_CHANNELS):
                shapes[f"{head}.central.{kind}"] = shape
            if config.probe_big:
                fb = 2048 // N * n
                block(f"{head}.border", BORDER_CHANNELS, fb)
                for kind, shape in _conv(c_out, fb):
                    shapes[f"{head}.border.out.{kind}"] = shape
        else:
            block(f"{head}.full", cin, 32 * n)
            for kind, shape in _conv(c_out, 32 * n):
                shapes[f"{head}.full.out.{kind}"] = shape
    shapes[LOG_SCALE] = ()
    return shapes


def hwio_to_oihw(kernel: np.ndarray) -> np.ndarray:
    """Keras ``(kh, kw, in, out)`` kernel -> canonical ``(out, in, kh, kw)``."""
    return np.ascontiguousarray(np.transpose(np.asarray(kernel, dtype=np.float32), (3, 2, 0, 1)))


def oihw_to_hwio(kernel: np.ndarray) -> np.ndarray:
    """Canonical ``(out, in, kh, kw)`` kernel -> Keras ``(kh, kw, in, out)``."""
    return np.ascontiguousarray(np.transpose(np.asarray(kernel, dtype=np.float32), (2, 3, 1, 0)))


def validate_weights(weights: Mapping[str, np.ndarray], config: ModelConfig, *, source: str = "model") -> None:
    """Check that ``weights`` holds exactly the canonical names and shapes of ``config``.

    Raises
    ------
    BundleError
        Naming the missing, unexpected or mis-shaped weights.
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
        shape = tuple(np.shape(weights[name]))
        if shape != expected[name]:
            problems.append(f"{name} has shape {shape}, expected {expected[name]}")
    if problems:
        raise BundleError(
            f"{source}: the weights do not match the architecture of its model_config "
            f"(N={config.N}, gridsize={config.gridsize}, n_filters_scale={config.n_filters_scale}, "
            f"object_big={config.object_big}, probe_big={config.probe_big}, pad_object={config.pad_object}): "
            + "; ".join(problems[:8])
        )
