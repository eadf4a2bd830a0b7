"""The numpy reference interpreter of an architecture graph (what every backend must match).

Float32 throughout, channels-first. Convolutions are an im2col + matrix product, so a batch
of a few patterns runs in well under a second; it is the reference for backend predictors
(conformance kit) and the network of the numpy fixture backend, not a production path.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ptychopinn.architecture.graph import Graph, Node
from ptychopinn.architecture.spec import architecture_graph
from ptychopinn.config.model import ModelConfig

__all__ = ["reference_predict", "run_graph"]


def _conv(x: np.ndarray, node: Node, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    w = np.asarray(weights[f"{node.name}.weight"], dtype=np.float32)
    b = np.asarray(weights[f"{node.name}.bias"], dtype=np.float32)
    k, s, p = node.kernel, node.stride, (node.kernel - 1) // 2
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]  # (B, C, OH, OW, k, k)
    if node.groups == 1:
        out = np.einsum("bchwij,ocij->bohw", cols, w, optimize=True)
    else:  # depthwise: w (C, 1, k, k)
        out = np.einsum("bchwij,cij->bchw", cols, w[:, 0], optimize=True)
    return (out + b[None, :, None, None]).astype(np.float32)


def _act(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "sigmoid":
        return (1 / (1 + np.exp(-x))).astype(np.float32)
    if kind == "silu":
        return (x / (1 + np.exp(-x))).astype(np.float32)
    if kind == "softplus":
        return np.logaddexp(0, x).astype(np.float32)
    if kind == "pi_tanh":
        return (np.pi * np.tanh(x)).astype(np.float32)
    return x


def _space_to_depth(x: np.ndarray) -> np.ndarray:
    B, C, H, W = x.shape
    y = x.reshape(B, C, H // 2, 2, W // 2, 2).transpose(0, 1, 3, 5, 2, 4)
    return np.ascontiguousarray(y.reshape(B, 4 * C, H // 2, W // 2))


def _depth_to_space(x: np.ndarray) -> np.ndarray:
    B, C4, H, W = x.shape
    y = x.reshape(B, C4 // 4, 2, 2, H, W).transpose(0, 1, 4, 2, 5, 3)
    return np.ascontiguousarray(y.reshape(B, C4 // 4, 2 * H, 2 * W))


def _run(node: Node, args: list[np.ndarray], graph: Graph, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    x = args[0]
    if node.op == "conv":
        return _conv(x, node, weights)
    if node.op == "act":
        return _act(x, node.kind)
    if node.op == "maxpool":
        B, C, H, W = x.shape
        return x[:, :, : H // 2 * 2, : W // 2 * 2].reshape(B, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    if node.op == "upsample":
        return x.repeat(2, axis=2).repeat(2, axis=3)
    if node.op == "space_to_depth":
        return _space_to_depth(x)
    if node.op == "depth_to_space":
        return _depth_to_space(x)
    if node.op == "slice":
        return x[:, node.start : node.stop]
    if node.op == "pad":
        a = node.amount
        return np.pad(x, ((0, 0), (0, 0), (a, a), (a, a)))
    if node.op == "mask":
        return x * graph.constants[node.constant][None, None]
    if node.op == "add":
        return x + args[1]
    if node.op == "concat":
        return np.concatenate(args, axis=1)
    raise ValueError(f"unknown op {node.op!r}")


def run_graph(graph: Graph, weights: Mapping[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``graph`` on ``x`` ``(B, C, N, N)`` float32; returns ``(amp, phase)`` float32."""
    tensors: dict[str, np.ndarray] = {graph.input: np.asarray(x, dtype=np.float32)}
    last_use = {name: i for i, node in enumerate(graph.nodes) for name in node.inputs}
    keep = {graph.amp, graph.phase}
    for i, node in enumerate(graph.nodes):
        tensors[node.output] = _run(node, [tensors[name] for name in node.inputs], graph, weights)
        for name in node.inputs:  # free intermediates early (memory ~ the widest layer)
            if last_use[name] == i and name not in keep:
                tensors.pop(name, None)
    return tensors[graph.amp], tensors[graph.phase]


def reference_predict(config: ModelConfig, weights: Mapping[str, np.ndarray], diffraction: np.ndarray) -> np.ndarray:
    """The network of ``config`` on numpy: ``(B, C, N, N)`` float32 network-unit amplitudes ->
    ``(B, C_out, N, N)`` complex64 object patches ``amp * exp(i * phase)`` (before the physics)."""
    amp, phase = run_graph(architecture_graph(config), weights, diffraction)
    return (amp * np.cos(phase) + 1j * (amp * np.sin(phase))).astype(np.complex64)
