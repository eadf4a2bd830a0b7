"""Canonical OIHW weights <-> the Keras network: names, shapes, layout, validation by core."""

from __future__ import annotations

import numpy as np
import pytest
from ptychopinn.architecture import expected_shapes
from ptychopinn.config import ModelConfig
from ptychopinn.errors import BundleError

from ptychopinn_tf.weights import hwio_to_oihw, load_network_weights, network_weights, oihw_to_hwio


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, probe_big=False),
        ModelConfig(N=128, gridsize=2, object_big=False, n_filters_scale=1),
        ModelConfig(N=64, pad_object=False, n_filters_scale=1),
        ModelConfig(N=64, gridsize=2, n_filters_scale=2, architecture="fast"),
    ],
    ids=lambda c: f"{c.architecture}-N{c.N}-g{c.gridsize}-n{c.n_filters_scale}",
)
def test_network_has_exactly_the_canonical_weights(cfg):
    from ptychopinn_tf.network import build_network

    net = build_network(cfg)
    weights = network_weights(net)
    expected = expected_shapes(cfg)
    assert set(weights) == set(expected)
    for name, arr in weights.items():
        assert arr.shape == expected[name], name
        assert arr.dtype == np.float32
    trainable = sum(int(np.prod(v.shape)) for v in net.trainable_variables)
    assert trainable == sum(int(np.prod(s)) for n, s in expected.items() if n != "physics.log_scale")


def test_log_scale_is_trainable_only_when_configured():
    from ptychopinn_tf.network import build_network

    fixed = build_network(ModelConfig(n_filters_scale=1, architecture="fast"))
    moving = build_network(ModelConfig(n_filters_scale=1, architecture="fast", intensity_scale_trainable=True))
    assert len(moving.trainable_variables) == len(fixed.trainable_variables) + 1


def test_layout_conversion_round_trip_and_orientation():
    k = np.arange(3 * 3 * 2 * 5, dtype=np.float32).reshape(3, 3, 2, 5)  # HWIO
    o = hwio_to_oihw(k)
    assert o.shape == (5, 2, 3, 3)
    assert o[4, 1, 2, 0] == k[2, 0, 1, 4]
    np.testing.assert_array_equal(oihw_to_hwio(o), k)
    d = np.arange(3 * 3 * 4, dtype=np.float32).reshape(3, 3, 4, 1)  # depthwise (kh, kw, C, 1)
    od = hwio_to_oihw(d, depthwise=True)
    assert od.shape == (4, 1, 3, 3) and od[2, 0, 1, 0] == d[1, 0, 2, 0]
    np.testing.assert_array_equal(oihw_to_hwio(od, depthwise=True), d)


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_canonical_weights_round_trip_through_keras(architecture):
    from ptychopinn_tf.network import build_network

    cfg = ModelConfig(n_filters_scale=1, intensity_scale_trainable=True, architecture=architecture)
    a, b = build_network(cfg, seed=1), build_network(cfg, seed=2)
    wa = network_weights(a)
    wa["physics.log_scale"] = np.float32(0.25).reshape(())
    assert any(not np.array_equal(wa[k], v) for k, v in network_weights(b).items())
    load_network_weights(b, wa)
    for name, value in network_weights(b).items():
        np.testing.assert_array_equal(value, wa[name], err_msg=name)


def test_conv_semantics_match_a_numpy_cross_correlation():
    """A canonical OIHW kernel acts as out[o] = sum_i,dy,dx w[o,i,dy,dx] x[i, y+dy-1, x+dx-1] + b."""
    from ptychopinn_tf.network import build_network

    cfg = ModelConfig(n_filters_scale=1, architecture="fast")
    net = build_network(cfg)
    name, conv = net.named_convs()[0]  # encoder.0.conv0 after space_to_depth: 4 -> 16 channels
    assert name == "encoder.0.conv0"
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 4, 3, 3)).astype(np.float32)
    b = rng.normal(size=(16,)).astype(np.float32)
    weights = network_weights(net)
    weights[f"{name}.weight"], weights[f"{name}.bias"] = w, b
    load_network_weights(net, weights)
    x = rng.normal(size=(4, 6, 7)).astype(np.float32)  # C, H, W
    got = conv(np.transpose(x, (1, 2, 0))[None]).numpy()[0]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    ref = np.zeros((6, 7, 16), np.float32)
    for o in range(16):
        for dy in range(3):
            for dx in range(3):
                ref[..., o] += np.einsum("chw,c->hw", xp[:, dy : dy + 6, dx : dx + 7], w[o, :, dy, dx])
        ref[..., o] += b[o]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_loading_wrong_weights_is_core_s_bundle_error():
    from ptychopinn_tf.network import build_network

    cfg = ModelConfig(n_filters_scale=1)
    net = build_network(cfg)
    bad = network_weights(net)
    bad.pop("encoder.0.conv0.weight")
    bad["encoder.1.conv1.bias"] = np.zeros(3, np.float32)
    with pytest.raises(BundleError) as err:
        load_network_weights(net, bad, source="x.zip")
    msg = str(err.value)
    assert "x.zip" in msg and "encoder.0.conv0.weight" in msg and "encoder.1.conv1.bias has shape (3,)" in msg
    fast = network_weights(build_network(ModelConfig(n_filters_scale=1, architecture="fast")))
    with pytest.raises(BundleError, match="missing"):
        load_network_weights(net, fast)
