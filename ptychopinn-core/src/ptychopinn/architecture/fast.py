"""The cost-aware architecture (``architecture = "fast"``): a first answer in few FLOPs.

Refinement (:mod:`ptychopinn.refinement`) restores the detail, so the network's job is a good
first answer, cheaply. All convolutions run at N/2 or below: the input is rearranged by
``space_to_depth`` (N -> N/2, 4C channels), one shared decoder trunk feeds both heads, and
each head predicts 4 sub-pixel maps per output channel that ``depth_to_space`` puts back at
full resolution. At N = 64 and ``n_filters_scale = 2`` it costs ~0.2 GFLOP per pattern,
against ~1.6 for the published architecture (:func:`ptychopinn.architecture.architecture_cost`).
"""

from __future__ import annotations

from ptychopinn.architecture.graph import Graph, GraphBuilder
from ptychopinn.architecture.published import amp_activation_kind, conv_block
from ptychopinn.config.model import ModelConfig

__all__ = ["build_fast"]


def build_fast(config: ModelConfig) -> Graph:
    """The graph of the ``fast`` architecture for ``config``.

    Widths with n = ``n_filters_scale``: encoder 16n, 32n, 64n (N=64; one more 128n block per
    doubling of N), decoder back up to 16n at N/2, heads conv3x3(4 C_out) -> depth_to_space.
    """
    N, n = config.N, config.n_filters_scale
    c_out = config.channels if config.object_big else 1
    g = GraphBuilder(config.channels, N)
    h = g.space_to_depth("x")
    levels = {64: 3, 128: 4, 256: 5}[N]
    widths = [min(16 * n * 2**i, 128 * n) for i in range(levels)]
    for i, f in enumerate(widths):
        h = conv_block(g, h, f"encoder.{i}", f)
        if i < levels - 1:
            h = g.maxpool(h)
    for j, f in enumerate(reversed(widths[:-1])):
        h = conv_block(g, g.upsample(h), f"decoder.{j}", f)
    outputs = {}
    for branch, activation in (("amp", amp_activation_kind(config)), ("phase", "pi_tanh")):
        sub = g.conv(h, f"head_{branch}.out", 4 * c_out)
        outputs[branch] = g.act(g.depth_to_space(sub), activation)
    return g.build(outputs["amp"], outputs["phase"])
