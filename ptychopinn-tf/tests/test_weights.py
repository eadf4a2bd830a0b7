"""Canonical weight names/shapes, layout conversion and validation."""

from __future__ import annotations

import numpy as np
import pytest
from ptychopinn.config import ModelConfig
from ptychopinn.errors import BundleError

from ptychopinn_tf.weights import expected_shapes, hwio_to_oihw, oihw_to_hwio, validate_weights


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, probe_big=False),
        ModelConfig(N=128, gridsize=2, object_big=False, n_filters_scale=1),
        ModelConfig(N=64, pad_object=False, n_filters_scale=1),
    ],
)
def test_keras_network_has_exactly_the_canonical_weights(cfg):
    from ptychopinn_tf.model import PtychoPINNModel

    model = PtychoPINNModel(cfg, np.ones((cfg.N, cfg.N), np.complex64), canvas_size=cfg.N + 16)
    model.build_variables()
    weights = model.get_canonical()
    expected = expected_shapes(cfg)
    assert set(weights) == set(expected)
    for name, arr in weights.items():
        assert arr.shape == expected[name], name
        assert arr.dtype == np.float32
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert trainable == sum(int(np.prod(s)) for n, s in expected.items() if n != "physics.log_scale")


def test_default_parameter_count_matches_the_reference():
    total = sum(int(np.prod(s)) for s in expected_shapes(ModelConfig()).values())
    assert total == 2_331_773  # 2.33 M incl. the border branch and the log-scale


def test_layout_conversion_round_trip_and_orientation():
    k = np.arange(3 * 3 * 2 * 5, dtype=np.float32).reshape(3, 3, 2, 5)  # HWIO
    o = hwio_to_oihw(k)
    assert o.shape == (5, 2, 3, 3)
    assert o[4, 1, 2, 0] == k[2, 0, 1, 4]
    np.testing.assert_array_equal(oihw_to_hwio(o), k)


def test_canonical_weights_round_trip_through_keras():
    from ptychopinn_tf.model import PtychoPINNModel

    cfg = ModelConfig(n_filters_scale=1, intensity_scale_trainable=True)
    a = PtychoPINNModel(cfg, np.ones((64, 64), np.complex64), canvas_size=64, seed=1)
    b = PtychoPINNModel(cfg, np.ones((64, 64), np.complex64), canvas_size=64, seed=2)
    a.build_variables()
    b.build_variables()
    wa = a.get_canonical()
    wa["physics.log_scale"] = np.float32(0.25).reshape(())
    assert any(not np.array_equal(wa[k], v) for k, v in b.get_canonical().items())
    b.set_canonical(wa)
    for name, value in b.get_canonical().items():
        np.testing.assert_array_equal(value, wa[name], err_msg=name)


def test_conv_semantics_match_a_numpy_cross_correlation():
    """A canonical OIHW kernel acts as out[o] = sum_i,dy,dx w[o,i,dy,dx] x[i, y+dy-1, x+dx-1] + b."""
    import tensorflow as tf

    from ptychopinn_tf.network import _conv, _Seeds

    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3, 3, 3)).astype(np.float32)
    b = rng.normal(size=(2,)).astype(np.float32)
    x = rng.normal(size=(3, 6, 7)).astype(np.float32)  # C, H, W
    conv = _conv(2, "t", _Seeds(0), "float32")
    conv.build((1, 6, 7, 3))
    conv.kernel.assign(oihw_to_hwio(w))
    conv.bias.assign(b)
    got = conv(tf.constant(np.transpose(x, (1, 2, 0))[None])).numpy()[0]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    ref = np.zeros((6, 7, 2), np.float32)
    for o in range(2):
        for dy in range(3):
            for dx in range(3):
                ref[..., o] += np.einsum("chw,c->hw", xp[:, dy : dy + 6, dx : dx + 7], w[o, :, dy, dx])
        ref[..., o] += b[o]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_validation_names_the_problem():
    cfg = ModelConfig(n_filters_scale=1)
    weights = {k: np.zeros(s, np.float32) for k, s in expected_shapes(cfg).items()}
    validate_weights(weights, cfg)
    bad = dict(weights)
    bad.pop("encoder.0.conv0.weight")
    bad["encoder.1.conv1.bias"] = np.zeros(3, np.float32)
    bad["extra.weight"] = np.zeros(1, np.float32)
    with pytest.raises(BundleError) as err:
        validate_weights(bad, cfg, source="x.zip")
    msg = str(err.value)
    assert "x.zip" in msg and "encoder.0.conv0.weight" in msg and "extra.weight" in msg
    assert "encoder.1.conv1.bias has shape (3,)" in msg


@pytest.mark.parametrize(
    "N,n,gridsize,counts",
    [
        (64, 2, 1, (2_331_773, 2_252_027, 2_399_811)),
        (64, 2, 2, (2_340_209, 2_257_001, 2_405_001)),
        (128, 2, 1, (4_661_213, 4_639_771, 4_787_555)),
        (128, 2, 2, (4_667_057, 4_643_881, 4_791_881)),
        (256, 2, 1, (12_912_269, 12_906_155, 13_053_939)),
        (256, 2, 2, (12_916_817, 12_909_833, 13_057_833)),
    ],
)
def test_parameter_counts_of_the_architecture_document(N, n, gridsize, counts):
    """docs/architecture-model.md, 'Parameter counts' (probe_big+pad_object, probe_big off, pad_object off)."""
    variants = (
        ModelConfig(N=N, n_filters_scale=n, gridsize=gridsize),
        ModelConfig(N=N, n_filters_scale=n, gridsize=gridsize, probe_big=False),
        ModelConfig(N=N, n_filters_scale=n, gridsize=gridsize, pad_object=False),
    )
    got = tuple(sum(int(np.prod(s)) for s in expected_shapes(c).values()) for c in variants)
    assert got == counts
