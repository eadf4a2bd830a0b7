"""The graph interpreter: canonical state_dict names, every op's semantics, and agreement with
core's numpy reference (``ptychopinn.architecture.reference_predict``, <= 1e-5 absolute)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptychopinn.architecture import (
    OPS,
    GraphBuilder,
    architecture_graph,
    expected_shapes,
    init_weights,
    reference_predict,
    run_graph,
)
from ptychopinn.config import ModelConfig
from ptychopinn_torch.network import GraphNetwork, build_network

ATOL = 1e-5


def _x(cfg: ModelConfig, B: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1.5, (B, cfg.channels, cfg.N, cfg.N)).astype(np.float32)


def _predict(net: GraphNetwork, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net.eval()(torch.from_numpy(x)).numpy()


CONFIGS = [
    dict(),
    dict(gridsize=2),
    dict(gridsize=2, object_big=False),
    dict(probe_big=False),
    dict(pad_object=False),
    dict(amp_activation="softplus"),
    dict(amp_activation="relu"),
    dict(amp_activation="swish"),  # needs core's graph to map "swish" to its "silu" activation
    dict(N=128, n_filters_scale=1),
]


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_network_matches_the_numpy_reference(architecture: str, kw: dict) -> None:
    cfg = ModelConfig(architecture=architecture, **{"n_filters_scale": 1, **kw})
    weights = init_weights(cfg, seed=5)
    weights = {k: v + np.float32(0.01) if k.endswith(".bias") else v for k, v in weights.items()}  # nonzero biases
    net = build_network(cfg, weights=weights)
    x = _x(cfg)
    got = _predict(net, x)
    want = reference_predict(cfg, weights, x)
    c_out = cfg.channels if cfg.object_big else 1
    assert got.shape == want.shape == (2, c_out, cfg.N, cfg.N) and got.dtype == np.complex64
    assert float(np.abs(got - want).max()) <= ATOL
    assert float(np.abs(np.angle(got)).max()) <= np.pi + 1e-6


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize("gridsize", [1, 2])
def test_state_dict_keys_are_exactly_the_canonical_names_and_shapes(architecture: str, gridsize: int) -> None:
    cfg = ModelConfig(architecture=architecture, gridsize=gridsize, N=128)
    with torch.device("meta"):
        net = GraphNetwork(architecture_graph(cfg))
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == expected_shapes(cfg)


def test_log_scale_is_trainable_iff_the_config_says_so() -> None:
    for trainable in (False, True):
        net = build_network(ModelConfig(n_filters_scale=1, intensity_scale_trainable=trainable))
        assert net.physics.log_scale.requires_grad is trainable
        assert net.physics.log_scale.shape == () and float(net.physics.log_scale.detach()) == 0.0


def test_parameters_and_activations_are_channels_last() -> None:
    net = build_network(ModelConfig(n_filters_scale=1))
    kernel = net.get_submodule("encoder.1.conv0").weight
    assert kernel.is_contiguous(memory_format=torch.channels_last) and not kernel.is_contiguous()
    seen = []
    net.get_submodule("encoder.1.conv0").register_forward_hook(lambda m, a, out: seen.append(out))
    _predict(net, _x(ModelConfig(), B=2))
    assert seen[0].is_contiguous(memory_format=torch.channels_last)


def _all_ops_graph():
    """A small graph that uses each of the 11 ops (stride-2 and depthwise convolutions included)."""
    g = GraphBuilder(2, 16)
    a = g.act(g.conv("x", "stem.conv", 6), "silu")
    b = g.conv(a, "stem.down", 8, stride=2)  # 16 -> 8, symmetric padding
    b = g.act(g.conv(b, "body.dw", 8, depthwise=True), "softplus")
    b = g.act(g.conv(b, "body.pw", 8, kernel=1), "relu")
    c = g.upsample(g.maxpool(b))  # 8 -> 4 -> 8
    d = g.depth_to_space(g.conv(g.space_to_depth(a), "s2d.conv", 8))  # 16 -> 8 -> 16 (2 channels)
    e = g.concat(g.slice(c, 0, 4), g.slice(c, 4, 8))
    f = g.pad(g.conv(e, "head.c", 2), 4)  # 8 -> 16
    m = g.mask(g.act(d, "identity"), "ring", np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16))
    amp = g.act(g.add(f, m), "sigmoid")
    phase = g.act(g.conv(a, "phase.c", 2), "pi_tanh")
    return g.build(amp, phase)


def test_every_op_has_the_reference_semantics() -> None:
    graph = _all_ops_graph()
    assert {node.op for node in graph.nodes} == set(OPS)
    net = GraphNetwork(graph)
    rng = np.random.default_rng(1)
    weights = {k: rng.standard_normal(v.shape).astype(np.float32) * 0.3 for k, v in net.state_dict().items()}
    from ptychopinn_torch.weights import load_network_weights

    load_network_weights(net, weights)
    x = rng.standard_normal((3, 2, 16, 16)).astype(np.float32)
    amp, phase = run_graph(graph, weights, x)
    with torch.no_grad():
        got_amp, got_phase = net.eval().amplitude_and_phase(torch.from_numpy(x))
    np.testing.assert_allclose(got_amp.numpy(), amp, atol=ATOL, rtol=0)
    np.testing.assert_allclose(got_phase.numpy(), phase, atol=ATOL, rtol=0)
    # and the check can fail: a mirrored (unshuffled) space_to_depth order changes the answer
    weights["s2d.conv.weight"] = weights["s2d.conv.weight"][:, ::-1].copy()
    amp2, _ = run_graph(graph, weights, x)
    assert float(np.abs(amp2 - amp).max()) > 1e-3


def test_nested_names_that_clash_are_refused() -> None:
    g = GraphBuilder(1, 8)
    h = g.conv(g.conv("x", "a.b", 2), "a.b.c", 2)
    with pytest.raises(ValueError, match="a.b"):
        GraphNetwork(g.build(h, h))
