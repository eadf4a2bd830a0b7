"""The Graph interpreter: every op and both architectures match core's numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from ptychopinn.architecture import GraphBuilder, architecture_graph, init_weights, reference_predict, run_graph
from ptychopinn.config import ModelConfig

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.network import GraphNetwork, build_network, layer_name
from ptychopinn_tf.weights import load_network_weights, oihw_to_hwio

tf, _ = tf_keras()

ATOL = 1e-5

CONFIGS = [
    ModelConfig(N=64, n_filters_scale=1),
    ModelConfig(N=64, gridsize=2, n_filters_scale=1),
    ModelConfig(N=64, n_filters_scale=1, probe_big=False),
    ModelConfig(N=64, n_filters_scale=1, pad_object=False, amp_activation="softplus"),
    ModelConfig(N=64, n_filters_scale=2, architecture="fast"),
    ModelConfig(N=64, gridsize=2, n_filters_scale=1, architecture="fast", object_big=False),
    ModelConfig(N=128, n_filters_scale=1, architecture="fast"),
]


def _weights(config: ModelConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Core's initial weights with non-zero biases (so a bias bug shows)."""
    w = init_weights(config, seed=seed)
    rng = np.random.default_rng(seed)
    for name in w:
        if name.endswith(".bias"):
            w[name] = rng.normal(scale=0.1, size=w[name].shape).astype(np.float32)
    return w


def _run(net: GraphNetwork, x: np.ndarray) -> np.ndarray:
    amp, phase = net(np.transpose(x, (0, 2, 3, 1)))
    assert amp.dtype == tf.float32 and phase.dtype == tf.float32
    o = amp.numpy() * np.exp(1j * phase.numpy())
    return np.transpose(o, (0, 3, 1, 2))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.architecture}-N{c.N}-g{c.gridsize}-pad{c.pad_object}")
def test_network_matches_the_reference(config, rng):
    weights = _weights(config)
    net = build_network(config)
    load_network_weights(net, weights)
    x = rng.uniform(0, 1, (2, config.channels, config.N, config.N)).astype(np.float32)
    ref = reference_predict(config, weights, x)
    got = _run(net, x)
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) <= ATOL
    assert np.max(np.abs(ref)) > 0.05  # not trivially zero


def _all_ops_graph():
    """A graph using all 11 ops, stride-2 and 1x1 and depthwise convs, and overlapping slices."""
    g = GraphBuilder(2, 16)
    s = g.space_to_depth("x")  # 8 x 8 x 8
    a = g.act(g.conv(s, "a.conv", 6, stride=2), "silu")  # 6 x 4 x 4, symmetric padding
    a = g.upsample(g.conv(a, "a.dw", 6, depthwise=True))  # 6 x 8 x 8
    b = g.maxpool(g.conv("x", "b.conv", 6, kernel=1))  # 6 x 8 x 8
    c = g.concat(g.slice(a, 0, 4), g.slice(b, 2, 6), g.slice(b, 1, 3))  # overlapping slices of b
    d = g.add(g.slice(c, 0, 8), g.act(g.conv(c, "c.conv", 8), "relu"))
    sub = g.conv(d, "head.out", 4)  # 4 x 8 x 8
    amp = g.act(g.depth_to_space(sub), "softplus")  # 1 x 16 x 16
    amp = g.mask(amp, "m", np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16))
    ph = g.pad(g.act(g.conv(g.maxpool(d), "p.out", 1, stride=2), "pi_tanh"), 6)  # 1 x 4 x 4 -> 16 x 16
    return g.build(amp, g.act(ph, "sigmoid"))


def test_every_op_matches_run_graph(rng):
    graph = _all_ops_graph()
    weights = {}
    for node in graph.convs():
        shape = (node.out_channels, node.in_channels // node.groups, node.kernel, node.kernel)
        weights[f"{node.name}.weight"] = rng.normal(size=shape).astype(np.float32) / 3
        weights[f"{node.name}.bias"] = rng.normal(size=(node.out_channels,)).astype(np.float32)
    net = GraphNetwork(ModelConfig(N=64), graph=graph)
    net.build_variables()
    for name, layer in net.named_convs():
        layer.kernel.assign(oihw_to_hwio(weights[f"{name}.weight"], depthwise=name == "a.dw"))
        layer.bias.assign(weights[f"{name}.bias"])
    x = rng.normal(size=(3, 2, 16, 16)).astype(np.float32)
    amp, phase = net(np.transpose(x, (0, 2, 3, 1)))
    ref_amp, ref_phase = run_graph(graph, weights, x)
    np.testing.assert_allclose(np.transpose(amp.numpy(), (0, 3, 1, 2)), ref_amp, atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(np.transpose(phase.numpy(), (0, 3, 1, 2)), ref_phase, atol=ATOL, rtol=1e-5)


def test_pixel_shuffle_channel_order():
    """depth_to_space puts channel c*4 + i*2 + j at pixel (2h + i, 2w + j) (torch order, not TF's)."""
    from ptychopinn_tf.network import _depth_to_space, _space_to_depth

    x = np.arange(16, dtype=np.float32).reshape(1, 1, 1, 16)  # one pixel, 4C = 16 channels
    y = _depth_to_space(tf.constant(x), (16, 1, 1)).numpy()  # (1, 2, 2, 4)
    for c in range(4):
        for i in range(2):
            for j in range(2):
                assert y[0, i, j, c] == c * 4 + i * 2 + j
    back = _space_to_depth(tf.constant(y), (4, 2, 2)).numpy()
    np.testing.assert_array_equal(back, x)


def test_conv_layers_are_named_after_canonical_names():
    config = ModelConfig(N=64, n_filters_scale=1)
    net = build_network(config)
    names = [node.name for node in architecture_graph(config).convs()]
    assert [n for n, _ in net.named_convs()] == names
    assert [layer.name for _, layer in net.named_convs()] == [layer_name(n) for n in names]
    assert layer_name("head_amp.border.out") == "head_amp_border_out"


def test_channel_slices_train_without_strided_slice_gradients():
    """The heads' disjoint channel slices are one tf.split: the gradient graph has no StridedSliceGrad."""
    config = ModelConfig(N=64, n_filters_scale=1)
    net = build_network(config)

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            amp, phase = net(x, training=True)
            loss = tf.reduce_sum(amp) + tf.reduce_sum(phase)
        return tape.gradient(loss, net.trainable_variables)

    ops = {op.type for op in grads.get_concrete_function(tf.TensorSpec((2, 64, 64, 1))).graph.get_operations()}
    assert "SplitV" in ops and "StridedSliceGrad" not in ops


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_mixed_precision_outputs_are_float32_and_close(architecture, rng):
    config = ModelConfig(N=64, n_filters_scale=1, architecture=architecture)
    weights = _weights(config)
    net = build_network(config, dtype_policy="mixed_bfloat16")
    load_network_weights(net, weights)
    x = rng.uniform(0, 1, (2, 1, 64, 64)).astype(np.float32)
    got = _run(net, x)
    ref = reference_predict(config, weights, x)
    assert got.dtype == np.complex128 or got.dtype == np.complex64
    assert np.max(np.abs(got - ref)) < 0.1 * np.max(np.abs(ref))


def test_build_network_starts_from_core_init_weights():
    from ptychopinn_tf.weights import network_weights

    config = ModelConfig(N=64, n_filters_scale=1, architecture="fast")
    got = network_weights(build_network(config, seed=7))
    ref = init_weights(config, seed=7)
    assert set(got) == set(ref)
    for name, value in ref.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)
    other = network_weights(build_network(config, seed=8))
    assert not np.array_equal(other["encoder.0.conv0.weight"], got["encoder.0.conv0.weight"])
