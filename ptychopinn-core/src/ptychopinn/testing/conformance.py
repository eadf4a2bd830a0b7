"""``BackendConformance``: the pytest base class a backend author subclasses.

Usage, in the backend's own tests (this module is *not* a pytest plugin; import it)::

    from ptychopinn.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        backend_name = "mybackend"
        xfail_tests = {"test_smoke_seeded_runs_repeat": "GPU kernels are not deterministic"}

Tiers (test-name prefixes, so ``-k contract`` selects one):

- ``contract``: discovered through its entry point; metadata valid and name normalised;
  the plugin module imports no ML framework (fresh interpreter, ``sys.modules``);
  hook signatures validated by pluggy; required hooks present.
- ``numerics``: ``reassemble`` agrees with core's numpy stitcher; the optional
  ``ptychopinn_physics_forward`` hook agrees with :func:`ptychopinn.physics.forward_amplitude`
  (relative 1e-5); the optional ``ptychopinn_refinement_operator`` hook's loss and gradients
  agree with :class:`ptychopinn.refinement.NumpyRefinementOperator` (relative 1e-4);
  ``infer`` of a briefly trained model is finite and shaped right.
- ``smoke``: a few training epochs give a finite, decreasing loss; save -> load gives
  identical ``infer`` output; two runs with one seed give the same weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.data.scan import ScanData
from ptychopinn.plugins.backend import Backend
from ptychopinn.refinement import NumpyRefinementOperator, RefinementOperator, RefinementProblem, RefinementState
from ptychopinn.results import CanvasSpec, TrainedModel

__all__ = [
    "FRAMEWORK_MODULES",
    "BackendConformance",
    "reference_finite_differences",
    "refinement_gradient_errors",
    "refinement_test_problem",
]

FRAMEWORK_MODULES: tuple[str, ...] = ("tensorflow", "keras", "torch", "lightning", "jax", "pytorch_lightning")
"""Top-level modules a plugin module must not import."""


class BackendConformance:
    """Conformance tests for one backend; subclass and set :attr:`backend_name`."""

    backend_name: ClassVar[str] = ""
    """Canonical name of the backend under test (its entry-point name)."""

    xfail_tests: ClassVar[dict[str, str]] = {}
    """Test name -> reason, for known deviations (marked xfail, not skipped: a fix shows up as XPASS)."""

    model_config: ClassVar[ModelConfig] = ModelConfig(N=64, gridsize=1, n_filters_scale=1)
    """Architecture used by the numerics and smoke tiers (small, CPU friendly)."""

    smoke_training: ClassVar[TrainingConfig] = TrainingConfig(
        epochs=3, batch_size=4, validation_fraction=0.0, early_stopping_patience=None, learning_rate=1e-3
    )
    """Training budget of the smoke tier."""

    forward_rtol: ClassVar[float] = 1e-5
    """Relative tolerance of the physics comparison (float32)."""

    reassemble_rtol: ClassVar[float] = 1e-5
    """Relative tolerance of the reassembly comparison."""

    refinement_rtol: ClassVar[float] = 1e-4
    """Relative tolerance of the refinement loss and gradients (float32 on the backend's device)."""

    backend_options: ClassVar[Any] = None
    """Options passed to train/infer/load/refinement_operator (backend-owned)."""

    # ----------------------------------------------------------------- fixtures
    @pytest.fixture(autouse=True)
    def _conformance_xfail(self, request: pytest.FixtureRequest) -> None:
        name = getattr(request.node, "originalname", None) or request.node.name
        reason = self.xfail_tests.get(name)
        if reason:
            request.node.add_marker(pytest.mark.xfail(reason=reason, strict=False))

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
        return cls._train(backend, scan, seed=0)

    @classmethod
    def _train(cls, backend: Backend, scan: ScanData, *, seed: int) -> TrainedModel:
        import dataclasses

        import ptychopinn

        cfg = dataclasses.replace(cls.smoke_training, seed=seed)
        return ptychopinn.train(scan, backend=backend.name, model_config=cls.model_config, training_config=cfg,
                                options=cls.backend_options)

    def _grouped(self, scan: ScanData) -> Any:
        from ptychopinn.grouping import make_grouped_scan

        return make_grouped_scan(scan, gridsize=self.model_config.gridsize, seed=0)

    # ----------------------------------------------------------------- contract
    def test_contract_discovered_through_entry_point(self, backend: Backend) -> None:
        from importlib import metadata

        from ptychopinn.plugins.names import ENTRY_POINT_GROUP

        names = [ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
        assert self.backend_name in names, f"no entry point {self.backend_name!r} in group {ENTRY_POINT_GROUP}"
        assert backend.entry_point and backend.distribution

    def test_contract_metadata(self, backend: Backend) -> None:
        from ptychopinn.plugins import BACKEND_API_VERSION, BackendInfo

        info = backend.info
        assert isinstance(info, BackendInfo)
        assert info.name == self.backend_name == info.name.strip().lower()
        assert " " not in info.name
        assert info.api_version[0] == BACKEND_API_VERSION[0] and info.api_version[1] <= BACKEND_API_VERSION[1]
        assert isinstance(info.version, str) and info.version

    def test_contract_plugin_imports_no_framework(self, backend: Backend) -> None:
        code = (
            "import importlib, json, sys\n"
            f"importlib.import_module({backend.entry_point.split(':')[0].strip()!r})\n"
            f"print(json.dumps(sorted(m for m in {list(FRAMEWORK_MODULES)!r} if m in sys.modules)))\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        loaded = json.loads(proc.stdout.strip().splitlines()[-1])
        assert loaded == [], f"importing {backend.entry_point} imported {loaded}"

    def test_contract_required_hooks_and_signatures(self, backend: Backend) -> None:
        from ptychopinn.plugins.registry import REQUIRED_HOOKS

        # pluggy validated every hookimpl signature against BackendSpec when the backend loaded.
        for hook in REQUIRED_HOOKS:
            assert backend.implements(hook), f"missing required hook {hook}"

    # ----------------------------------------------------------------- numerics
    def test_numerics_reassemble_matches_core(self, backend: Backend, scan: ScanData) -> None:
        from ptychopinn.results import PatchPrediction
        from ptychopinn.stitching import reassemble

        rng = np.random.default_rng(1)
        N = scan.N
        patches = (rng.uniform(0.5, 1.0, (scan.n_patterns, N, N))
                   * np.exp(1j * rng.uniform(-1, 1, (scan.n_patterns, N, N)))).astype(np.complex64)
        prediction = PatchPrediction(patches=patches, positions=scan.positions, backend=backend.name)
        config = InferenceConfig()
        got = backend.reassemble(prediction, scan.probe, config, None)
        ref = reassemble(patches, scan.positions, scan.probe, config=config)
        assert got.object.shape == ref.object.shape and got.canvas == ref.canvas
        assert np.array_equal(got.valid, ref.valid)
        scale = np.max(np.abs(ref.object))
        np.testing.assert_allclose(got.object[ref.valid], ref.object[ref.valid], rtol=self.reassemble_rtol,
                                   atol=self.reassemble_rtol * scale)

    @pytest.mark.parametrize("gridsize", [1, 2])
    def test_numerics_physics_forward_matches_core(self, backend: Backend, gridsize: int) -> None:
        from ptychopinn.grouping import group_neighbours
        from ptychopinn.physics import forward_amplitude, normalise_probe
        from ptychopinn.testing.synthetic import synthetic_scan

        if not backend.implements("ptychopinn_physics_forward"):
            pytest.skip("backend does not implement the optional ptychopinn_physics_forward hook")
        scan = synthetic_scan(N=self.model_config.N, n_side=3, step_px=5, seed=2)
        groups = group_neighbours(scan.positions, gridsize=gridsize, seed=0)
        B, C = groups.indices.shape
        N = scan.N
        rng = np.random.default_rng(3)
        patches = (rng.uniform(0.2, 1.0, (B, C, N, N)) * np.exp(1j * rng.uniform(-2, 2, (B, C, N, N))))
        patches = patches.astype(np.complex64)
        probe = normalise_probe(scan.probe, reference_transmission=0.6)
        offsets = groups.offsets if C > 1 else None
        for object_big, log_scale in ((True, 0.0), (True, 0.3), (False, 0.0)):
            obj = patches if object_big or C == 1 else patches[:, :1]
            got = backend.physics_forward(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
            ref = forward_amplitude(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
            assert got is not None and got.shape == ref.shape, (None if got is None else got.shape, ref.shape)
            np.testing.assert_allclose(got, ref, rtol=self.forward_rtol, atol=self.forward_rtol * np.max(ref))

    def test_numerics_refinement_gradients_match_reference(self, backend: Backend) -> None:
        if not backend.implements("ptychopinn_refinement_operator"):
            pytest.skip("backend does not implement the optional ptychopinn_refinement_operator hook (API 1.1); "
                        "refinement uses core's numpy reference operator")
        problem, state = refinement_test_problem()
        before = state.copy()
        operator = backend.refinement_operator(problem, self.backend_options)
        assert operator.name == backend.name, f"operator.name {operator.name!r} is not the backend's name"
        indices = np.random.default_rng(4).permutation(problem.n_patterns)[: problem.n_patterns - 3]
        errors = refinement_gradient_errors(operator, problem, state, indices)
        for key in ("object", "probe", "positions"):
            np.testing.assert_array_equal(getattr(state, key), getattr(before, key), err_msg=f"state.{key} modified")
        bad = {name: err for name, err in errors.items() if not err <= self.refinement_rtol}
        assert not bad, f"refinement operator differs from the numpy reference (max relative errors): {errors}"

    def test_numerics_infer_finite_and_shaped(self, backend: Backend, trained: TrainedModel, scan: ScanData) -> None:
        data = self._grouped(scan)
        pred = backend.infer(trained, data, InferenceConfig(), self.backend_options)
        assert pred.patches.shape == (data.n_groups, scan.N, scan.N)
        assert np.iscomplexobj(pred.patches)
        assert np.all(np.isfinite(pred.patches))
        np.testing.assert_allclose(pred.positions, data.centres)

    # ----------------------------------------------------------------- smoke
    def test_smoke_training_loss_finite_and_decreasing(self, trained: TrainedModel) -> None:
        assert trained.backend == self.backend_name
        summary = trained.training_summary
        assert summary is not None and summary.epochs_run >= 1
        loss = np.asarray(summary.history["loss"], dtype=np.float64)
        assert loss.size >= 2 and np.all(np.isfinite(loss)), loss
        assert loss[-1] < loss[0], f"loss did not decrease: {loss}"

    def test_smoke_save_load_identical_infer(
        self, backend: Backend, trained: TrainedModel, scan: ScanData, tmp_path: Path
    ) -> None:
        import ptychopinn

        path = ptychopinn.save_model(trained, tmp_path / "model.ptychopinn.zip")
        loaded = ptychopinn.load_model(path, options=self.backend_options)
        assert loaded.backend == self.backend_name
        assert set(loaded.weights) == set(trained.weights)
        for name, value in trained.weights.items():
            np.testing.assert_array_equal(loaded.weights[name], value, err_msg=name)
        data = self._grouped(scan)
        before = backend.infer(trained, data, InferenceConfig(), self.backend_options).patches
        after = backend.infer(loaded, data, InferenceConfig(), self.backend_options).patches
        np.testing.assert_array_equal(after, before)

    def test_smoke_seeded_runs_repeat(self, backend: Backend, trained: TrainedModel, scan: ScanData) -> None:
        again = self._train(backend, scan, seed=0)
        assert set(again.weights) == set(trained.weights)
        for name, value in trained.weights.items():
            np.testing.assert_allclose(again.weights[name], value, rtol=1e-6, atol=1e-7, err_msg=name)


# --------------------------------------------------------------------------- refinement helpers
def refinement_test_problem(
    *, N: int = 16, n_patterns: int = 12, seed: int = 0
) -> tuple[RefinementProblem, RefinementState]:
    """A small random refinement problem that reaches every branch of the robust loss.

    Random complex object on a canvas with a non-zero origin, random complex probe, sub-pixel
    positions (fractions away from 0 and 1, so finite differences do not cross a pixel), and
    Poisson counts of the predicted intensity times a random factor in [0.3, 6] per pixel: many
    pixels lie in the Taylor branch (``a < ROBUST_FRACTION sqrt(k)``), and pixel row 0 of every
    pattern measures 0 counts.

    Returns
    -------
    problem : RefinementProblem
        (M, N, N) float32 amplitudes.
    state : RefinementState
        Object (H, W) complex128, probe (N, N) complex128, positions (M, 2) float64.
    """
    rng = np.random.default_rng(seed)
    H, W = 3 * N + 3, 3 * N + 7
    canvas = CanvasSpec(shape=(H, W), origin=(-5, 3))
    obj = rng.uniform(0.3, 1.0, (H, W)) * np.exp(1j * rng.uniform(-np.pi, np.pi, (H, W)))
    probe = 5.0 * (rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N)))
    low = np.array(canvas.origin, dtype=np.float64) + N / 2 + 1
    span = np.array([W, H], dtype=np.float64) - N - 3
    positions = low + rng.integers(0, span.astype(np.int64), (n_patterns, 2)) + rng.uniform(0.1, 0.9, (n_patterns, 2))
    state = RefinementState(object=obj, probe=probe, positions=positions)
    empty = RefinementProblem(amplitudes=np.zeros((n_patterns, N, N), np.float32), canvas=canvas)
    intensity = NumpyRefinementOperator(empty).predicted_amplitudes(state, np.arange(n_patterns)) ** 2
    counts = rng.poisson(intensity * rng.uniform(0.3, 6.0, intensity.shape)).astype(np.float64)
    counts[:, 0, :] = 0
    return RefinementProblem(amplitudes=np.sqrt(counts).astype(np.float32), canvas=canvas), state


def refinement_gradient_errors(
    operator: RefinementOperator, problem: RefinementProblem, state: RefinementState, indices: np.ndarray
) -> dict[str, float]:
    """Max relative errors of ``operator`` against core's numpy reference on one batch.

    Each gradient is compared as ``max |g - g_ref| / max |g_ref|`` (probe and positions
    requested); a missing or misshapen array counts as error ``inf``.

    Returns
    -------
    dict
        ``loss``, ``object``, ``probe``, ``positions`` -> float.
    """
    ref = NumpyRefinementOperator(problem).gradients(state, indices, probe=True, positions=True)
    got = operator.gradients(state, indices, probe=True, positions=True)

    def rel(a: Any, b: np.ndarray) -> float:
        if a is None or np.shape(a) != b.shape:
            return float("inf")
        return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))

    return {
        "loss": abs(float(got.loss) - ref.loss) / abs(ref.loss),
        "object": rel(got.object_gradient, ref.object_gradient),
        "probe": rel(got.probe_gradient, ref.probe_gradient),  # type: ignore[arg-type]
        "positions": rel(got.position_gradient, ref.position_gradient),  # type: ignore[arg-type]
    }


def reference_finite_differences(
    problem: RefinementProblem, state: RefinementState, indices: np.ndarray, *,
    object_pixels: np.ndarray, probe_pixels: np.ndarray, eps: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central finite differences of the reference's robust loss (float64).

    Parameters
    ----------
    object_pixels, probe_pixels : (K, 2) int, (row, column) of the entries to differentiate
    eps : float
        Step, in the units of each variable.

    Returns
    -------
    d_object, d_probe : (K,) complex128
        ``dL/dz* = (dL/dRe z + i dL/dIm z) / 2`` at the given pixels.
    d_positions : (B, 2) float64
        dL/d(x, y) of every batch pattern.
    """
    op = NumpyRefinementOperator(problem)

    def loss(s: RefinementState) -> float:
        return op.gradients(s, indices).loss

    def wirtinger(key: str, pixels: np.ndarray) -> np.ndarray:
        out = np.empty(len(pixels), dtype=np.complex128)
        for n, (r, c) in enumerate(pixels):
            parts = []
            for step in (eps, 1j * eps):
                plus, minus = state.copy(), state.copy()
                getattr(plus, key)[r, c] += step
                getattr(minus, key)[r, c] -= step
                parts.append((loss(plus) - loss(minus)) / (2 * eps))
            out[n] = 0.5 * (parts[0] + 1j * parts[1])
        return out

    d_pos = np.empty((len(indices), 2))
    for b, m in enumerate(indices):
        for axis in (0, 1):
            plus, minus = state.copy(), state.copy()
            plus.positions[m, axis] += eps
            minus.positions[m, axis] -= eps
            d_pos[b, axis] = (loss(plus) - loss(minus)) / (2 * eps)
    return wirtinger("object", object_pixels), wirtinger("probe", probe_pixels), d_pos
