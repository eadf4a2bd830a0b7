"""``check_backend(name)``: every conformance check of one backend, without pytest.

Like scikit-learn's ``check_estimator``: run it in a script or a notebook, read the report::

    from ptychopinn.testing import check_backend

    report = check_backend("mybackend")
    print(report.summary())
    report.raise_for_failures()
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ptychopinn.testing.report import CheckResult, ConformanceFailure, ConformanceReport

__all__ = ["check_backend"]

TIERS: tuple[str, ...] = ("contract", "infer", "train", "physics_forward", "refine", "export")
"""Tiers in the order they run; every tier but ``contract`` is a capability."""


def _bind(check: Callable[..., None], backend: Callable[[], Any], config: Any, options: Any) -> Callable[[], None]:
    return lambda: check(backend(), config, options=options)


def _checks(name: str, options: Any, workdir: Path) -> list[tuple[str, str, Callable[[], Any]]]:
    from ptychopinn.config import ModelConfig, TrainingConfig
    from ptychopinn.plugins.registry import get_backend
    from ptychopinn.testing import contract, inference, operators, refinement, training
    from ptychopinn.testing.models import INFER_CONFIGS, kit_model
    from ptychopinn.testing.synthetic import synthetic_scan

    def backend() -> Any:
        return get_backend(name)

    def view() -> Any:
        return contract.plugin_view(name)

    out: list[tuple[str, str, Callable[[], Any]]] = [
        ("contract", "entry_point", lambda: contract.check_entry_point(name)),
        ("contract", "metadata", lambda: contract.check_metadata(view())),
        ("contract", "capabilities_match_hooks", lambda: contract.check_capabilities_match_hooks(view())),
        ("contract", "plugin_imports_no_framework", lambda: contract.check_plugin_imports_no_framework(view())),
    ]
    for cfg in INFER_CONFIGS:
        tag = f"[{cfg.architecture}-gridsize{cfg.gridsize}]"
        for check_name, check in (("matches_reference", inference.check_predictor_matches_reference),
                                  ("batch_size_independent", inference.check_batch_size_independent),
                                  ("through_core", inference.check_infer_through_core)):
            out.append(("infer", f"{check_name}{tag}", _bind(check, backend, cfg, options)))

    def no_stale_cache() -> None:
        for config in INFER_CONFIGS[:2]:
            inference.check_no_stale_predictor_cache(backend(), config, options=options)

    out += [
        ("infer", "no_stale_predictor_cache", no_stale_cache),
        ("infer", "same_model_twice", lambda: inference.check_same_model_twice(backend(), INFER_CONFIGS[0],
                                                                               options=options)),
    ]
    model_config = ModelConfig(N=64, gridsize=1, n_filters_scale=1)
    training_config = TrainingConfig(epochs=3, batch_size=4, validation_fraction=0.0, early_stopping_patience=None,
                                     learning_rate=1e-3)

    def trained() -> Any:
        scan = synthetic_scan(N=64, n_side=4, step_px=8, seed=0)
        model = training.train_small(backend(), scan, model_config, training_config, options=options)
        training.check_trained_model(model, backend=name, model_config=model_config)
        return model

    out += [
        ("train", "returns_canonical_model_and_loss_decreases", lambda: training.check_loss_decreases(trained())),
        ("physics_forward", "matches_oracle[1]", lambda: operators.check_physics_forward_matches_oracle(backend(), 1)),
        ("physics_forward", "matches_oracle[2]", lambda: operators.check_physics_forward_matches_oracle(backend(), 2)),
        ("physics_forward", "adjoint", lambda: operators.check_forward_adjointness(backend())),
        ("refine", "gradients_match_reference", lambda: refinement.check_refinement_gradients(
            backend().refinement_operator(refinement.refinement_test_problem()[0], options), backend=name)),
        ("refine", "object_gradient_directional_derivative", lambda: refinement.check_object_gradient_directional(
            lambda problem: backend().refinement_operator(problem, options))),
        ("export", "writes_file_atomically", lambda: training.check_export(
            backend(), kit_model(INFER_CONFIGS[0], seed=8, backend=name), workdir / "export", options=options)),
    ]
    return out


def check_backend(name: str, *, options: Any = None, tiers: tuple[str, ...] = TIERS) -> ConformanceReport:
    """Run the conformance checks of backend ``name`` for the capabilities it declares.

    Parameters
    ----------
    name : str
        Entry-point name of an installed backend.
    options : optional
        The backend's options (dataclass, mapping or None), passed through core.
    tiers : tuple of str
        Subset of :data:`TIERS` to run.

    Returns
    -------
    ConformanceReport
        One :class:`CheckResult` per check: ``passed``, ``failed`` (with the message) or
        ``skipped`` (capability not declared, or the contract tier already failed to load it).
    """
    from ptychopinn.errors import PtychoPINNError
    from ptychopinn.testing.contract import plugin_view

    results: list[CheckResult] = []
    try:
        capabilities = frozenset(plugin_view(name).info.capabilities)
    except (ConformanceFailure, PtychoPINNError, ImportError) as exc:
        capabilities = frozenset()
        results.append(CheckResult(tier="contract", name="load", status="failed", message=str(exc)))
    with tempfile.TemporaryDirectory(prefix="ptychopinn-kit-") as tmp:
        for tier, check, run in _checks(name, options, Path(tmp)):
            if tier not in tiers:
                continue
            if tier != "contract" and tier not in capabilities:
                results.append(CheckResult(tier=tier, name=check, status="skipped",
                                           message=f"capability '{tier}' not declared"))
                continue
            try:
                run()
            except (AssertionError, PtychoPINNError) as exc:
                results.append(CheckResult(tier=tier, name=check, status="failed",
                                           message=f"{type(exc).__name__}: {exc}"))
            else:
                results.append(CheckResult(tier=tier, name=check, status="passed"))
    return ConformanceReport(backend=name, capabilities=capabilities, results=tuple(results))
