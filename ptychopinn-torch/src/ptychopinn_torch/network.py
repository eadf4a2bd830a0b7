"""The network of any architecture: a torch interpreter of core's graph (``docs/architecture-model.md``).

:func:`ptychopinn.architecture.architecture_graph` describes the network as a list of 11 kinds
of operations on named tensors; :class:`GraphNetwork` builds one ``nn.Conv2d`` per ``conv``
node and runs the nodes in order. The convolutions are nested in ``nn.ModuleDict`` s by the
dots of their canonical names, so ``state_dict()`` keys *are* the canonical weight names
(``encoder.0.conv0.weight`` ...) and torch's ``(out, in / groups, kh, kw)`` kernels *are* the
canonical OIHW layout; ``physics.log_scale`` lives in :class:`PhysicsScale`. Parameters and
activations are kept channels-last (NHWC), the layout oneDNN (CPU) and cuDNN run without copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ptychopinn.architecture import OPS, Graph, Node, architecture_graph, init_weights
from ptychopinn.config import ModelConfig

__all__ = ["GraphNetwork", "PhysicsScale", "build_network"]

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "silu": F.silu,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
    "pi_tanh": lambda x: math.pi * torch.tanh(x),
    "identity": lambda x: x,
}


class PhysicsScale(nn.Module):
    """Holds ``physics.log_scale``: the scalar w, predicted amplitude x exp(w)."""

    def __init__(self, trainable: bool) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(()), requires_grad=trainable)


def _conv_module(node: Node) -> nn.Conv2d:
    """The ``nn.Conv2d`` of a ``conv`` node: symmetric zero padding ``(k - 1) // 2``, bias."""
    return nn.Conv2d(
        node.in_channels,
        node.out_channels,
        node.kernel,
        stride=node.stride,
        padding=(node.kernel - 1) // 2,
        groups=node.groups,
        bias=True,
    )


class GraphNetwork(nn.Module):
    """The network a :class:`~ptychopinn.architecture.Graph` describes.

    ``forward`` maps diffraction amplitudes in network units ``(B, C, N, N)`` float to the
    complex object patches ``amp * exp(i * phase)`` ``(B, C_out, N, N)`` complex64 (before
    the physics), exactly as :func:`ptychopinn.architecture.run_graph` does in numpy.

    Parameters
    ----------
    graph : Graph
        The architecture (every op of :data:`ptychopinn.architecture.OPS` is supported).
    log_scale_trainable : bool
        Whether ``physics.log_scale`` is a trainable parameter.
    """

    def __init__(self, graph: Graph, *, log_scale_trainable: bool = False) -> None:
        super().__init__()
        self.graph = graph
        unknown = sorted({node.op for node in graph.nodes} - set(OPS))
        if unknown:
            raise ValueError(f"the architecture graph uses unknown op(s) {unknown}; this backend knows {list(OPS)}")
        self.convs: dict[str, nn.Conv2d] = {}
        for node in graph.convs():
            self._place(node.name, _conv_module(node))
        self.physics = PhysicsScale(log_scale_trainable)
        for key, values in graph.constants.items():  # mask maps: not weights, not in state_dict()
            self.register_buffer(f"constant_{key}", torch.from_numpy(np.asarray(values, np.float32)), persistent=False)
        last_use = {name: i for i, node in enumerate(graph.nodes) for name in node.inputs}
        keep = {graph.amp, graph.phase}
        self._free = [
            tuple(name for name in node.inputs if last_use[name] == i and name not in keep)
            for i, node in enumerate(graph.nodes)
        ]
        self.to(memory_format=torch.channels_last)

    def _place(self, name: str, conv: nn.Conv2d) -> None:
        """Nest ``conv`` under ``ModuleDict`` s along the dots of ``name`` (state_dict key = name)."""
        *path, leaf = name.split(".")
        parent: nn.Module = self
        for part in path:
            child = parent._modules.get(part)
            if child is None:
                child = nn.ModuleDict()
                parent.add_module(part, child)
            elif not isinstance(child, nn.ModuleDict):
                raise ValueError(f"conv {name!r}: {part!r} is already a convolution, not a group of them")
            parent = child
        if leaf in parent._modules or (parent is self and leaf in ("physics", "graph", "convs")):
            raise ValueError(f"conv {name!r} is defined twice or clashes with another name")
        parent.add_module(leaf, conv)
        self.convs[name] = conv

    def _run(self, node: Node, args: list[torch.Tensor]) -> torch.Tensor:
        x = args[0]
        op = node.op
        if op == "conv":
            return self.convs[node.name](x)
        if op == "act":
            return _ACTIVATIONS[node.kind](x)
        if op == "maxpool":
            return F.max_pool2d(x, 2)
        if op == "upsample":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if op == "space_to_depth":
            return F.pixel_unshuffle(x, 2)
        if op == "depth_to_space":
            return F.pixel_shuffle(x, 2)
        if op == "slice":
            return x[:, node.start : node.stop]
        if op == "pad":
            a = node.amount
            return F.pad(x, (a, a, a, a))
        if op == "mask":
            return x * getattr(self, f"constant_{node.constant}")
        if op == "add":
            return x + args[1]
        return torch.cat(args, dim=1)  # concat (ops were checked in __init__)

    def amplitude_and_phase(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The graph's two outputs, ``(B, C_out, N, N)`` each, in the compute dtype."""
        tensors: dict[str, torch.Tensor] = {self.graph.input: x.contiguous(memory_format=torch.channels_last)}
        for node, free in zip(self.graph.nodes, self._free):
            tensors[node.output] = self._run(node, [tensors[name] for name in node.inputs])
            for name in free:  # drop intermediates at their last use (inference memory ~ widest layer)
                del tensors[name]
        return tensors[self.graph.amp], tensors[self.graph.phase]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Diffraction (B, C, N, N) float, network units -> object patches (B, C_out, N, N) complex64."""
        amp, phase = self.amplitude_and_phase(x)
        amp, phase = amp.float(), phase.float()
        return torch.complex(amp * torch.cos(phase), amp * torch.sin(phase))


def build_network(
    config: ModelConfig, *, seed: int = 0, weights: Mapping[str, np.ndarray] | None = None
) -> GraphNetwork:
    """The network of ``config`` (any architecture) on the CPU, channels-last, in training mode.

    Parameters
    ----------
    config : ModelConfig
        Architecture (``config.architecture``) and sizes; ``physics.log_scale`` is trainable iff
        ``config.intensity_scale_trainable``.
    seed : int
        Seed of core's initialisation (:func:`ptychopinn.architecture.init_weights`: Glorot-uniform
        kernels, zero biases, w = 0), so every backend starts from the same weights.
    weights : mapping, optional
        Canonical weights to load instead (validated by core beforehand; see
        :func:`ptychopinn_torch.weights.load_network_weights`).
    """
    from ptychopinn_torch.weights import load_network_weights

    net = GraphNetwork(architecture_graph(config), log_scale_trainable=config.intensity_scale_trainable)
    load_network_weights(net, init_weights(config, seed=seed) if weights is None else weights)
    return net
