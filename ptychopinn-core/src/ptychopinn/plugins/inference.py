"""Core's side of inference (backend API 2.0): the predictor cache and the batched, checked run.

A backend's ``ptychopinn_build_predictor`` builds a network once; :class:`PredictorCache` keeps
the few most recent ones (strong references, so a key's ``id`` cannot be reused while it is
cached) and :func:`predict_groups` scales, batches, checks and merges around
:meth:`Predictor.predict`. Nothing here imports a framework.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np

from ptychopinn.errors import BackendError, BackendRuntimeError

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.data.grouped import GroupedScan
    from ptychopinn.plugins.predictor import Predictor
    from ptychopinn.results import PatchPrediction, TrainedModel

__all__ = ["PredictorCache", "options_key", "predict_groups"]


def options_key(options: object | None) -> Hashable:
    """A hashable stand-in for resolved options: the object itself when hashable, else its identity."""
    try:
        hash(options)
    except TypeError:
        return ("id", id(options))
    return ("value", type(options).__qualname__, options)


class PredictorCache:
    """The most recent predictors of one backend, keyed by (weights identity, model config, options).

    The key holds the ``weights`` mapping itself (a strong reference): a model whose normalisation
    was replaced (same weights) reuses its predictor, and the ``id`` of a cached mapping cannot be
    recycled for another model while the entry lives.

    Parameters
    ----------
    size : int
        Predictors kept (least recently used ones are dropped).
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, Hashable, Hashable], tuple[object, Predictor]] = OrderedDict()
        self.builds = 0
        """Predictors built so far (a cache miss each)."""

    def get(self, model: TrainedModel, options: object | None, build: Callable[[], Predictor]) -> Predictor:
        """The cached predictor of ``model`` with ``options``, built by ``build()`` on a miss."""
        key = (id(model.weights), model.model_config, options_key(options))
        hit = self._entries.get(key)
        if hit is not None and hit[0] is model.weights:
            self._entries.move_to_end(key)
            return hit[1]
        predictor = build()
        self.builds += 1
        self._entries[key] = (model.weights, predictor)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return predictor

    def clear(self) -> None:
        """Drop every cached predictor."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _bug(backend: str, what: str) -> BackendError:
    return BackendError(f"Backend '{backend}': the predictor {what}. This is a bug in the backend.")


def predict_groups(
    predictor: Predictor,
    model: TrainedModel,
    groups: GroupedScan,
    *,
    batch_size: int,
    backend: str,
    call: Callable[[Callable[[], Any]], Any],
) -> PatchPrediction:
    """One object patch per group: scale, batch, run, check and merge around ``predictor.predict``.

    Parameters
    ----------
    predictor : Predictor
    model : TrainedModel
        Its ``normalisation.network_scale`` scales the stored amplitudes to network units; its
        ``model_config.object_big`` decides how a group's C outputs are merged.
    groups : GroupedScan
        (B, C, N, N) groups that fit the model (checked by the caller).
    batch_size : int
        Groups per ``predict`` call.
    backend : str
        Name for messages and the result.
    call : callable
        Runs ``predict`` for one batch and turns its failures into typed errors.

    Returns
    -------
    PatchPrediction
        ``patches`` (B, N, N) complex64 (:func:`ptychopinn.physics.group_object` of the network
        output; the output itself for gridsize 1), ``positions = groups.centres``.
    """
    from ptychopinn._safety import first_non_finite
    from ptychopinn.physics import group_object
    from ptychopinn.results import PatchPrediction

    cfg = model.model_config
    B, C, N = groups.n_groups, groups.channels, groups.N
    c_out = C if cfg.object_big else 1
    scale = np.float32(model.normalisation.network_scale)
    out = np.empty((B, N, N), dtype=np.complex64)
    for first in range(0, B, max(1, batch_size)):
        stop = min(first + max(1, batch_size), B)
        x = np.ascontiguousarray(groups.batch_diffraction(first, stop), dtype=np.float32) * scale
        raw = call(functools.partial(predictor.predict, x))
        y = np.asarray(raw)
        if y.shape != (stop - first, c_out, N, N) or not np.iscomplexobj(y):
            raise _bug(backend, f"returned {y.shape} {y.dtype} for input {x.shape}, expected "
                                f"({stop - first}, {c_out}, {N}, {N}) complex64")
        bad = first_non_finite(y)
        if bad is not None:
            raise BackendRuntimeError(
                f"Backend '{backend}': the predictor returned {bad[0]} NaN/Inf value(s) in object patches (first at "
                f"index {bad[1]}); refusing to use them. The model or its input is broken."
            )
        offsets = groups.offsets[first:stop] if C > 1 else None
        out[first:stop] = group_object(y, offsets, object_big=cfg.object_big)
    return PatchPrediction(patches=out, positions=np.asarray(groups.centres, dtype=np.float64), backend=backend)
