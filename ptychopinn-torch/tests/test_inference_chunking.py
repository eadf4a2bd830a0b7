"""``infer`` runs the network in chunks of ``TorchOptions.inference_chunk_size`` groups on a CPU;
the result does not depend on the chunking (to float32 rounding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import group

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import ConfigError
from ptychopinn.physics import estimate_normalisation
from ptychopinn.results import TrainedModel
from ptychopinn_torch import inference
from ptychopinn_torch.network import PtychoPINNNet
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.weights import state_to_weights


def _model(cfg: ModelConfig, diff: np.ndarray, probe: np.ndarray) -> TrainedModel:
    torch.manual_seed(0)
    return TrainedModel(
        backend="pytorch",
        backend_version="0",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(diff),
        probe=probe,
        weights=state_to_weights(PtychoPINNNet(cfg)),
    )


@pytest.mark.parametrize("gridsize", [1, 2])
def test_chunked_equals_unchunked_and_calls_are_chunk_sized(small_scan, gridsize, monkeypatch) -> None:
    diff, pos, probe, _ = small_scan
    data = group(diff, pos, gridsize, grid=6)
    model = _model(ModelConfig(n_filters_scale=1, gridsize=gridsize), diff, probe)
    sizes: list[int] = []
    real = inference.network_for
    hooked: set[int] = set()

    def spy(m, device):
        net = real(m, device)  # cached: hook it once
        if id(net) not in hooked:
            net.register_forward_hook(lambda mod, args, out: sizes.append(int(args[0].shape[0])))
            hooked.add(id(net))
        return net

    monkeypatch.setattr(inference, "network_for", spy)
    cfg = InferenceConfig(batch_size=256)
    base = TorchOptions(accelerator="cpu", num_threads=1, inference_device="cpu")
    whole = inference.infer(model, data, cfg, TorchOptions(**{**base.__dict__, "inference_chunk_size": None}))
    assert sizes == [data.n_groups]
    sizes.clear()
    chunked = inference.infer(model, data, cfg, TorchOptions(**{**base.__dict__, "inference_chunk_size": 7}))
    assert max(sizes) == 7 and sum(sizes) == data.n_groups
    np.testing.assert_allclose(chunked.patches, whole.patches, rtol=1e-5, atol=1e-6 * np.abs(whole.patches).max())
    np.testing.assert_array_equal(chunked.positions, whole.positions)


def test_chunk_size_rules() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert inference.chunk_size(TorchOptions(inference_chunk_size=16), cpu, 256) == 16
    assert inference.chunk_size(TorchOptions(inference_chunk_size=16), cpu, 4) == 4
    assert inference.chunk_size(TorchOptions(inference_chunk_size=None), cpu, 256) == 256
    assert inference.chunk_size(TorchOptions(inference_chunk_size=16), gpu, 256) == 256
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="inference_chunk_size"):
            TorchOptions(inference_chunk_size=bad)
