"""Canonical weights <-> the torch network: exact round trip, OIHW float32, core's initialisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ptychopinn.architecture import expected_shapes, init_weights
from ptychopinn.config import ModelConfig
from ptychopinn.errors import BundleError
from ptychopinn_torch.network import build_network
from ptychopinn_torch.weights import load_network_weights, network_weights


@pytest.mark.parametrize("architecture", ["published", "fast"])
def test_round_trip_is_exact_and_oihw_float32(architecture: str) -> None:
    cfg = ModelConfig(architecture=architecture, n_filters_scale=1, gridsize=2)
    net = build_network(cfg, seed=1)
    with torch.no_grad():
        net.physics.log_scale.fill_(0.25)
    w = network_weights(net)
    assert {k: v.shape for k, v in w.items()} == expected_shapes(cfg)
    assert all(v.dtype == np.float32 and v.flags["C_CONTIGUOUS"] for v in w.values())
    assert w["physics.log_scale"].shape == () and float(w["physics.log_scale"]) == 0.25
    name = "encoder.1.conv0.weight"
    np.testing.assert_array_equal(w[name], net.get_submodule(name.rsplit(".", 1)[0]).weight.detach().numpy())
    again = build_network(cfg, weights=w)
    x = torch.rand(3, 4, 64, 64)
    with torch.no_grad():
        assert torch.equal(again.eval()(x), net.eval()(x))
    for k, v in network_weights(again).items():
        np.testing.assert_array_equal(v, w[k])


def test_initial_weights_are_cores_initialisation() -> None:
    """Every backend starts from the same weights for a seed (core's Glorot-uniform init)."""
    cfg = ModelConfig(architecture="fast", n_filters_scale=1)
    got = network_weights(build_network(cfg, seed=7))
    want = init_weights(cfg, seed=7)
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    other = network_weights(build_network(cfg, seed=8))
    assert not np.array_equal(other["encoder.0.conv0.weight"], got["encoder.0.conv0.weight"])


def test_loading_wrong_names_or_shapes_is_refused() -> None:
    cfg = ModelConfig(n_filters_scale=1)
    net = build_network(cfg)
    w = init_weights(cfg, seed=0)
    bad = dict(w)
    del bad["head_amp.central.bias"]
    with pytest.raises(BundleError, match="head_amp.central.bias"):
        load_network_weights(net, bad)
    bad = {**w, "encoder.0.conv0.weight": np.zeros((3, 1, 3, 3), np.float32)}
    with pytest.raises(BundleError, match=r"encoder\.0\.conv0\.weight"):
        load_network_weights(net, bad)
