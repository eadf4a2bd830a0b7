"""``BackendConformance``: the pytest base class a backend author subclasses (contract 2.0).

Usage, in the backend's own tests (this module is *not* a pytest plugin; import it)::

    from ptychopinn.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        backend_name = "mybackend"
        xfail_tests = {"test_train_seeded_runs_repeat": "GPU kernels are not deterministic"}

A backend is checked for what it declares (``BackendInfo.capabilities``); the tests of a
capability it does not declare are skipped with the reason. Tiers (test-name prefixes, so
``-k infer`` selects one):

- ``contract`` (always): entry point; ``BackendInfo`` (name, API version 2.x, version); every
  declared capability has its hook and every capability hook is declared; the plugin module
  imports no ML framework (fresh interpreter, ``sys.modules``).
- ``infer``: predictors built through core's ``Backend.predictor`` for the published and fast
  architectures, gridsize 1 and 2 (:data:`~ptychopinn.testing.models.INFER_CONFIGS`) equal
  :func:`ptychopinn.architecture.reference_predict` (relative 1e-4), complex64, shaped right;
  batch-size independence; no stale predictor (two models, one config, other weights);
  the same model built twice; ``Backend.infer`` end to end.
- ``train``: a tiny run gives canonical, finite float32 weights, the backend's name, a finite
  per-epoch loss that decreases; seeded runs repeat; the model round-trips through a bundle.
- ``physics_forward``: amplitudes equal :func:`ptychopinn.physics.forward_amplitude`
  (relative 1e-5); the linear part's adjointness against the oracle's adjoint.
- ``refine``: gradients equal :class:`ptychopinn.refinement.NumpyRefinementOperator`'s
  (relative 1e-4); the object gradient passes a directional-derivative test of the
  operator's own loss.
- ``export``: a non-empty file written atomically at the given path.

The same checks run without pytest through :func:`ptychopinn.testing.check_backend`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.plugins.backend import Backend
from ptychopinn.results import TrainedModel
from ptychopinn.testing import contract, inference, operators, refinement, training
from ptychopinn.testing.contract import FRAMEWORK_MODULES, PluginView
from ptychopinn.testing.models import INFER_CONFIGS, kit_model
from ptychopinn.testing.refinement import (
    reference_finite_differences,
    refinement_gradient_errors,
    refinement_test_problem,
)

__all__ = [
    "FRAMEWORK_MODULES",
    "BackendConformance",
    "reference_finite_differences",
    "refinement_gradient_errors",
    "refinement_test_problem",
]


def _require(backend: Backend, capability: str) -> None:
    if capability not in backend.info.capabilities:
        pytest.skip(f"backend '{backend.name}' does not declare capability '{capability}'")


class BackendConformance:
    """Conformance tests for one backend; subclass and set :attr:`backend_name`."""

    backend_name: ClassVar[str] = ""
    """Canonical name of the backend under test (its entry-point name)."""

    backend_options: ClassVar[Any] = None
    """Options passed through core (the backend's options dataclass, a mapping, or None)."""

    xfail_tests: ClassVar[dict[str, str]] = {}
    """Test name -> reason, for known deviations (marked xfail, not skipped: a fix shows up as XPASS)."""

    infer_configs: ClassVar[tuple[ModelConfig, ...]] = INFER_CONFIGS
    """Architectures of the ``infer`` tier."""

    model_config: ClassVar[ModelConfig] = ModelConfig(N=64, gridsize=1, n_filters_scale=1)
    """Architecture of the ``train`` tier (small, CPU friendly)."""

    training_config: ClassVar[TrainingConfig] = TrainingConfig(
        epochs=3, batch_size=4, validation_fraction=0.0, early_stopping_patience=None, learning_rate=1e-3
    )
    """Training budget of the ``train`` tier."""

    infer_rtol: ClassVar[float] = 1e-4
    """Relative tolerance of predictor outputs against the numpy reference."""

    forward_rtol: ClassVar[float] = 1e-5
    """Relative tolerance of the forward amplitudes (float32)."""

    adjoint_rtol: ClassVar[float] = 1e-4
    """Relative tolerance of the adjointness test of the forward model's linear part."""

    refinement_rtol: ClassVar[float] = 1e-4
    """Relative tolerance of the refinement loss and gradients against the reference."""

    directional_rtol: ClassVar[float] = 1e-2
    """Relative tolerance of the object gradient's directional-derivative test (float32 loss)."""

    # ----------------------------------------------------------------- fixtures
    @classmethod
    def pytest_generate_tests(cls, metafunc: pytest.Metafunc) -> None:
        if "infer_config" in metafunc.fixturenames:
            ids = [f"{c.architecture}-gridsize{c.gridsize}" for c in cls.infer_configs]
            metafunc.parametrize("infer_config", cls.infer_configs, ids=ids)

    @pytest.fixture(autouse=True)
    def _conformance_xfail(self, request: pytest.FixtureRequest) -> None:
        name = getattr(request.node, "originalname", None) or request.node.name
        reason = self.xfail_tests.get(name)
        if reason:
            request.node.add_marker(pytest.mark.xfail(reason=reason, strict=False))

    @pytest.fixture(scope="class")
    @classmethod
    def plugin(cls) -> PluginView:
        if not cls.backend_name:
            pytest.fail(f"{cls.__name__}.backend_name is not set")
        return contract.plugin_view(cls.backend_name)

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> Backend:
        if not cls.backend_name:
            pytest.fail(f"{cls.__name__}.backend_name is not set")
        from ptychopinn.plugins.registry import get_backend

        return get_backend(cls.backend_name)

    @pytest.fixture(scope="class")
    @classmethod
    def scan(cls) -> ScanData:
        from ptychopinn.testing.synthetic import synthetic_scan

        return synthetic_scan(N=cls.model_config.N, n_side=4, step_px=8, seed=0)

    @pytest.fixture(scope="class")
    @classmethod
    def trained(cls, backend: Backend, scan: ScanData) -> TrainedModel:
        _require(backend, "train")
        return training.train_small(backend, scan, cls.model_config, cls.training_config,
                                    options=cls.backend_options, seed=0)

    # ----------------------------------------------------------------- contract
    def test_contract_entry_point(self) -> None:
        contract.check_entry_point(self.backend_name)

    def test_contract_metadata(self, plugin: PluginView) -> None:
        contract.check_metadata(plugin)

    def test_contract_capabilities_match_hooks(self, plugin: PluginView) -> None:
        contract.check_capabilities_match_hooks(plugin)

    def test_contract_plugin_imports_no_framework(self, plugin: PluginView) -> None:
        contract.check_plugin_imports_no_framework(plugin)

    def test_contract_core_loads_it(self, backend: Backend, plugin: PluginView) -> None:
        assert backend.info == plugin.info and backend.capabilities == plugin.info.capabilities

    # ----------------------------------------------------------------- infer
    def test_infer_matches_reference(self, backend: Backend, infer_config: ModelConfig) -> None:
        _require(backend, "infer")
        inference.check_predictor_matches_reference(backend, infer_config, options=self.backend_options,
                                                    rtol=self.infer_rtol)

    def test_infer_batch_size_independent(self, backend: Backend, infer_config: ModelConfig) -> None:
        _require(backend, "infer")
        inference.check_batch_size_independent(backend, infer_config, options=self.backend_options,
                                               rtol=self.infer_rtol)

    def test_infer_no_stale_predictor_cache(self, backend: Backend) -> None:
        _require(backend, "infer")
        for config in self.infer_configs[:2]:
            inference.check_no_stale_predictor_cache(backend, config, options=self.backend_options,
                                                     rtol=self.infer_rtol)

    def test_infer_same_model_twice(self, backend: Backend) -> None:
        _require(backend, "infer")
        inference.check_same_model_twice(backend, self.infer_configs[0], options=self.backend_options,
                                         rtol=self.infer_rtol)

    def test_infer_through_core(self, backend: Backend, infer_config: ModelConfig) -> None:
        _require(backend, "infer")
        inference.check_infer_through_core(backend, infer_config, options=self.backend_options, rtol=self.infer_rtol)

    # ----------------------------------------------------------------- train
    def test_train_returns_canonical_model(self, backend: Backend, trained: TrainedModel) -> None:
        training.check_trained_model(trained, backend=backend.name, model_config=self.model_config)

    def test_train_loss_decreases(self, trained: TrainedModel) -> None:
        training.check_loss_decreases(trained)

    def test_train_seeded_runs_repeat(self, backend: Backend, scan: ScanData, trained: TrainedModel) -> None:
        import numpy as np

        again = training.train_small(backend, scan, self.model_config, self.training_config,
                                     options=self.backend_options, seed=0)
        assert set(again.weights) == set(trained.weights)
        for name, value in trained.weights.items():
            np.testing.assert_allclose(again.weights[name], value, rtol=1e-6, atol=1e-7, err_msg=name)

    def test_train_bundle_round_trip(self, trained: TrainedModel, tmp_path: Path) -> None:
        import numpy as np

        import ptychopinn

        loaded = ptychopinn.load_model(ptychopinn.save_model(trained, tmp_path / "model.ptychopinn.zip"))
        assert loaded.backend == trained.backend and set(loaded.weights) == set(trained.weights)
        for name, value in trained.weights.items():
            np.testing.assert_array_equal(loaded.weights[name], value, err_msg=name)

    # ----------------------------------------------------------------- physics_forward
    @pytest.mark.parametrize("gridsize", [1, 2])
    def test_physics_forward_matches_oracle(self, backend: Backend, gridsize: int) -> None:
        _require(backend, "physics_forward")
        operators.check_physics_forward_matches_oracle(backend, gridsize, rtol=self.forward_rtol)

    def test_physics_forward_adjoint(self, backend: Backend) -> None:
        _require(backend, "physics_forward")
        operators.check_forward_adjointness(backend, rtol=self.adjoint_rtol)

    # ----------------------------------------------------------------- refine
    def test_refine_gradients_match_reference(self, backend: Backend) -> None:
        _require(backend, "refine")
        problem, _ = refinement_test_problem()
        operator = backend.refinement_operator(problem, self.backend_options)
        refinement.check_refinement_gradients(operator, backend=backend.name, rtol=self.refinement_rtol)

    def test_refine_object_gradient_directional_derivative(self, backend: Backend) -> None:
        _require(backend, "refine")
        refinement.check_object_gradient_directional(
            lambda problem: backend.refinement_operator(problem, self.backend_options), rtol=self.directional_rtol
        )

    # ----------------------------------------------------------------- export
    def test_export_writes_file_atomically(self, backend: Backend, tmp_path: Path) -> None:
        _require(backend, "export")
        model = kit_model(self.infer_configs[0], seed=8, backend=backend.name)
        training.check_export(backend, model, tmp_path / "export", options=self.backend_options)
