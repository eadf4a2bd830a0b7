"""Core's framework-free helpers that both training backends call (options, refinement window,
loss formulas, the trained-model record): each checked against core's numpy definitions."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import xlogy

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.config.backend_options import resolve_dataclass_options
from ptychopinn.errors import ConfigError
from ptychopinn.physics.array_losses import pinn_loss_with, supervised_loss_with
from ptychopinn.physics.losses import amplitude_mae, poisson_half_deviance
from ptychopinn.physics.normalisation import estimate_normalisation
from ptychopinn.plugins.training_result import trained_model
from ptychopinn.refinement.operator import NumpyRefinementOperator, robust_half_deviance
from ptychopinn.refinement.problem import RefinementProblem, RefinementState
from ptychopinn.refinement.windowed import (
    RefinementWindow,
    WindowedRefinementOperator,
    WindowGradients,
    robust_half_deviance_with,
)
from ptychopinn.results import CanvasSpec, TrainingData
from ptychopinn.testing.refinement import refinement_test_problem

NUMPY_OPS = SimpleNamespace(
    sqrt=np.sqrt, log=np.log, where=np.where, ones_like=np.ones_like, zeros_like=np.zeros_like,
    xlogy=xlogy, abs=np.abs, angle=np.angle, mean=np.mean,
)


@dataclass(frozen=True, kw_only=True)
class _Options:
    threads: int = 1
    devices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise ConfigError(f"_Options.threads must be >= 1, got {self.threads}")


def test_options_resolve_none_instance_and_mapping() -> None:
    assert resolve_dataclass_options(_Options, None, label="Test") == _Options()
    given = _Options(threads=3)
    assert resolve_dataclass_options(_Options, given, label="Test") is given
    found = resolve_dataclass_options(_Options, {"devices": ["a", "b"]}, label="Test", tuple_fields=("devices",))
    assert found == _Options(devices=("a", "b"))


def test_options_errors_name_the_key_the_value_and_the_type() -> None:
    with pytest.raises(ConfigError, match=r"unknown Test backend option\(s\) 'thraeds'; known: devices, threads"):
        resolve_dataclass_options(_Options, {"thraeds": 2}, label="Test")
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        resolve_dataclass_options(_Options, {"threads": 0}, label="Test")
    with pytest.raises(ConfigError, match="_Options, a mapping or None, got list"):
        resolve_dataclass_options(_Options, [("threads", 2)], label="Test")


class _CroppedNumpyOperator(WindowedRefinementOperator):
    """Autograd step stand-in: core's numpy reference run on the window's region only."""

    def __init__(self, problem: RefinementProblem) -> None:
        super().__init__(problem)
        self.windows: list[RefinementWindow] = []

    def window_gradients(self, window: RefinementWindow, *, probe: bool, positions: bool) -> WindowGradients:
        self.windows.append(window)
        x0, y0 = self.problem.canvas.origin
        r0, c0 = window.origin
        crop = CanvasSpec(shape=window.object.shape, origin=(x0 + c0, y0 + r0))
        sub = RefinementProblem(amplitudes=self.problem.amplitudes[window.indices], canvas=crop)
        state = RefinementState(object=window.object, probe=window.probe, positions=window.positions)
        g = NumpyRefinementOperator(sub).gradients(
            state, np.arange(window.indices.size), probe=probe, positions=positions
        )
        return WindowGradients(loss=g.loss, object_gradient=g.object_gradient, probe_gradient=g.probe_gradient,
                               position_gradient=g.position_gradient)


def test_windowed_operator_equals_the_reference_on_the_whole_canvas() -> None:
    problem, state = refinement_test_problem(N=8, n_patterns=6, seed=1)
    idx = np.array([4, 1, 3])
    want = NumpyRefinementOperator(problem).gradients(state, idx, probe=True, positions=True)
    op = _CroppedNumpyOperator(problem)
    got = op.gradients(state, idx, probe=True, positions=True)
    window = op.windows[0]
    assert window.object.shape[0] < problem.canvas.shape[0] or window.object.shape[1] < problem.canvas.shape[1]
    assert got.object_gradient.shape == problem.canvas.shape and got.object_gradient.dtype == np.complex128
    np.testing.assert_allclose(got.loss, want.loss, rtol=1e-12)
    np.testing.assert_allclose(got.object_gradient, want.object_gradient, atol=1e-12)
    np.testing.assert_allclose(got.probe_gradient, want.probe_gradient, atol=1e-12)
    np.testing.assert_allclose(got.position_gradient, want.position_gradient, atol=1e-12)


def test_windowed_operator_empty_batch_and_off_canvas() -> None:
    problem, state = refinement_test_problem(N=8, n_patterns=4)
    op = _CroppedNumpyOperator(problem)
    empty = op.gradients(state, np.array([], dtype=np.int64), probe=True, positions=True)
    assert empty.loss == 0.0 and not op.windows
    assert not empty.object_gradient.any() and empty.probe_gradient.shape == (8, 8)
    assert empty.position_gradient.shape == (0, 2)
    far = RefinementState(object=state.object, probe=state.probe, positions=state.positions + 1000.0)
    with pytest.raises(ValueError, match="moved off"):
        op.gradients(state=far, indices=np.array([0]))
    with pytest.raises(NotImplementedError, match="window_gradients"):
        WindowedRefinementOperator(problem).gradients(state, np.array([0]))


def test_robust_half_deviance_with_numpy_is_the_reference() -> None:
    rng = np.random.default_rng(0)
    k = rng.poisson(20.0, (64,)).astype(np.float64)
    k[:5] = 0.0
    a = np.sqrt(k) * rng.uniform(0.0, 2.0, k.shape)
    a[5] = 0.0
    np.testing.assert_allclose(robust_half_deviance_with(a, k, NUMPY_OPS), robust_half_deviance(a, k)[0], atol=1e-9)


def test_loss_formulas_with_numpy_match_core_losses() -> None:
    rng = np.random.default_rng(2)
    s = 0.25
    observed = s * np.sqrt(rng.poisson(30.0, (2, 1, 8, 8)))
    predicted = observed * rng.uniform(0.5, 1.5, observed.shape)
    got = pinn_loss_with(predicted, observed, input_scale=s, nll_weight=1.0, mae_weight=0.5, ops=NUMPY_OPS)
    want = poisson_half_deviance(predicted / s, observed / s) + 0.5 * amplitude_mae(predicted, observed)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert pinn_loss_with(observed, observed, input_scale=s, nll_weight=1.0, mae_weight=0.0, ops=NUMPY_OPS) < 1e-9
    assert pinn_loss_with(predicted, observed, input_scale=s, nll_weight=0.0, mae_weight=0.0, ops=NUMPY_OPS) == 0.0
    truth = np.exp(1j * rng.uniform(-1, 1, (2, 1, 4, 4)))
    assert supervised_loss_with(truth, truth, NUMPY_OPS) == 0.0
    np.testing.assert_allclose(supervised_loss_with(2 * truth, truth, NUMPY_OPS), 1.0)


def test_trained_model_record() -> None:
    diffraction = np.ones((3, 8, 8), np.float32)
    data = TrainingData(train=SimpleNamespace(n_groups=5), validation=None, probe=np.ones((8, 8), np.complex128),
                        normalisation=estimate_normalisation(diffraction))
    model = trained_model(
        data, ModelConfig(N=64, gridsize=1), TrainingConfig(), backend="numpy", backend_version="1",
        weights={"w": np.zeros(2, np.float32)}, epochs_run=2, history={"loss": (2.0, 1.0)}, wall_time_s=1.5,
        stopped_early=False, metadata={"replicas": 1},
    )
    assert model.probe.dtype == np.complex64 and model.metadata == {"replicas": "1"}
    summary = model.training_summary
    assert (summary.n_train_groups, summary.n_validation_groups, summary.epochs_run) == (5, 0, 2)
