"""The published PtychoPINN architecture (``architecture = "published"``).

Encoder ConvBlocks with max pooling, separate amplitude and phase decoders with nearest
upsampling, heads that predict the central N/2 x N/2 window at full resolution plus a
low-resolution border branch (``docs/architecture-model.md``). Weight names and order are
those of the bundles written since format 1, so old bundles load unchanged.
"""

from __future__ import annotations

import math

from ptychopinn.architecture.graph import Graph, GraphBuilder
from ptychopinn.config.model import ModelConfig
from ptychopinn.physics.overlap import center_window

__all__ = ["BORDER_CHANNELS", "amp_activation_kind", "build_published", "decoder_widths", "encoder_widths"]

BORDER_CHANNELS = 4
"""Decoder channels used by the border branch (``probe_big``); the central head sees the rest."""


def encoder_widths(N: int, n: int) -> list[int]:
    """Encoder block widths from the input (N=64: 32n, 64n, 128n; one more block per doubling of N)."""
    blocks = int(round(math.log2(N))) - 3
    return [128 * n // 2 ** (blocks - 1 - i) for i in range(blocks)]


def decoder_widths(N: int, n: int) -> list[int]:
    """Decoder block widths from the bottleneck (N=64: 64n, 32n; N=128: 128n, 64n, 32n)."""
    blocks = int(round(math.log2(N))) - 4
    return [32 * n * 2 ** (blocks - 1 - j) for j in range(blocks)]


def amp_activation_kind(config: ModelConfig) -> str:
    """The graph activation of ``config.amp_activation`` (``swish`` is the graph's ``silu``)."""
    return "silu" if config.amp_activation == "swish" else config.amp_activation


def conv_block(g: GraphBuilder, x: str, prefix: str, f: int) -> str:
    """conv3x3(f) -> ReLU -> conv3x3(f) -> ReLU, weights ``{prefix}.conv0`` and ``{prefix}.conv1``."""
    x = g.act(g.conv(x, f"{prefix}.conv0", f), "relu")
    return g.act(g.conv(x, f"{prefix}.conv1", f), "relu")


def _head(g: GraphBuilder, x: str, config: ModelConfig, branch: str, activation: str) -> str:
    N, n = config.N, config.n_filters_scale
    c_out = config.channels if config.object_big else 1
    prefix = f"head_{branch}"
    c = g.shapes[x][0]
    if not config.pad_object:
        h = g.upsample(conv_block(g, x, f"{prefix}.full", 32 * n))
        return g.act(g.conv(h, f"{prefix}.full.out", c_out), activation)
    central = g.act(g.conv(g.slice(x, 0, c - BORDER_CHANNELS), f"{prefix}.central", c_out), activation)
    out = g.pad(central, N // 4)
    if config.probe_big:
        h = g.upsample(conv_block(g, g.slice(x, c - BORDER_CHANNELS, c), f"{prefix}.border", 2048 // N * n))
        border = g.act(g.conv(h, f"{prefix}.border.out", c_out), "silu")
        out = g.add(out, g.mask(border, "border_mask", 1.0 - center_window(N)))
    return out


def build_published(config: ModelConfig) -> Graph:
    """The graph of the published architecture for ``config`` (any N in 64, 128, 256)."""
    N, n = config.N, config.n_filters_scale
    g = GraphBuilder(config.channels, N)
    h = "x"
    for i, f in enumerate(encoder_widths(N, n)):
        h = g.maxpool(conv_block(g, h, f"encoder.{i}", f))
    outputs = {}
    for branch, activation in (("amp", amp_activation_kind(config)), ("phase", "pi_tanh")):
        d = h
        for j, f in enumerate(decoder_widths(N, n)):
            d = g.upsample(conv_block(g, d, f"decoder_{branch}.{j}", f))
        outputs[branch] = _head(g, d, config, branch, activation)
    return g.build(outputs["amp"], outputs["phase"])
