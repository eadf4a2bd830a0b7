"""``TorchPredictor``: the network of a model, built once, matching core's reference on any batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import group

from ptychopinn.architecture import init_weights, reference_predict
from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import ConfigError
from ptychopinn.physics import estimate_normalisation, group_object
from ptychopinn.plugins.predictor import Predictor
from ptychopinn.results import TrainedModel
from ptychopinn_torch import _plugin
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.predictor import TorchPredictor, build_predictor, chunk_size

OPTS = TorchOptions(accelerator="cpu", num_threads=1)


def _model(cfg: ModelConfig, diff: np.ndarray, probe: np.ndarray, seed: int = 0) -> TrainedModel:
    return TrainedModel(
        backend="pytorch",
        backend_version="0",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(diff),
        probe=probe,
        weights=init_weights(cfg, seed=seed),
    )


def _x(B: int, C: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1.5, (B, C, 64, 64)).astype(np.float32)


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize(("gridsize", "object_big"), [(1, True), (2, True), (2, False)])
def test_predict_matches_the_reference(small_scan, architecture: str, gridsize: int, object_big: bool) -> None:
    cfg = ModelConfig(architecture=architecture, n_filters_scale=1, gridsize=gridsize, object_big=object_big)
    model = _model(cfg, small_scan[0], small_scan[2], seed=3)
    predictor = _plugin.PLUGIN.ptychopinn_build_predictor(model=model, options=OPTS)
    assert isinstance(predictor, Predictor) and predictor.backend == "pytorch"
    x = _x(5, cfg.channels)
    got = predictor.predict(x)
    assert got.dtype == np.complex64 and got.shape == (5, cfg.channels if object_big else 1, 64, 64)
    assert float(np.abs(got - reference_predict(cfg, model.weights, x)).max()) <= 1e-5


@pytest.mark.parametrize("gridsize", [1, 2])
def test_chunked_equals_whole_and_calls_are_chunk_sized(small_scan, gridsize: int) -> None:
    cfg = ModelConfig(n_filters_scale=1, gridsize=gridsize)
    model = _model(cfg, small_scan[0], small_scan[2])
    whole = build_predictor(model, TorchOptions(accelerator="cpu", num_threads=1, inference_chunk_size=None))
    chunked = build_predictor(model, TorchOptions(accelerator="cpu", num_threads=1, inference_chunk_size=7))
    sizes: list[int] = []
    for p in (whole, chunked):
        p.net.register_forward_hook(lambda mod, args, out: sizes.append(int(args[0].shape[0])))
    x = _x(17, cfg.channels)
    a = whole.predict(x)
    assert sizes == [17]
    sizes.clear()
    b = chunked.predict(x)
    assert sizes == [7, 7, 3]
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6 * np.abs(a).max())
    # groups never mix: one group alone gives what it gives in the batch
    np.testing.assert_allclose(chunked.predict(x[4:5])[0], b[4], rtol=1e-5, atol=1e-6 * np.abs(a).max())


def test_chunk_size_applies_on_cpu_only() -> None:
    assert chunk_size(TorchOptions(inference_chunk_size=16), torch.device("cpu")) == 16
    assert chunk_size(TorchOptions(inference_chunk_size=None), torch.device("cpu")) is None
    assert chunk_size(TorchOptions(inference_chunk_size=16), torch.device("cuda")) is None


def test_wrong_batch_shape_is_refused_and_empty_batch_is_empty(small_scan) -> None:
    cfg = ModelConfig(architecture="fast", n_filters_scale=1, gridsize=2)
    predictor = build_predictor(_model(cfg, small_scan[0], small_scan[2]), OPTS)
    with pytest.raises(ConfigError, match=r"\(B, 4, 64, 64\)"):
        predictor.predict(_x(2, 1))
    with pytest.raises(ConfigError):
        predictor.predict(_x(2, 4)[0])
    frozen = _x(2, 4)
    frozen.flags.writeable = False  # e.g. a memory-mapped stack
    np.testing.assert_array_equal(predictor.predict(frozen), predictor.predict(_x(2, 4)))
    empty = predictor.predict(np.zeros((0, 4, 64, 64), np.float32))
    assert empty.shape == (0, 4, 64, 64) and empty.dtype == np.complex64


def test_threads_apply_during_predict_only(small_scan) -> None:
    cfg = ModelConfig(architecture="fast", n_filters_scale=1)
    predictor = build_predictor(_model(cfg, small_scan[0], small_scan[2]), OPTS)
    seen: list[int] = []
    predictor.net.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        predictor.predict(_x(2, 1))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_bf16_autocast_runs_close_to_float32(small_scan) -> None:
    cfg = ModelConfig(architecture="fast", n_filters_scale=1)
    model = _model(cfg, small_scan[0], small_scan[2])
    x = _x(4, 1)
    full = build_predictor(model, OPTS).predict(x)
    half = build_predictor(model, TorchOptions(accelerator="cpu", num_threads=1, precision="bf16-mixed")).predict(x)
    assert half.dtype == np.complex64 and np.isfinite(half).all()
    assert 0 < float(np.abs(half - full).max()) < 0.05


def test_core_runs_the_predictor_batched_and_cached(small_scan) -> None:
    """End to end through core's Backend: batching, scaling and grouping are core's, the network is ours."""
    from ptychopinn.api import get_backend

    diff, pos, probe, _ = small_scan
    groups = group(diff, pos, 2, grid=6)
    cfg = ModelConfig(architecture="fast", n_filters_scale=1, gridsize=2)
    model = _model(cfg, diff, probe, seed=2)
    backend = get_backend("pytorch")
    builds = backend.predictors.builds
    pred = backend.infer(model, groups, InferenceConfig(batch_size=6), OPTS)
    again = backend.infer(model, groups, InferenceConfig(batch_size=25), OPTS)
    assert backend.predictors.builds == builds + 1
    x = groups.batch_diffraction(0, groups.n_groups) * np.float32(model.normalisation.network_scale)
    want = group_object(reference_predict(cfg, model.weights, x), groups.offsets, object_big=True)
    assert pred.backend == "pytorch" and pred.patches.shape == (groups.n_groups, 64, 64)
    assert float(np.abs(pred.patches - want).max()) <= 1e-5
    np.testing.assert_allclose(again.patches, pred.patches, rtol=1e-5, atol=1e-6)
    assert isinstance(backend.predictor(model, OPTS), TorchPredictor)
