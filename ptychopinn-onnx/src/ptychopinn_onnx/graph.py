"""The architecture graph of core as an ONNX model (one generic translator for every architecture).

:func:`graph_to_onnx` interprets a :class:`ptychopinn.architecture.Graph` node by node, with
the exact semantics documented in :mod:`ptychopinn.architecture.graph` (what
:func:`ptychopinn.architecture.run_graph` computes), and stores the canonical weights as
initializers under their canonical names (``encoder.0.conv0.weight`` ...). The model is the
physics-free inference network: input ``diffraction`` ``(batch, C, N, N)`` float32 in network
units, outputs ``amplitude`` and ``phase`` ``(batch, C_out, N, N)`` float32 and, on request,
``object_real`` / ``object_imag`` = amplitude x cos / sin(phase) (ONNX has no complex type).

=================== ==========================================================================
graph op            ONNX
=================== ==========================================================================
``conv``            ``Conv`` (``pads = [p, p, p, p]``, ``p = (k - 1) // 2``, ``strides``, ``group``)
``act``             ``Relu``, ``Sigmoid``, ``Softplus``, ``x * Sigmoid(x)`` (silu),
                    ``pi * Tanh`` (pi_tanh), ``Identity``
``maxpool``         ``MaxPool`` 2 x 2, stride 2, floor
``upsample``        ``Resize`` nearest x2 (``asymmetric`` + ``floor``: pixel ``i`` <- ``i // 2``)
``space_to_depth``  ``Reshape`` / ``Transpose`` / ``Reshape`` (torch ``pixel_unshuffle`` order;
                    ONNX ``SpaceToDepth`` only has the DCR order)
``depth_to_space``  ``DepthToSpace`` mode ``CRD`` (= torch ``pixel_shuffle``)
``slice``           ``Slice`` on axis 1
``pad``             ``Pad`` constant 0 on both spatial axes
``mask``            ``Mul`` by a ``(1, 1, H, W)`` initializer
``add``, ``concat`` ``Add``, ``Concat`` on axis 1
=================== ==========================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ptychopinn.architecture import Graph, Node, architecture_graph
from ptychopinn.config import ModelConfig
from ptychopinn_onnx._version import __version__
from ptychopinn_onnx.options import MIN_OPSET

__all__ = [
    "AMPLITUDE",
    "INPUT",
    "OBJECT_IMAG",
    "OBJECT_REAL",
    "PHASE",
    "build_model",
    "graph_to_onnx",
]

INPUT = "diffraction"
"""Input name: ``(batch, C, N, N)`` float32 diffraction amplitudes in network units."""
AMPLITUDE = "amplitude"
"""Output name: ``(batch, C_out, N, N)`` float32 object amplitude (activation applied)."""
PHASE = "phase"
"""Output name: ``(batch, C_out, N, N)`` float32 object phase in radians."""
OBJECT_REAL = "object_real"
"""Optional output: amplitude x cos(phase)."""
OBJECT_IMAG = "object_imag"
"""Optional output: amplitude x sin(phase)."""

_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "softplus": "Softplus", "identity": "Identity"}


class _Emitter:
    """Collects ONNX nodes and initializers while the graph is translated."""

    def __init__(self, graph: Graph, weights: Mapping[str, np.ndarray]) -> None:
        self.graph = graph
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}

    def const(self, name: str, array: np.ndarray) -> str:
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name=name)
        return name

    def ints(self, name: str, values: list[int]) -> str:
        return self.const(name, np.asarray(values, dtype=np.int64))

    def emit(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"{op}:{output}", **attrs))
        return output

    def weight(self, name: str) -> str:
        return self.const(name, np.asarray(self.weights[name], dtype=np.float32))

    def node(self, node: Node, args: list[str]) -> None:
        x, out = args[0], node.output
        if node.op == "conv":
            p, k, s = (node.kernel - 1) // 2, node.kernel, node.stride
            kernel, bias = self.weight(f"{node.name}.weight"), self.weight(f"{node.name}.bias")
            attrs = {"kernel_shape": [k, k], "pads": [p, p, p, p], "strides": [s, s], "group": node.groups}
            self.emit("Conv", [x, kernel, bias], out, **attrs)
        elif node.op == "act":
            self.activation(node.kind, x, out)
        elif node.op == "maxpool":
            self.emit("MaxPool", [x], out, kernel_shape=[2, 2], strides=[2, 2])
        elif node.op == "upsample":
            scales = self.const("const.upsample_scales", np.asarray([1, 1, 2, 2], dtype=np.float32))
            self.emit(
                "Resize",
                [x, "", scales],
                out,
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
        elif node.op == "space_to_depth":
            c, h, w = self.graph.shapes[node.inputs[0]]
            split = self.emit("Reshape", [x, self.ints(f"{out}.split", [-1, c, h // 2, 2, w // 2, 2])], f"{out}.6d")
            moved = self.emit("Transpose", [split], f"{out}.moved", perm=[0, 1, 3, 5, 2, 4])
            self.emit("Reshape", [moved, self.ints(f"{out}.shape", [-1, 4 * c, h // 2, w // 2])], out)
        elif node.op == "depth_to_space":
            self.emit("DepthToSpace", [x], out, blocksize=2, mode="CRD")
        elif node.op == "slice":
            starts, ends = self.ints(f"{out}.start", [node.start]), self.ints(f"{out}.stop", [node.stop])
            self.emit("Slice", [x, starts, ends, self.ints("const.axis1", [1])], out)
        elif node.op == "pad":
            a = node.amount
            self.emit("Pad", [x, self.ints(f"{out}.pads", [0, 0, a, a, 0, 0, a, a])], out, mode="constant")
        elif node.op == "mask":
            values = np.asarray(self.graph.constants[node.constant], dtype=np.float32)[None, None]
            self.emit("Mul", [x, self.const(f"constant.{node.constant}", values)], out)
        elif node.op == "add":
            self.emit("Add", args, out)
        elif node.op == "concat":
            self.emit("Concat", args, out, axis=1)
        else:
            raise ValueError(f"the ONNX translator does not know graph op {node.op!r}")

    def activation(self, kind: str, x: str, out: str) -> None:
        if kind in _ACTIVATIONS:
            self.emit(_ACTIVATIONS[kind], [x], out)
        elif kind == "silu":
            self.emit("Mul", [x, self.emit("Sigmoid", [x], f"{out}.sigmoid")], out)
        elif kind == "pi_tanh":
            pi = self.const("const.pi", np.asarray(math.pi, dtype=np.float32))
            self.emit("Mul", [self.emit("Tanh", [x], f"{out}.tanh"), pi], out)
        else:
            raise ValueError(f"the ONNX translator does not know activation {kind!r}")


def graph_to_onnx(
    graph: Graph,
    weights: Mapping[str, np.ndarray],
    *,
    opset: int = MIN_OPSET,
    complex_outputs: bool = False,
    name: str = "ptychopinn",
) -> onnx.ModelProto:
    """Translate ``graph`` with ``weights`` into an ONNX model (checked with ``onnx.checker``).

    Parameters
    ----------
    graph : Graph
        Any graph of :mod:`ptychopinn.architecture` (input ``(C, N, N)`` per sample).
    weights : mapping
        Canonical name -> float array; every conv node needs ``{name}.weight`` ``(O, I/groups, k, k)``
        and ``{name}.bias`` ``(O,)`` (other entries, e.g. ``physics.log_scale``, are ignored).
    opset : int
        ONNX opset (>= 17).
    complex_outputs : bool
        Also output ``object_real`` and ``object_imag``.
    name : str
        Graph name.

    Returns
    -------
    onnx.ModelProto
        Input :data:`INPUT`, outputs :data:`AMPLITUDE`, :data:`PHASE` (and the complex parts).
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    emitter = _Emitter(graph, weights)
    rename = {graph.input: INPUT}
    for node in graph.nodes:
        emitter.node(node, [rename.get(t, t) for t in node.inputs])
    amp = emitter.emit("Identity", [graph.amp], AMPLITUDE)
    phase = emitter.emit("Identity", [graph.phase], PHASE)
    c_in, n_in, _ = graph.shapes[graph.input]
    c_out, n_out, _ = graph.shapes[graph.amp]
    out_names = [amp, phase]
    if complex_outputs:
        emitter.emit("Mul", [amp, emitter.emit("Cos", [phase], "phase.cos")], OBJECT_REAL)
        emitter.emit("Mul", [amp, emitter.emit("Sin", [phase], "phase.sin")], OBJECT_IMAG)
        out_names += [OBJECT_REAL, OBJECT_IMAG]
    body = helper.make_graph(
        emitter.nodes,
        name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", c_in, n_in, n_in])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", c_out, n_out, n_out]) for o in out_names],
        initializer=list(emitter.initializers.values()),
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        body,
        opset_imports=opsets,
        producer_name="ptychopinn-onnx",
        producer_version=__version__,
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def build_model(
    config: ModelConfig,
    weights: Mapping[str, np.ndarray],
    *,
    opset: int = MIN_OPSET,
    complex_outputs: bool = False,
) -> onnx.ModelProto:
    """The network of ``config`` (``architecture_graph(config)``) with ``weights`` as an ONNX model.

    See :func:`graph_to_onnx`; the graph is named after the architecture.
    """
    return graph_to_onnx(
        architecture_graph(config),
        weights,
        opset=opset,
        complex_outputs=complex_outputs,
        name=f"ptychopinn_{config.architecture}_N{config.N}_gridsize{config.gridsize}",
    )
