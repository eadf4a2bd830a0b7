"""Network architecture: canonical names, layout and parameter counts of docs/architecture-model.md."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ptychopinn.config import ModelConfig

from ptychopinn_torch.network import PtychoPINNNet
from ptychopinn_torch.weights import expected_shapes, net_from_weights, state_to_weights


def _count(cfg: ModelConfig) -> int:
    return sum(int(np.prod(s)) for s in expected_shapes(cfg).values())


@pytest.mark.parametrize(
    ("N", "g", "probe_big", "pad_object", "want"),
    [
        (64, 1, True, True, 2_331_773),
        (64, 1, False, True, 2_252_027),
        (64, 1, True, False, 2_399_811),
        (64, 2, True, True, 2_340_209),
        (128, 1, True, True, 4_661_213),
        (128, 2, True, True, 4_667_057),
        (256, 1, True, True, 12_912_269),
    ],
)
def test_parameter_counts_match_the_architecture_document(N, g, probe_big, pad_object, want) -> None:
    cfg = ModelConfig(N=N, gridsize=g, probe_big=probe_big, pad_object=pad_object)
    assert _count(cfg) == want


def test_parts_of_the_default_network() -> None:
    shapes = expected_shapes(ModelConfig())

    def part(prefix: str) -> int:
        return sum(int(np.prod(s)) for k, s in shapes.items() if k.startswith(prefix))

    assert part("encoder.") == 1_144_256
    assert part("decoder_amp.") == part("decoder_phase.") == 553_344
    assert part("head_amp.central.") == 541 and part("head_amp.border.") == 39_873
    assert shapes["physics.log_scale"] == ()
    assert shapes["encoder.0.conv0.weight"] == (64, 1, 3, 3)  # OIHW
    assert shapes["head_amp.central.weight"] == (1, 60, 3, 3)  # first 32n - 4 channels


def test_canonical_names_are_exactly_the_documented_ones() -> None:
    names = set(expected_shapes(ModelConfig(N=128, gridsize=2)))
    assert {n.split(".")[0] for n in names} == {
        "encoder",
        "decoder_amp",
        "decoder_phase",
        "head_amp",
        "head_phase",
        "physics",
    }
    assert "encoder.3.conv1.weight" in names and "decoder_amp.2.conv1.bias" in names
    assert "head_phase.border.out.weight" in names
    full = set(expected_shapes(ModelConfig(pad_object=False)))
    assert "head_amp.full.conv0.weight" in full and "head_amp.full.out.bias" in full


def test_output_shapes_and_ranges() -> None:
    torch.manual_seed(0)
    for g, object_big in ((1, True), (2, True), (2, False)):
        cfg = ModelConfig(gridsize=g, n_filters_scale=1, object_big=object_big)
        net = PtychoPINNNet(cfg).eval()
        with torch.no_grad():
            out = net(torch.rand(2, g * g, 64, 64))
        c_out = g * g if object_big else 1
        assert out.shape == (2, c_out, 64, 64) and out.dtype == torch.complex64
        phase = torch.angle(out)
        assert float(phase.abs().max()) <= np.pi + 1e-6
        centre = out[..., 16:48, 16:48].abs()  # sigmoid amplitude + bounded border leak
        assert float(centre.max()) < 1.0 + 1e-6


def test_weights_roundtrip_is_exact_and_oihw_contiguous() -> None:
    cfg = ModelConfig(n_filters_scale=1)
    torch.manual_seed(1)
    net = PtychoPINNNet(cfg).eval()
    w = state_to_weights(net)
    assert all(v.flags["C_CONTIGUOUS"] and v.dtype == np.float32 for v in w.values())
    np.testing.assert_array_equal(w["encoder.1.conv0.weight"], net.encoder[1].conv0.weight.detach().numpy())
    again = net_from_weights(cfg, w)
    x = torch.rand(3, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(again(x), net(x))
