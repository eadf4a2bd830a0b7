"""The cost-aware architecture (``architecture = "fast"``): a first answer in few FLOPs.

Refinement (:mod:`ptychopinn.refinement`) restores the detail, so the network's job is a good
first answer, cheaply. No convolution runs at full resolution: the input is rearranged by
``space_to_depth`` (N -> N/2, 4C channels), one shared decoder runs each block *before* its
upsampling (as the published decoders do), and a single head convolution predicts 4 sub-pixel
values per output map, amplitude and phase together, that ``depth_to_space`` puts back at full
resolution. At N = 64, ``n_filters_scale = 2`` it costs 0.111 GFLOP per pattern against 1.611 for
the published architecture, and trained better at the same budget (measured: ``docs/results.md``).
"""

from __future__ import annotations

from ptychopinn.architecture.graph import Graph, GraphBuilder
from ptychopinn.architecture.published import amp_activation_kind, conv_block
from ptychopinn.config.model import ModelConfig

__all__ = ["build_fast", "fast_widths"]


def fast_widths(N: int, n: int) -> tuple[list[int], list[int]]:
    """Encoder widths (from N/2 down to the 8 x 8 bottleneck) and decoder widths.

    N=64: encoder 16n, 32n, 64n and decoder 32n, 16n; each doubling of N adds one level
    (widths capped at 128n).
    """
    levels = {64: 3, 128: 4, 256: 5}[N]
    encoder = [min(16 * n * 2**i, 128 * n) for i in range(levels)]
    return encoder, encoder[-2::-1]


def build_fast(config: ModelConfig) -> Graph:
    """The graph of the ``fast`` architecture for ``config``.

    ``space_to_depth`` -> encoder ConvBlocks (max pooling between levels) -> shared decoder
    (ConvBlock, then x2 upsampling, per level) back to N/2 -> ``head.out`` conv3x3 with
    8 C_out channels -> ``depth_to_space`` -> channels ``[0, C_out)`` amplitude (amplitude
    activation), ``[C_out, 2 C_out)`` phase (pi tanh).
    """
    N, n = config.N, config.n_filters_scale
    c_out = config.channels if config.object_big else 1
    encoder, decoder = fast_widths(N, n)
    g = GraphBuilder(config.channels, N)
    h = g.space_to_depth("x")
    for i, f in enumerate(encoder):
        h = conv_block(g, h, f"encoder.{i}", f)
        if i < len(encoder) - 1:
            h = g.maxpool(h)
    for j, f in enumerate(decoder):
        h = g.upsample(conv_block(g, h, f"decoder.{j}", f))
    maps = g.depth_to_space(g.conv(h, "head.out", 8 * c_out))
    amp = g.act(g.slice(maps, 0, c_out), amp_activation_kind(config))
    phase = g.act(g.slice(maps, c_out, 2 * c_out), "pi_tanh")
    return g.build(amp, phase)
