"""``infer``: group-object semantics, batching, normalisation, caching; bundles: save/load."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import ptychopinn
from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.errors import BundleError, ConfigError
from ptychopinn.physics import Normalisation, group_object
from ptychopinn.results import TrainedModel

from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.weights import expected_shapes

QUIET = TFOptions(verbose=0)


def _random_model(cfg: ModelConfig, scan, seed: int = 0) -> TrainedModel:
    """A model with random (not trained) canonical weights: infer does not need training."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in expected_shapes(cfg).items():
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else 1
        weights[name] = (rng.normal(size=shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)
    weights["physics.log_scale"] = np.float32(0.0).reshape(())
    from ptychopinn.physics import estimate_normalisation

    return TrainedModel(
        backend="tensorflow",
        backend_version="0",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(scan.diffraction),
        probe=scan.probe,
        weights=weights,
    )


def _backend():
    return ptychopinn.get_backend("tensorflow")


@pytest.mark.parametrize("gridsize,object_big", [(1, True), (2, True), (2, False)])
def test_infer_is_the_group_object_of_the_network_output(small_scan, gridsize, object_big):
    from ptychopinn.grouping import make_grouped_scan

    from ptychopinn_tf.network import Generator

    cfg = ModelConfig(N=64, gridsize=gridsize, n_filters_scale=1, object_big=object_big)
    model = _random_model(cfg, small_scan)
    grouped = make_grouped_scan(small_scan, gridsize=gridsize, seed=0)
    pred = _backend().infer(model, grouped, InferenceConfig(batch_size=5), QUIET)
    assert pred.backend == "tensorflow" and pred.patches.dtype == np.complex64
    assert pred.patches.shape == (grouped.n_groups, 64, 64)
    np.testing.assert_array_equal(pred.positions, grouped.centres)
    # reference: the same network on the canonical input, then core's numpy group_object
    gen = Generator(cfg)
    gen.build_variables()
    gen.set_canonical(model.weights)
    x = grouped.batch_diffraction(0, grouped.n_groups) * model.normalisation.network_scale
    amp, phase = (t.numpy() for t in gen(np.transpose(x, (0, 2, 3, 1)).astype(np.float32)))
    obj = np.transpose(amp * np.exp(1j * phase), (0, 3, 1, 2))
    ref = group_object(obj, grouped.offsets if gridsize > 1 else None, object_big=object_big)
    assert np.max(np.abs(pred.patches - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_infer_uses_model_normalisation_and_is_batch_invariant(small_scan):
    from ptychopinn.grouping import make_grouped_scan

    cfg = ModelConfig(N=64, n_filters_scale=1)
    model = _random_model(cfg, small_scan)
    grouped = make_grouped_scan(small_scan, gridsize=1)
    b = _backend()
    one = b.infer(model, grouped, InferenceConfig(batch_size=3), QUIET).patches
    all_ = b.infer(model, grouped, InferenceConfig(batch_size=256), QUIET).patches
    np.testing.assert_allclose(one, all_, rtol=1e-5, atol=1e-6)
    brighter = dataclasses.replace(
        model, normalisation=Normalisation(N=64, mean_counts=model.normalisation.mean_counts / 4)
    )
    assert brighter.weights is model.weights
    changed = b.infer(brighter, grouped, InferenceConfig(), QUIET).patches
    assert np.max(np.abs(changed - all_)) > 1e-3


def test_built_networks_are_cached_by_weights_identity(small_scan):
    from ptychopinn_tf import inference

    cfg = ModelConfig(N=64, n_filters_scale=1)
    a = _random_model(cfg, small_scan, seed=1)
    b = _random_model(cfg, small_scan, seed=2)
    opts = TFOptions(verbose=0, cache_size=1)
    inference.clear_cache()
    fa = inference.build_predictor(a, opts)
    assert inference.build_predictor(dataclasses.replace(a, normalisation=a.normalisation), opts) is fa
    fb = inference.build_predictor(b, opts)
    assert fb is not fa
    assert inference.build_predictor(a, opts) is not fa  # evicted by the LRU of size 1


def test_infer_rejects_mismatched_groups(small_scan):
    from ptychopinn.grouping import make_grouped_scan

    model = _random_model(ModelConfig(N=64, gridsize=2, n_filters_scale=1), small_scan)
    with pytest.raises(ConfigError, match="gridsize 2"):
        _backend().infer(model, make_grouped_scan(small_scan, gridsize=1), InferenceConfig(), QUIET)


def test_bundle_round_trip_and_cross_backend_label(small_scan, tmp_path):
    from ptychopinn.bundle import write_bundle

    model = _random_model(ModelConfig(N=64, n_filters_scale=1), small_scan)
    path = ptychopinn.save_model(model, tmp_path / "m.ptychopinn.zip")
    loaded = _backend().load(path, QUIET)
    assert loaded.backend == "tensorflow" and loaded.source_backend is None
    for name, value in model.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], value)
    # a bundle whose manifest says another backend wrote it: loading here is recorded
    other = write_bundle(dataclasses.replace(model, backend="numpy-test"), tmp_path / "o.ptychopinn.zip")
    cross = _backend().load(other, QUIET)
    assert cross.backend == "tensorflow" and cross.source_backend == "numpy-test"


def test_load_refuses_weights_that_do_not_fit_the_config(small_scan, tmp_path):
    from ptychopinn.bundle import write_bundle

    model = _random_model(ModelConfig(N=64, n_filters_scale=1), small_scan)
    wrong = dataclasses.replace(model, model_config=ModelConfig(N=64, n_filters_scale=2))
    path = write_bundle(wrong, tmp_path / "bad.ptychopinn.zip")
    with pytest.raises(BundleError, match="bad.ptychopinn.zip.*decoder_amp.0.conv0.bias has shape"):
        _backend().load(path, QUIET)


@pytest.mark.parametrize("gridsize", [1, 2])
def test_chunked_network_calls_equal_unchunked(small_scan, gridsize, monkeypatch):
    """``inference_chunk_size`` bounds every network call; the patches do not depend on it."""
    from ptychopinn.grouping import make_grouped_scan

    from ptychopinn_tf import inference

    cfg = ModelConfig(N=64, gridsize=gridsize, n_filters_scale=1)
    model = _random_model(cfg, small_scan)
    grouped = make_grouped_scan(small_scan, gridsize=gridsize)
    sizes: list[int] = []
    real = inference.build_predictor

    def spy(m, opts):
        predict = real(m, opts)

        def counted(x, off):
            sizes.append(int(x.shape[0]))
            return predict(x, off)

        return counted

    monkeypatch.setattr(inference, "build_predictor", spy)
    icfg = InferenceConfig(batch_size=256)
    whole = inference.infer(model, grouped, icfg, dataclasses.replace(QUIET, inference_chunk_size=None)).patches
    assert sizes == [grouped.n_groups]
    sizes.clear()
    chunked = inference.infer(model, grouped, icfg, dataclasses.replace(QUIET, inference_chunk_size=3)).patches
    assert max(sizes) == 3 and sum(sizes) == grouped.n_groups
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6 * np.abs(whole).max())


def test_chunk_size_rules():
    from ptychopinn_tf.inference import chunk_size

    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/cpu:0"), 256) == 16
    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/cpu:0"), 4) == 4
    assert chunk_size(TFOptions(inference_chunk_size=None), 256) == 256
    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/gpu:0"), 256) == 256
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="inference_chunk_size"):
            TFOptions(inference_chunk_size=bad)
