"""The graph translator: every op of core's architecture graph, with the reference's exact semantics."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from ptychopinn.architecture import ACTIVATIONS, OPS, Graph, GraphBuilder, architecture_graph, run_graph
from ptychopinn.config import ModelConfig
from ptychopinn_onnx.graph import AMPLITUDE, INPUT, OBJECT_IMAG, OBJECT_REAL, PHASE, build_model, graph_to_onnx
from ptychopinn_onnx.predictor import create_session

from conftest import ONE_THREAD, random_weights


def coverage_graph() -> Graph:
    """A small graph that uses every op and every activation, with the corner cases that matter:
    a stride-2 convolution on an even size (symmetric padding), a depthwise and a 1x1
    convolution, pixel (un)shuffle round trips, a channel slice that is not at 0, an
    asymmetric mask."""
    g = GraphBuilder(2, 16)
    h1 = g.conv("x", "a", 8)  # 8 x 16 x 16
    h = g.act(h1, "silu")
    h = g.act(g.conv(h, "dw", 8, depthwise=True), "softplus")
    h = g.upsample(g.maxpool(h))  # 8 x 16 x 16
    h = g.conv(g.space_to_depth(h), "s2", 8, stride=2)  # 32 x 8 x 8 -> 8 x 4 x 4
    h = g.act(g.conv(h, "k1", 16, kernel=1), "relu")
    h = g.slice(g.depth_to_space(h), 1, 3)  # 2 x 8 x 8
    yy, xx = np.mgrid[0:16, 0:16]
    h = g.mask(g.pad(h, 4), "ramp", (0.5 + xx / 16 - yy / 32).astype(np.float32))  # 2 x 16 x 16
    h = g.add(h, g.act(g.slice(h1, 3, 5), "identity"))
    amp = g.act(h, "sigmoid")
    phase = g.act(g.concat(g.slice(h, 1, 2), g.slice(h1, 6, 7)), "pi_tanh")
    return g.build(amp, phase)


def graph_weights(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = {}
    for node in graph.convs():
        shape = (node.out_channels, node.in_channels // node.groups, node.kernel, node.kernel)
        std = 1.5 / np.sqrt(np.prod(shape[1:]))  # activations stay O(1): float32 error ~1e-7 relative
        weights[f"{node.name}.weight"] = rng.normal(0, std, shape).astype(np.float32)
        weights[f"{node.name}.bias"] = rng.normal(0, 0.2, node.out_channels).astype(np.float32)
    return weights


def run_onnx(model: onnx.ModelProto, x: np.ndarray, outputs: list[str]) -> list[np.ndarray]:
    session = create_session(model.SerializeToString(), ONE_THREAD)
    return session.run(outputs, {INPUT: x})


def test_coverage_graph_uses_every_op_and_activation() -> None:
    graph = coverage_graph()
    assert {node.op for node in graph.nodes} == set(OPS)
    assert {node.kind for node in graph.nodes if node.op == "act"} == set(ACTIVATIONS)


@pytest.mark.parametrize("level", ["disable", "all"])
def test_every_op_matches_the_reference(level: str) -> None:
    from dataclasses import replace

    graph, weights = coverage_graph(), graph_weights(coverage_graph())
    x = np.random.default_rng(1).normal(0, 1, (3, 2, 16, 16)).astype(np.float32)
    options = replace(ONE_THREAD, graph_optimization_level=level)
    session = create_session(graph_to_onnx(graph, weights).SerializeToString(), options)
    amp, phase = session.run([AMPLITUDE, PHASE], {INPUT: x})
    ref_amp, ref_phase = run_graph(graph, weights, x)
    assert amp.shape == ref_amp.shape == (3, 2, 16, 16)
    np.testing.assert_allclose(amp, ref_amp, rtol=0, atol=1e-5)
    np.testing.assert_allclose(phase, ref_phase, rtol=0, atol=1e-5)


def test_a_wrong_op_semantics_would_be_caught() -> None:
    """The comparison can fail: a TF-style asymmetric 'SAME' stride-2 pad differs from core's symmetric pad."""
    g = GraphBuilder(1, 8)
    out = g.conv("x", "s2", 1, stride=2)
    graph = g.build(out, out)
    weights = graph_weights(graph)
    model = graph_to_onnx(graph, weights)
    for node in model.graph.node:
        if node.op_type == "Conv":
            for attr in node.attribute:
                if attr.name == "pads":
                    attr.ints[:] = [0, 0, 2, 2]  # all padding at the end, same output size
    x = np.random.default_rng(2).normal(0, 1, (1, 1, 8, 8)).astype(np.float32)
    (amp,) = run_onnx(model, x, [AMPLITUDE])
    assert np.abs(amp - run_graph(graph, weights, x)[0]).max() > 1e-2


def test_model_interface(config: ModelConfig) -> None:
    weights = random_weights(config)
    model = build_model(config, weights, complex_outputs=True)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [INPUT]
    assert [o.name for o in model.graph.output] == [AMPLITUDE, PHASE, OBJECT_REAL, OBJECT_IMAG]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [config.channels, config.N, config.N]
    assert model.opset_import[0].version == 17
    conv_names = {f"{n.name}.weight" for n in architecture_graph(config).convs()}
    assert conv_names <= {init.name for init in model.graph.initializer}


def test_dynamic_batch_and_complex_outputs() -> None:
    config = ModelConfig(architecture="fast", gridsize=2)
    weights = random_weights(config)
    model = build_model(config, weights, complex_outputs=True)
    for batch in (1, 5):
        x = np.random.default_rng(batch).random((batch, 4, 64, 64)).astype(np.float32)
        amp, phase, real, imag = run_onnx(model, x, [AMPLITUDE, PHASE, OBJECT_REAL, OBJECT_IMAG])
        ref_amp, ref_phase = run_graph(architecture_graph(config), weights, x)
        assert amp.shape == (batch, 4, 64, 64)
        np.testing.assert_allclose(amp, ref_amp, atol=1e-5, rtol=0)
        np.testing.assert_allclose(real + 1j * imag, ref_amp * np.exp(1j * ref_phase), atol=1e-5, rtol=0)


def test_opset_below_17_is_refused() -> None:
    config = ModelConfig(architecture="fast")
    with pytest.raises(ValueError, match="opset must be >= 17"):
        build_model(config, random_weights(config), opset=13)
