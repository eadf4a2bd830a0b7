"""The network of any architecture: a Keras 3 interpreter of core's :class:`~ptychopinn.architecture.Graph`.

:func:`build_network` turns ``architecture_graph(config)`` into a Keras model that runs the
graph channels-last: network-unit amplitudes ``(B, N, N, C)`` float32 -> ``amp`` and ``phase``
``(B, N, N, C_out)`` float32. Every op has the semantics of :mod:`ptychopinn.architecture.graph`
(symmetric zero padding also for stride 2, torch ``pixel_shuffle`` channel order, channel
slices and concatenation on the last axis); :func:`ptychopinn.architecture.reference_predict`
is the numpy reference it must match. The nodes after the last convolution (the heads'
activations, padding, masks) run in float32 under a mixed-precision policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ptychopinn.architecture import Graph, Node, architecture_graph, init_weights
from ptychopinn.config import ModelConfig

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.weights import load_network_weights

tf, keras = tf_keras()

__all__ = ["GraphNetwork", "build_network", "layer_name"]


def layer_name(canonical: str) -> str:
    """Keras layer name of a conv node: ``encoder.0.conv0`` -> ``encoder_0_conv0``."""
    return canonical.replace(".", "_")


def _conv_layer(node: Node, dtype: str) -> Any:
    common: dict[str, Any] = {"strides": node.stride, "use_bias": True, "name": layer_name(node.name), "dtype": dtype}
    # stride 1, odd kernel: Keras "same" is the symmetric (k - 1) // 2 padding; stride 2 pads explicitly
    common["padding"] = "same" if node.stride == 1 else "valid"
    if node.groups == 1:
        return keras.layers.Conv2D(node.out_channels, node.kernel, **common)
    if node.groups == node.in_channels == node.out_channels:
        return keras.layers.DepthwiseConv2D(node.kernel, **common)
    raise ValueError(f"conv {node.name}: groups={node.groups} is neither 1 nor depthwise")


def _activate(x: Any, kind: str) -> Any:
    if kind == "relu":
        return tf.nn.relu(x)
    if kind == "silu":
        return x * tf.sigmoid(x)
    if kind == "sigmoid":
        return tf.sigmoid(x)
    if kind == "softplus":
        return tf.nn.softplus(x)
    if kind == "pi_tanh":
        return math.pi * tf.tanh(x)
    if kind == "identity":
        return x
    raise ValueError(f"unknown activation {kind!r}")


def _space_to_depth(x: Any, shape: tuple[int, int, int]) -> Any:
    """(B, H, W, C) -> (B, H/2, W/2, 4C); channel ``c * 4 + i * 2 + j`` = pixel ``(2h + i, 2w + j)``."""
    C, H, W = shape
    y = tf.reshape(x, (-1, H // 2, 2, W // 2, 2, C))  # b, h, i, w, j, c
    y = tf.transpose(y, (0, 1, 3, 5, 2, 4))  # b, h, w, c, i, j
    return tf.reshape(y, (-1, H // 2, W // 2, 4 * C))


def _depth_to_space(x: Any, shape: tuple[int, int, int]) -> Any:
    """(B, H, W, 4C) -> (B, 2H, 2W, C), the inverse of :func:`_space_to_depth` (not ``tf.nn.depth_to_space``)."""
    C4, H, W = shape
    y = tf.reshape(x, (-1, H, W, C4 // 4, 2, 2))  # b, h, w, c, i, j
    y = tf.transpose(y, (0, 1, 4, 2, 5, 3))  # b, h, i, w, j, c
    return tf.reshape(y, (-1, 2 * H, 2 * W, C4 // 4))


def _upsample(x: Any, shape: tuple[int, int, int]) -> Any:
    """x2 nearest neighbour: (B, H, W, C) -> (B, 2H, 2W, C) by one broadcast."""
    C, H, W = shape
    y = tf.broadcast_to(tf.reshape(x, (-1, H, 1, W, 1, C)), (tf.shape(x)[0], H, 2, W, 2, C))
    return tf.reshape(y, (-1, 2 * H, 2 * W, C))


def _float32_tail(graph: Graph) -> frozenset[str]:
    """Outputs of nodes that feed no convolution (the heads' tails): computed in float32."""
    feeds_conv: set[str] = set()
    for node in reversed(graph.nodes):
        if node.op == "conv" or node.output in feeds_conv:
            feeds_conv.update(node.inputs)
    return frozenset(n.output for n in graph.nodes if n.output not in feeds_conv)


def _splits(graph: Graph) -> dict[str, list[int]]:
    """Tensors whose ``slice`` nodes cut disjoint channel ranges: split points (one ``tf.split``
    per tensor, whose gradient is one concatenation instead of a zero-filled ``StridedSliceGrad``
    per slice)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for node in graph.nodes:
        if node.op == "slice":
            ranges.setdefault(node.inputs[0], []).append((node.start, node.stop))
    out = {}
    for name, rs in ranges.items():
        rs = sorted(set(rs))
        if all(a[1] <= b[0] for a, b in zip(rs, rs[1:], strict=False)):
            out[name] = sorted({0, graph.shapes[name][0], *(p for r in rs for p in r)})
    return out


class GraphNetwork(keras.Model):
    """The Keras network of one :class:`~ptychopinn.architecture.Graph` (see :func:`build_network`).

    Parameters
    ----------
    config : ModelConfig
    dtype_policy : str
        Keras dtype policy of the layers.
    graph : Graph, optional
        Another graph to interpret (tests of the interpreter); default ``architecture_graph(config)``.

    Attributes
    ----------
    model_config : ModelConfig
    graph : Graph
    log_scale : keras.Variable
        ``physics.log_scale`` (), float32; trainable when ``config.intensity_scale_trainable``.
        Not used by :meth:`call`: the physics (:mod:`ptychopinn_tf.training_model`) applies it.
    """

    def __init__(self, config: ModelConfig, *, dtype_policy: str = "float32", graph: Graph | None = None) -> None:
        super().__init__(name=f"network_{config.architecture}", dtype=dtype_policy)
        self.model_config = config
        self.graph = architecture_graph(config) if graph is None else graph
        self.conv_names = tuple(node.name for node in self.graph.convs())
        self.conv_layers = [_conv_layer(node, dtype_policy) for node in self.graph.convs()]
        self._conv_index = {name: i for i, name in enumerate(self.conv_names)}
        self._tail = _float32_tail(self.graph)
        self._splits = _splits(self.graph)
        self._masks = {k: tf.constant(v[None, :, :, None], tf.float32) for k, v in self.graph.constants.items()}
        self.log_scale = self.add_weight(
            shape=(), initializer="zeros", trainable=config.intensity_scale_trainable, name="log_scale", dtype="float32"
        )

    def named_convs(self) -> list[tuple[str, Any]]:
        """(canonical prefix, Keras conv layer) for every conv node, in graph order."""
        return list(zip(self.conv_names, self.conv_layers, strict=True))

    def _node(self, node: Node, args: list[Any], cache: dict[str, list[Any]]) -> Any:
        x = args[0]
        shape = self.graph.shapes[node.inputs[0]]
        op = node.op
        if op == "conv":
            if node.stride == 2 and node.kernel > 1:
                p = (node.kernel - 1) // 2
                x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
            return self.conv_layers[self._conv_index[node.name]](x)
        if op == "act":
            return _activate(x, node.kind)
        if op == "maxpool":
            return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
        if op == "upsample":
            return _upsample(x, shape)
        if op == "space_to_depth":
            return _space_to_depth(x, shape)
        if op == "depth_to_space":
            return _depth_to_space(x, shape)
        if op == "slice":
            points = self._splits.get(node.inputs[0])
            if points is None:
                return x[..., node.start : node.stop]
            if node.inputs[0] not in cache:
                cache[node.inputs[0]] = tf.split(x, [b - a for a, b in zip(points, points[1:], strict=False)], axis=-1)
            return cache[node.inputs[0]][points.index(node.start)]
        if op == "pad":
            a = node.amount
            return tf.pad(x, [[0, 0], [a, a], [a, a], [0, 0]])
        if op == "mask":
            return x * self._masks[node.constant]
        if op == "add":
            return x + args[1]
        if op == "concat":
            return tf.concat(args, axis=-1)
        raise ValueError(f"unknown op {op!r}")

    def call(self, x: Any, training: bool = False) -> tuple[Any, Any]:
        """``x`` (B, N, N, C) float32 -> ``(amp, phase)``, each (B, N, N, C_out) float32."""
        tensors: dict[str, Any] = {self.graph.input: x}
        cache: dict[str, list[Any]] = {}
        compute = self.compute_dtype
        for node in self.graph.nodes:
            args = [tensors[name] for name in node.inputs]
            if node.output in self._tail:
                args = [tf.cast(a, tf.float32) for a in args]
            elif node.op in ("add", "concat"):
                args = [tf.cast(a, compute) for a in args]
            tensors[node.output] = self._node(node, args, cache)
        return tf.cast(tensors[self.graph.amp], tf.float32), tf.cast(tensors[self.graph.phase], tf.float32)

    def build_variables(self) -> None:
        """Create every variable from the graph's shapes (no forward pass)."""
        for node, layer in zip(self.graph.convs(), self.conv_layers, strict=True):
            c, h, w = self.graph.shapes[node.inputs[0]]
            layer.build((None, h, w, c))
        self.built = True


def build_network(
    config: ModelConfig,
    *,
    seed: int = 0,
    weights: Mapping[str, np.ndarray] | None = None,
    dtype_policy: str = "float32",
) -> GraphNetwork:
    """The Keras network of ``config``'s architecture, initialised like every backend.

    Parameters
    ----------
    config : ModelConfig
        ``config.architecture`` selects the graph (:func:`ptychopinn.architecture.architecture_graph`).
    seed : int
        Seed of core's :func:`~ptychopinn.architecture.init_weights` (Glorot-uniform kernels,
        zero biases, ``physics.log_scale`` 0): the same seed gives the same start on every backend.
    weights : mapping, optional
        Canonical weights to load instead (see :func:`ptychopinn_tf.weights.load_network_weights`).
    dtype_policy : str
        Keras dtype policy of the layers (``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"``);
        ``amp`` and ``phase`` are float32 whatever the policy.

    Returns
    -------
    GraphNetwork
        Built (every variable exists), called as ``net(x)`` with ``x`` (B, N, N, C) float32.
    """
    net = GraphNetwork(config, dtype_policy=dtype_policy)
    net.build_variables()
    load_network_weights(net, init_weights(config, seed=seed) if weights is None else weights)
    return net
