"""A framework-neutral description of the network: a list of operations on named tensors.

Core owns the architecture (``docs/architecture-model.md``): every backend interprets the
same :class:`Graph`, so the canonical weight names and shapes, the FLOP count and the numpy
reference (:mod:`ptychopinn.architecture.reference`) come from one place. Tensors are
channels-first ``(B, C, H, W)``; the batch axis is implicit in the shapes recorded here.

Operations (``Node.op``), their attributes and semantics — an interpreter implements all of them:

``conv``
    2-D convolution: kernel ``k`` (1 or 3), ``stride`` (1 or 2), zero padding ``(k - 1) // 2`` on
    every side (symmetric, also for stride 2: output ``floor((H + 2p - k) / s) + 1``), ``groups``
    (1, or the input channels for a depthwise convolution), always with bias. Weights
    ``{name}.weight`` ``(out, in / groups, k, k)`` and ``{name}.bias`` ``(out,)``.
``act``
    Element-wise activation ``kind``: ``relu``, ``silu`` (x * sigmoid(x)), ``sigmoid``,
    ``softplus``, ``pi_tanh`` (pi * tanh(x)), ``identity``.
``maxpool``
    2 x 2 max pooling, stride 2 (floor).
``upsample``
    x2 nearest-neighbour upsampling.
``space_to_depth`` / ``depth_to_space``
    Factor-2 rearrangements with torch's ``pixel_unshuffle`` / ``pixel_shuffle`` channel order
    (ONNX ``DepthToSpace`` mode ``CRD``): channel ``c * 4 + i * 2 + j`` <-> pixel ``(2h + i, 2w + j)``
    of channel ``c``.
``slice``
    Channels ``[start, stop)``.
``pad``
    Zero padding by ``amount`` pixels on every spatial side.
``mask``
    Multiply by the constant ``(H, W)`` map ``Graph.constants[constant]``.
``add``
    Element-wise sum of the two inputs.
``concat``
    Concatenation of the inputs along channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ACTIVATIONS", "OPS", "Graph", "GraphBuilder", "Node"]

OPS: tuple[str, ...] = (
    "conv",
    "act",
    "maxpool",
    "upsample",
    "space_to_depth",
    "depth_to_space",
    "slice",
    "pad",
    "mask",
    "add",
    "concat",
)
ACTIVATIONS: tuple[str, ...] = ("relu", "silu", "sigmoid", "softplus", "pi_tanh", "identity")


@dataclass(frozen=True, kw_only=True)
class Node:
    """One operation: ``output = op(*inputs)``."""

    op: str
    """One of :data:`OPS`."""

    inputs: tuple[str, ...]
    """Names of the input tensors."""

    output: str
    """Name of the tensor it produces (unique in the graph)."""

    name: str = ""
    """``conv``: the canonical weight prefix (``encoder.0.conv0``)."""

    in_channels: int = 0
    """``conv``: input channels."""

    out_channels: int = 0
    """``conv``: output channels."""

    kernel: int = 3
    """``conv``: kernel side (1 or 3)."""

    stride: int = 1
    """``conv``: stride (1 or 2)."""

    groups: int = 1
    """``conv``: 1, or ``in_channels`` (depthwise)."""

    kind: str = ""
    """``act``: one of :data:`ACTIVATIONS`."""

    start: int = 0
    """``slice``: first channel."""

    stop: int = 0
    """``slice``: one past the last channel."""

    amount: int = 0
    """``pad``: pixels added on every spatial side."""

    constant: str = ""
    """``mask``: key in :attr:`Graph.constants`."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Graph:
    """A network: input ``x`` ``(B, C, N, N)``; outputs ``amp`` and ``phase`` ``(B, C_out, N, N)``.

    The object patches are ``amp * exp(i * phase)`` (computed in float32 by the interpreter).
    """

    nodes: tuple[Node, ...]
    """Operations in execution order."""

    input: str
    """Name of the input tensor."""

    amp: str
    """Name of the amplitude output (activation already applied)."""

    phase: str
    """Name of the phase output (radians, activation already applied)."""

    shapes: dict[str, tuple[int, int, int]]
    """Tensor name -> ``(C, H, W)`` (batch axis omitted)."""

    constants: dict[str, np.ndarray] = field(default_factory=dict)
    """Constant float32 ``(H, W)`` maps used by ``mask`` nodes."""

    def convs(self) -> list[Node]:
        """The ``conv`` nodes, in order."""
        return [node for node in self.nodes if node.op == "conv"]


class GraphBuilder:
    """Builds a :class:`Graph` while tracking shapes (so weight shapes and costs follow).

    Every method takes input tensor name(s) and returns the output tensor name.
    """

    def __init__(self, channels: int, size: int) -> None:
        self.nodes: list[Node] = []
        self.shapes: dict[str, tuple[int, int, int]] = {"x": (channels, size, size)}
        self.constants: dict[str, np.ndarray] = {}
        self._count = 0

    def _new(self, op: str, inputs: tuple[str, ...], shape: tuple[int, int, int], **attrs: object) -> str:
        self._count += 1
        out = f"t{self._count}"
        self.nodes.append(Node(op=op, inputs=inputs, output=out, **attrs))  # type: ignore[arg-type]
        self.shapes[out] = shape
        return out

    def conv(
        self, x: str, name: str, out_channels: int, *, kernel: int = 3, stride: int = 1, depthwise: bool = False
    ) -> str:
        c, h, w = self.shapes[x]
        if kernel not in (1, 3) or stride not in (1, 2):
            raise ValueError(f"conv {name}: kernel must be 1 or 3 and stride 1 or 2, got {kernel}, {stride}")
        groups = c if depthwise else 1
        if depthwise and out_channels != c:
            raise ValueError(f"conv {name}: a depthwise convolution keeps the channels ({c}), got {out_channels}")
        pad = (kernel - 1) // 2
        oh, ow = (h + 2 * pad - kernel) // stride + 1, (w + 2 * pad - kernel) // stride + 1
        return self._new(
            "conv",
            (x,),
            (out_channels, oh, ow),
            name=name,
            in_channels=c,
            out_channels=out_channels,
            kernel=kernel,
            stride=stride,
            groups=groups,
        )

    def act(self, x: str, kind: str) -> str:
        if kind not in ACTIVATIONS:
            raise ValueError(f"unknown activation {kind!r}; expected one of {', '.join(ACTIVATIONS)}")
        return self._new("act", (x,), self.shapes[x], kind=kind)

    def maxpool(self, x: str) -> str:
        c, h, w = self.shapes[x]
        return self._new("maxpool", (x,), (c, h // 2, w // 2))

    def upsample(self, x: str) -> str:
        c, h, w = self.shapes[x]
        return self._new("upsample", (x,), (c, 2 * h, 2 * w))

    def space_to_depth(self, x: str) -> str:
        c, h, w = self.shapes[x]
        return self._new("space_to_depth", (x,), (4 * c, h // 2, w // 2))

    def depth_to_space(self, x: str) -> str:
        c, h, w = self.shapes[x]
        if c % 4:
            raise ValueError(f"depth_to_space needs a multiple of 4 channels, got {c}")
        return self._new("depth_to_space", (x,), (c // 4, 2 * h, 2 * w))

    def slice(self, x: str, start: int, stop: int) -> str:
        _, h, w = self.shapes[x]
        return self._new("slice", (x,), (stop - start, h, w), start=start, stop=stop)

    def pad(self, x: str, amount: int) -> str:
        c, h, w = self.shapes[x]
        return self._new("pad", (x,), (c, h + 2 * amount, w + 2 * amount), amount=amount)

    def mask(self, x: str, constant: str, values: np.ndarray) -> str:
        self.constants[constant] = np.asarray(values, dtype=np.float32)
        if self.constants[constant].shape != self.shapes[x][1:]:
            raise ValueError(f"mask {constant}: shape {self.constants[constant].shape} != {self.shapes[x][1:]}")
        return self._new("mask", (x,), self.shapes[x], constant=constant)

    def add(self, a: str, b: str) -> str:
        if self.shapes[a] != self.shapes[b]:
            raise ValueError(f"add: shapes {self.shapes[a]} and {self.shapes[b]} differ")
        return self._new("add", (a, b), self.shapes[a])

    def concat(self, *xs: str) -> str:
        _, h, w = self.shapes[xs[0]]
        return self._new("concat", tuple(xs), (sum(self.shapes[x][0] for x in xs), h, w))

    def build(self, amp: str, phase: str) -> Graph:
        return Graph(
            nodes=tuple(self.nodes),
            input="x",
            amp=amp,
            phase=phase,
            shapes=dict(self.shapes),
            constants=dict(self.constants),
        )
