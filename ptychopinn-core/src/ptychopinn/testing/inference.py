"""``infer`` tier: a backend's predictor equals core's numpy reference of the architecture.

Every check builds predictors through core's :class:`~ptychopinn.plugins.backend.Backend`
handle (``Backend.predictor``: weights validated, predictors cached per model), runs them on
a fixed batch of :func:`~ptychopinn.testing.models.kit_diffraction` and compares with
:func:`ptychopinn.architecture.reference_predict` (relative tolerance ``rtol``, default 1e-4,
measured as ``max |got - ref| / max |ref|``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ptychopinn.config import ModelConfig
from ptychopinn.plugins.backend import Backend
from ptychopinn.results import TrainedModel
from ptychopinn.testing.models import kit_diffraction, kit_model, kit_weights, with_weights
from ptychopinn.testing.report import ConformanceFailure

__all__ = [
    "check_batch_size_independent",
    "check_infer_through_core",
    "check_no_stale_predictor_cache",
    "check_predictor_matches_reference",
    "check_same_model_twice",
    "describe",
    "relative_error",
]


def describe(config: ModelConfig) -> str:
    """``architecture=published gridsize=2`` (the fields the infer tier varies)."""
    return f"architecture={config.architecture} gridsize={config.gridsize} N={config.N}"


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """``max |got - ref| / max |ref|`` (inf for a shape mismatch)."""
    if np.shape(got) != np.shape(ref):
        return float("inf")
    return float(np.max(np.abs(np.asarray(got, dtype=np.complex128) - ref)) / max(float(np.max(np.abs(ref))), 1e-30))


def _predict(backend: Backend, model: TrainedModel, x: np.ndarray, options: Any) -> np.ndarray:
    predictor = backend.predictor(model, options)
    if getattr(predictor, "backend", None) != backend.name:
        raise ConformanceFailure(
            f"Predictor.backend is {getattr(predictor, 'backend', None)!r}, expected {backend.name!r}"
        )
    return np.asarray(predictor.predict(x))


def _reference(model: TrainedModel, x: np.ndarray) -> np.ndarray:
    from ptychopinn.architecture import reference_predict

    return reference_predict(model.model_config, model.weights, x)


def check_predictor_matches_reference(
    backend: Backend, config: ModelConfig, *, options: Any = None, rtol: float = 1e-4
) -> None:
    """The predictor of a kit model returns ``(B, C_out, N, N)`` complex64, finite, equal to the reference."""
    model = kit_model(config, seed=1, backend=backend.name)
    x = kit_diffraction(config)
    ref = _reference(model, x)
    got = _predict(backend, model, x, options)
    where = f"{describe(config)}, input {x.shape} float32"
    if got.shape != ref.shape:
        raise ConformanceFailure(f"predictor output has shape {got.shape}, expected {ref.shape} ({where})")
    if got.dtype != np.complex64:
        raise ConformanceFailure(f"predictor output has dtype {got.dtype}, expected complex64 ({where})")
    if not np.all(np.isfinite(got)):
        raise ConformanceFailure(f"predictor output holds NaN/Inf ({where})")
    err = relative_error(got, ref)
    if not err <= rtol:
        amp = relative_error(np.abs(got), np.abs(ref))
        raise ConformanceFailure(
            f"predictor output differs from ptychopinn.architecture.reference_predict ({where}): relative error "
            f"{err:.3g} > {rtol:g} (amplitude alone {amp:.3g}); check the graph interpretation (padding of stride-2 "
            f"convolutions, pixel_shuffle channel order, kernel layout OIHW, biases)"
        )


def check_batch_size_independent(
    backend: Backend, config: ModelConfig, *, options: Any = None, rtol: float = 1e-4
) -> None:
    """Predicting 5 groups at once equals predicting each alone (core slices groups into batches)."""
    model = kit_model(config, seed=2, backend=backend.name)
    x = kit_diffraction(config, batch=5)
    predictor = backend.predictor(model, options)
    together = np.asarray(predictor.predict(x))
    alone = np.concatenate([np.asarray(predictor.predict(x[i : i + 1])) for i in (4, 2, 0, 3, 1)])[[2, 4, 1, 3, 0]]
    err = relative_error(together, alone)
    if not err <= rtol:
        per = [relative_error(together[i : i + 1], alone[i : i + 1]) for i in range(min(len(together), 5))]
        raise ConformanceFailure(
            f"predictor output depends on the batch ({describe(config)}): predict(x[0:5]) differs from "
            f"predict(x[i:i+1]) one by one, relative error {err:.3g} > {rtol:g} "
            f"(per group {[f'{e:.2g}' for e in per]}); "
            f"the predictor must use exactly the batch it is given (no memoised outputs, no batch statistics)"
        )


def check_no_stale_predictor_cache(
    backend: Backend, config: ModelConfig, *, options: Any = None, rtol: float = 1e-4
) -> None:
    """Two models with one ``model_config`` and different weights each get their own output.

    Model A is predicted, then model B, then A again (interleaved): a backend that caches the
    built network by configuration (or loads B's weights into A's network) fails.
    """
    first = kit_model(config, seed=3, backend=backend.name)
    second = with_weights(first, kit_weights(config, seed=4))
    x = kit_diffraction(config)
    ref_first, ref_second = _reference(first, x), _reference(second, x)
    got_first = _predict(backend, first, x, options)
    got_second = _predict(backend, second, x, options)
    again_first = _predict(backend, first, x, options)
    err_second = relative_error(got_second, ref_second)
    if not err_second <= rtol:
        stale = relative_error(got_second, got_first)
        hint = (" and equals the FIRST model's output (relative error "
                f"{stale:.3g}): the backend reuses a network built for another model with the same configuration; "
                "keep no module-level cache (core caches predictors per model)") if stale <= rtol else ""
        raise ConformanceFailure(
            f"stale predictor: the second model ({describe(config)}, same model_config, other weights) predicts "
            f"with relative error {err_second:.3g} > {rtol:g} from its own reference{hint}"
        )
    for label, got in (("first model", got_first), ("first model after the second was built", again_first)):
        err = relative_error(got, ref_first)
        if not err <= rtol:
            raise ConformanceFailure(
                f"stale predictor: the {label} ({describe(config)}) predicts with relative error {err:.3g} > {rtol:g} "
                f"from its own reference; building a predictor for another model must not change an existing one"
            )


def check_same_model_twice(backend: Backend, config: ModelConfig, *, options: Any = None, rtol: float = 1e-4) -> None:
    """Building a predictor twice for one model (a core cache miss each time) gives the same predictions."""
    model = kit_model(config, seed=5, backend=backend.name)
    x = kit_diffraction(config)
    one = backend.predictor(model, options)
    two = backend.predictor(with_weights(model, dict(model.weights)), options)  # new mapping: a second build
    a, b, a_again = np.asarray(one.predict(x)), np.asarray(two.predict(x)), np.asarray(one.predict(x))
    err = max(relative_error(b, a), relative_error(a_again, a))
    if not err <= rtol:
        raise ConformanceFailure(
            f"two predictors of the same model ({describe(config)}) disagree: relative error {err:.3g} > {rtol:g}; "
            f"building a predictor must be deterministic and must not disturb predictors built before"
        )


def check_infer_through_core(backend: Backend, config: ModelConfig, *, options: Any = None, rtol: float = 1e-4) -> None:
    """``Backend.infer`` on a grouped synthetic scan (batch size 3, so the last batch is partial) equals
    core's numpy path: :func:`ptychopinn.physics.group_object` of the reference network."""
    from ptychopinn.config import InferenceConfig
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.physics import group_object
    from ptychopinn.testing.synthetic import synthetic_scan

    model = kit_model(config, seed=6, backend=backend.name)
    scan = synthetic_scan(N=config.N, n_side=3, step_px=6, seed=6)
    groups = make_grouped_scan(scan, gridsize=config.gridsize, seed=0)
    pred = backend.infer(model, groups, InferenceConfig(batch_size=3), options)
    x = groups.batch_diffraction(0, groups.n_groups) * np.float32(model.normalisation.network_scale)
    ref = group_object(_reference(model, x), groups.offsets if groups.channels > 1 else None,
                       object_big=config.object_big)
    err = relative_error(pred.patches, ref)
    if not err <= rtol:
        raise ConformanceFailure(
            f"Backend.infer ({describe(config)}, {groups.n_groups} groups in batches of 3) differs from core's numpy "
            f"reference: relative error {err:.3g} > {rtol:g}"
        )
    if pred.backend != backend.name:
        raise ConformanceFailure(f"PatchPrediction.backend is {pred.backend!r}, expected {backend.name!r}")
