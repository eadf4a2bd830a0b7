"""Core's architecture spec: graph, canonical weights, costs and the numpy reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.architecture import (
    GraphBuilder,
    architecture_cost,
    architecture_graph,
    expected_shapes,
    init_weights,
    reference_predict,
    run_graph,
    validate_weights,
)
from ptychopinn.config import ModelConfig
from ptychopinn.errors import BundleError, ConfigError


def _direct_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, groups: int = 1) -> np.ndarray:
    """Loop-based cross-correlation with symmetric zero padding (k - 1) // 2."""
    B, C, H, W = x.shape
    n_out, Cg, k, _ = w.shape
    p = (k - 1) // 2
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    OH, OW = (H + 2 * p - k) // stride + 1, (W + 2 * p - k) // stride + 1
    out = np.zeros((B, n_out, OH, OW))
    per_group = n_out // groups
    for o in range(n_out):
        g = o // per_group
        for i in range(OH):
            for j in range(OW):
                patch = xp[:, g * Cg : (g + 1) * Cg, i * stride : i * stride + k, j * stride : j * stride + k]
                out[:, o, i, j] = np.sum(patch * w[o], axis=(1, 2, 3)) + b[o]
    return out


@pytest.mark.parametrize(("kernel", "stride", "depthwise"), [(3, 1, False), (1, 1, False), (3, 2, False), (3, 1, True)])
def test_conv_matches_a_direct_loop(kernel: int, stride: int, depthwise: bool) -> None:
    rng = np.random.default_rng(0)
    g = GraphBuilder(3, 6)
    out = g.conv("x", "c", 3 if depthwise else 5, kernel=kernel, stride=stride, depthwise=depthwise)
    graph = g.build(out, out)
    node = graph.convs()[0]
    w = rng.standard_normal((node.out_channels, node.in_channels // node.groups, kernel, kernel)).astype(np.float32)
    b = rng.standard_normal(node.out_channels).astype(np.float32)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    got, _ = run_graph(graph, {"c.weight": w, "c.bias": b}, x)
    want = _direct_conv(x, w, b, stride, node.groups)
    assert got.shape == want.shape == (2, node.out_channels, *graph.shapes[out][1:])
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_space_depth_rearrangements_use_pixel_shuffle_order() -> None:
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(1, 2, 4, 4)
    g = GraphBuilder(2, 4)
    s2d = g.space_to_depth("x")
    back = g.depth_to_space(s2d)
    graph = g.build(s2d, back)
    packed, unpacked = run_graph(graph, {}, x)
    assert packed.shape == (1, 8, 2, 2)
    # channel c * 4 + i * 2 + j holds pixel (2h + i, 2w + j) of channel c
    for c in range(2):
        for i in range(2):
            for j in range(2):
                np.testing.assert_array_equal(packed[0, c * 4 + i * 2 + j], x[0, c, i::2, j::2])
    np.testing.assert_array_equal(unpacked, x)


def test_pool_upsample_slice_pad_mask_add_concat() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 4, 4)).astype(np.float32)
    g = GraphBuilder(4, 4)
    pooled = g.upsample(g.maxpool("x"))
    sliced = g.slice(pooled, 1, 3)
    padded = g.pad(g.slice("x", 0, 2), 1)
    masked = g.mask(padded, "m", np.eye(6))
    cat = g.concat(sliced, g.slice("x", 3, 4))
    total = g.add(g.slice(cat, 0, 2), g.slice("x", 2, 4))
    graph = g.build(total, masked)
    got_total, got_masked = run_graph(graph, {}, x)
    pooled_ref = x.reshape(1, 4, 2, 2, 2, 2).max(axis=(3, 5)).repeat(2, 2).repeat(2, 3)
    np.testing.assert_array_equal(got_total, pooled_ref[:, 1:3] + x[:, 2:4])
    np.testing.assert_array_equal(got_masked, np.pad(x[:, :2], ((0, 0), (0, 0), (1, 1), (1, 1))) * np.eye(6))


def test_published_weights_follow_the_documented_table() -> None:
    shapes = expected_shapes(ModelConfig(N=64, n_filters_scale=2))
    assert shapes["encoder.0.conv0.weight"] == (64, 1, 3, 3)
    assert shapes["encoder.2.conv1.weight"] == (256, 256, 3, 3)
    assert shapes["decoder_amp.1.conv1.weight"] == (64, 64, 3, 3)
    assert shapes["head_phase.central.weight"] == (1, 60, 3, 3)
    assert shapes["head_amp.border.conv0.weight"] == (64, 4, 3, 3)
    assert shapes["head_amp.border.out.bias"] == (1,)
    assert shapes["physics.log_scale"] == ()
    assert len(shapes) == 2 * (6 + 2 * 4 + 2 * 4) + 1
    big = expected_shapes(ModelConfig(N=128, gridsize=2, n_filters_scale=1, pad_object=False))
    assert big["encoder.0.conv0.weight"] == (16, 4, 3, 3)
    assert big["head_amp.full.out.weight"] == (4, 32, 3, 3)
    assert "head_amp.central.weight" not in big


def test_costs() -> None:
    published = architecture_cost(ModelConfig(n_filters_scale=2))
    # hand count (multiply-accumulates) of the documented layers at N=64, n=2
    macs = 9 * (
        4096 * (1 * 64 + 64 * 64) + 1024 * (64 * 128 + 128 * 128) + 256 * (128 * 256 + 256 * 256)
        + 2 * (64 * (256 * 128 + 128 * 128) + 256 * (128 * 64 + 64 * 64))
        + 2 * (1024 * 60 + 1024 * (4 * 64 + 64 * 64) + 4096 * 64)
    )
    assert published.flops == 2 * macs
    assert published.patterns == 1 and published.gflops_per_pattern == pytest.approx(1.611, abs=1e-3)
    fast = architecture_cost(ModelConfig(architecture="fast", n_filters_scale=2))
    assert fast.gflops_per_pattern <= 0.2
    grouped = architecture_cost(ModelConfig(architecture="fast", gridsize=2, n_filters_scale=2))
    assert grouped.patterns == 4 and grouped.gflops_per_pattern == pytest.approx(grouped.flops / 1e9)  # one pass
    assert grouped.flops > fast.flops  # per scan position, so a larger first layer costs more


def test_validate_weights_names_the_problem() -> None:
    cfg = ModelConfig(n_filters_scale=1)
    weights = init_weights(cfg, seed=0)
    validate_weights(weights, cfg, source="ok.zip")
    bad = dict(weights)
    del bad["encoder.0.conv0.bias"]
    bad["extra.weight"] = np.zeros(1, np.float32)
    bad["encoder.1.conv0.weight"] = np.zeros((1, 2, 3, 3), np.float32)
    with pytest.raises(BundleError, match=r"m\.zip.*missing 1 weight\(s\): encoder\.0\.conv0\.bias.*extra\.weight.*"
                                          r"encoder\.1\.conv0\.weight has shape \(1, 2, 3, 3\)"):
        validate_weights(bad, cfg, source="m.zip")
    ints = dict(weights, **{"physics.log_scale": np.zeros((), np.int32)})
    with pytest.raises(BundleError, match="physics.log_scale has dtype int32"):
        validate_weights(ints, cfg)
    with pytest.raises(BundleError, match="architecture=fast"):
        validate_weights(weights, ModelConfig(architecture="fast", n_filters_scale=1))


def test_init_weights_glorot_and_seeded() -> None:
    cfg = ModelConfig(architecture="fast", n_filters_scale=1)
    a, b, c = init_weights(cfg, seed=3), init_weights(cfg, seed=3), init_weights(cfg, seed=4)
    assert set(a) == set(expected_shapes(cfg))
    for name, w in a.items():
        assert w.dtype == np.float32 and w.shape == expected_shapes(cfg)[name]
        np.testing.assert_array_equal(w, b[name])
        if name.endswith(".weight"):
            o, i, k, _ = w.shape
            assert np.abs(w).max() <= np.sqrt(6 / ((o + i) * k * k)) + 1e-7
            assert not np.array_equal(w, c[name])
        else:
            assert not w.any()


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize("gridsize", [1, 2])
def test_reference_predict_shapes_and_ranges(architecture: str, gridsize: int) -> None:
    cfg = ModelConfig(architecture=architecture, gridsize=gridsize, n_filters_scale=1)
    x = np.random.default_rng(0).random((2, cfg.channels, 64, 64)).astype(np.float32)
    out = reference_predict(cfg, init_weights(cfg, seed=1), x)
    assert out.shape == (2, cfg.channels, 64, 64) and out.dtype == np.complex64
    amp, phase = run_graph(architecture_graph(cfg), init_weights(cfg, seed=1), x)
    np.testing.assert_allclose(out, amp * np.exp(1j * phase), atol=1e-6)
    assert np.all(np.abs(phase) <= np.pi)
    single = ModelConfig(architecture=architecture, gridsize=2, n_filters_scale=1, object_big=False)
    assert reference_predict(single, init_weights(single, seed=1), np.zeros((1, 4, 64, 64), np.float32)).shape[1] == 1


def test_unknown_architecture_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="architecture"):
        ModelConfig(architecture="resnet")  # type: ignore[arg-type]


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize("activation", ["sigmoid", "swish", "softplus", "relu"])
def test_every_amplitude_activation_builds(architecture: str, activation: str) -> None:
    cfg = ModelConfig(architecture=architecture, amp_activation=activation, n_filters_scale=1)  # type: ignore[arg-type]
    amp, _ = run_graph(architecture_graph(cfg), init_weights(cfg, seed=0), np.ones((1, 1, 64, 64), np.float32))
    if activation in ("sigmoid", "softplus", "relu") and architecture == "fast":  # published: swish border
        assert amp.min() >= 0
