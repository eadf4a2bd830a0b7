"""OnnxPredictor equals core's numpy reference on both architectures; one session per build."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ptychopinn.architecture import reference_predict
from ptychopinn.config import ModelConfig
from ptychopinn.errors import ConfigError
from ptychopinn.plugins.predictor import Predictor
from ptychopinn_onnx.predictor import OnnxPredictor, build_predictor

from conftest import ONE_THREAD, diffraction, make_model


def test_matches_reference_predict(config: ModelConfig) -> None:
    model = make_model(config)
    x = diffraction(config, batch=3)
    predictor = build_predictor(model, ONE_THREAD)
    out = predictor.predict(x)
    ref = reference_predict(config, model.weights, x)
    c_out = config.channels if config.object_big else 1
    assert out.shape == ref.shape == (3, c_out, config.N, config.N)
    assert out.dtype == np.complex64
    assert np.abs(out - ref).max() <= 1e-5
    assert np.abs(ref).max() > 0.1  # not a trivially zero comparison


def test_is_a_predictor_and_records_the_backend() -> None:
    predictor = build_predictor(make_model(ModelConfig(architecture="fast")), ONE_THREAD)
    assert isinstance(predictor, Predictor)
    assert predictor.backend == "onnx"


def test_chunking_does_not_change_the_output() -> None:
    config = ModelConfig(architecture="fast", gridsize=2)
    model = make_model(config)
    x = diffraction(config, batch=7)
    whole = build_predictor(model, replace(ONE_THREAD, inference_chunk_size=None)).predict(x)
    chunked = build_predictor(model, replace(ONE_THREAD, inference_chunk_size=3)).predict(x)
    np.testing.assert_array_equal(whole, chunked)
    assert build_predictor(model, ONE_THREAD).predict(x[:0]).shape == (0, 4, 64, 64)


def test_different_weights_give_different_predictors() -> None:
    """No cache inside the backend: each build uses the weights it is given."""
    config = ModelConfig(architecture="fast")
    x = diffraction(config, batch=2)
    a = build_predictor(make_model(config, seed=1), ONE_THREAD).predict(x)
    b = build_predictor(make_model(config, seed=2), ONE_THREAD).predict(x)
    assert np.abs(a - b).max() > 1e-3


def test_wrong_input_shape_is_named() -> None:
    config = ModelConfig(architecture="fast", gridsize=2)
    predictor = build_predictor(make_model(config), ONE_THREAD)
    with pytest.raises(ConfigError, match=r"expects diffraction of shape \(B, 4, 64, 64\).*got \(2, 1, 64, 64\)"):
        predictor.predict(np.zeros((2, 1, 64, 64), np.float32))


def test_unavailable_provider_is_named() -> None:
    opts = replace(ONE_THREAD, providers=("NoSuchExecutionProvider", "CPUExecutionProvider"))
    with pytest.raises(ConfigError, match="NoSuchExecutionProvider not available.*available: .*CPUExecutionProvider"):
        build_predictor(make_model(ModelConfig(architecture="fast")), opts)


def test_session_is_built_once() -> None:
    predictor = build_predictor(make_model(ModelConfig(architecture="fast")), ONE_THREAD)
    assert isinstance(predictor, OnnxPredictor)
    session = predictor.session
    predictor.predict(diffraction(predictor.config, batch=1))
    predictor.predict(diffraction(predictor.config, batch=2))
    assert predictor.session is session
    assert session.get_providers() == ["CPUExecutionProvider"]
