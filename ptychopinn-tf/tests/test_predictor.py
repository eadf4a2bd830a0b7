"""``TFPredictor``: the network of a model, built once, equal to core's reference, one trace."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import ptychopinn
from ptychopinn.architecture import reference_predict
from ptychopinn.config import InferenceConfig, ModelConfig
from ptychopinn.errors import BundleError, ConfigError
from ptychopinn.plugins.predictor import Predictor

from ptychopinn_tf.options import TFOptions
from ptychopinn_tf.predictor import TFPredictor, build_predictor, chunk_size

QUIET = TFOptions(verbose=0)
ATOL = 1e-5


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(N=64, n_filters_scale=1),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, object_big=False),
        ModelConfig(N=64, n_filters_scale=2, architecture="fast"),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, architecture="fast"),
    ],
    ids=lambda c: f"{c.architecture}-g{c.gridsize}-big{c.object_big}",
)
def test_predict_is_the_reference_network_output(make_model, config, rng):
    model = make_model(config)
    predictor = build_predictor(model, QUIET)
    assert isinstance(predictor, Predictor) and predictor.backend == "tensorflow"
    x = rng.uniform(0, 1, (5, config.channels, config.N, config.N)).astype(np.float32)
    got = predictor.predict(x)
    ref = reference_predict(config, model.weights, x)
    c_out = config.channels if config.object_big else 1
    assert got.shape == (5, c_out, config.N, config.N) and got.dtype == np.complex64
    assert np.max(np.abs(got - ref)) <= ATOL


def test_one_trace_for_every_batch_size_and_chunking_is_invisible(make_model, rng):
    model = make_model(ModelConfig(N=64, n_filters_scale=1, architecture="fast"))
    x = rng.uniform(0, 1, (7, 1, 64, 64)).astype(np.float32)
    whole = TFPredictor(model, dataclasses.replace(QUIET, inference_chunk_size=None))
    chunked = TFPredictor(model, dataclasses.replace(QUIET, inference_chunk_size=3))
    sizes: list[int] = []
    forward = chunked._forward

    def spy(batch):
        sizes.append(int(batch.shape[0]))
        return forward(batch)

    chunked._forward = spy
    ref = whole.predict(x)
    got = chunked.predict(x)
    assert sizes == [3, 3, 1]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    for b in (1, 2, 7):
        whole.predict(x[:b])
    assert whole._forward.experimental_get_tracing_count() == 1
    assert forward.experimental_get_tracing_count() == 1


def test_chunk_size_rules():
    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/cpu:0"), 256) == 16
    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/cpu:0"), 4) == 4
    assert chunk_size(TFOptions(inference_chunk_size=None), 256) == 256
    assert chunk_size(TFOptions(inference_chunk_size=16, inference_device="/gpu:0"), 256) == 256
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="inference_chunk_size"):
            TFOptions(inference_chunk_size=bad)


def test_mismatched_weights_are_refused(make_model):
    model = make_model(ModelConfig(N=64, n_filters_scale=1))
    wrong = dataclasses.replace(model, model_config=ModelConfig(N=64, n_filters_scale=1, architecture="fast"))
    with pytest.raises(BundleError, match="missing"):
        build_predictor(wrong, QUIET)


@pytest.mark.parametrize("gridsize", [1, 2])
def test_core_inference_through_the_backend_is_the_group_object_of_the_reference(make_model, small_scan, gridsize):
    """End to end through core (cache, batching, grouping) with this backend's predictor."""
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.physics import group_object

    cfg = ModelConfig(N=64, gridsize=gridsize, n_filters_scale=1, architecture="fast")
    model = make_model(cfg)
    grouped = make_grouped_scan(small_scan, gridsize=gridsize, seed=0)
    backend = ptychopinn.get_backend("tensorflow")
    pred = backend.infer(model, grouped, InferenceConfig(batch_size=5), QUIET)
    assert backend.predictor(model, QUIET) is backend.predictor(model, QUIET)
    x = grouped.batch_diffraction(0, grouped.n_groups) * model.normalisation.network_scale
    ref = group_object(reference_predict(cfg, model.weights, x), grouped.offsets if gridsize > 1 else None)
    assert pred.patches.shape == (grouped.n_groups, 64, 64)
    assert np.max(np.abs(pred.patches - ref)) <= 1e-5 * max(1.0, np.max(np.abs(ref)))
