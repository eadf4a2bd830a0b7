"""The public Python API: train, reconstruct, load and save models, find backends.

Every function selects its backend with the rule of :mod:`ptychopinn.plugins.selection`
and every result records the backend that produced it. Nothing here imports an ML
framework; the backend does, when its hooks run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ptychopinn.config.inference import InferenceConfig
from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.plugins.info import BackendStatus
from ptychopinn.plugins.registry import get_backend as _get_backend
from ptychopinn.plugins.registry import list_backends as _list_backends
from ptychopinn.plugins.selection import select_backend_name

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.data.scan import ScanData
    from ptychopinn.physics.normalisation import Normalisation
    from ptychopinn.plugins.backend import Backend
    from ptychopinn.refinement.consistency import DataConsistency
    from ptychopinn.refinement.engine import RefinementReport
    from ptychopinn.results import StitchedObject, TrainedModel

__all__ = [
    "Reconstruction",
    "get_backend",
    "list_backends",
    "load_model",
    "export_model",
    "reconstruct",
    "save_model",
    "select_inference_backend",
    "train",
]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(groups_done, groups_total)`` during :func:`reconstruct`."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Reconstruction:
    """The result of :func:`reconstruct`."""

    object: StitchedObject
    """Stitched object (complex canvas, summed weights, valid mask, canvas geometry)."""

    backend: str
    """Backend whose predictor produced the patches."""

    model_backend: str
    """Backend that trained the model (differs from ``backend`` for a cross-backend run)."""

    normalisation: Normalisation
    """Normalisation the network input was scaled with."""

    n_groups: int
    """Groups reconstructed."""

    wall_time_s: float
    """Seconds spent (grouping, inference, stitching, consistency and refinement)."""

    network_object: StitchedObject | None = None
    """The network-only stitched object when ``object`` was refined (else None: ``object`` is it)."""

    network_time_s: float | None = None
    """Seconds of grouping, inference and stitching (the network part of ``wall_time_s``)."""

    refinement: RefinementReport | None = None
    """The refinement run (``InferenceConfig.refinement.enabled``), or None."""

    refined_probe: np.ndarray | None = None
    """(N, N) complex64 refined probe (``refine_probe``), or None."""

    refined_positions: np.ndarray | None = None
    """(M, 2) float64 refined scan positions, object pixels (x, y) (``refine_positions``), or None."""

    consistency: Mapping[str, DataConsistency] = field(default_factory=dict)
    """Per-pattern data consistency: ``"network"`` and, after refinement, ``"refined"``."""

    probe_mismatch: float | None = None
    """Relative difference of the scan's probe from the model's training probe."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (what the CLI writes next to the NPZ)."""
        out: dict[str, Any] = {
            "backend": self.backend,
            "model_backend": self.model_backend,
            "n_groups": self.n_groups,
            "wall_time_s": self.wall_time_s,
            "network_time_s": self.network_time_s,
            "canvas_shape": list(self.object.canvas.shape),
            "canvas_origin": list(self.object.canvas.origin),
            "valid_fraction": float(np.mean(self.object.valid)) if self.object.valid.size else 0.0,
            "normalisation": self.normalisation.to_dict(),
            "data_consistency": {name: c.summary() for name, c in self.consistency.items()},
            "probe_mismatch": self.probe_mismatch,
        }
        if self.refinement is not None:
            report = self.refinement.to_dict()
            report["needed"] = self.refinement.best_iteration > 0
            out["refinement"] = report
        return out


def list_backends() -> list[BackendStatus]:
    """Known and installed backends with their status, from entry-point metadata only."""
    return _list_backends()


def get_backend(name: str | None = None) -> Backend:
    """The handle of backend ``name`` (aliases ``tf``/``torch`` accepted).

    ``None`` applies the selection rule (``PTYCHOPINN_BACKEND``, the only installed
    backend, ``tensorflow`` when several are installed).
    """
    return _get_backend(select_backend_name(name))


def train(
    scan: ScanData | Sequence[ScanData],
    *,
    backend: str | None = None,
    model_config: ModelConfig | None = None,
    training_config: TrainingConfig | None = None,
    options: object | None = None,
) -> TrainedModel:
    """Train a PtychoPINN model on a scan.

    Parameters
    ----------
    scan : ScanData or sequence of ScanData
        Diffraction amplitudes (sqrt counts), positions, probe; ``object`` for supervised.
        Several scans (same N and probe) train one model on all their patterns
        (:func:`ptychopinn.data.combine.combine_scans`: no group spans two scans).
    backend : str, optional
        Backend name; otherwise ``training_config.backend``, then ``PTYCHOPINN_BACKEND``...
    model_config, training_config : frozen configs, optional
        Defaults: ``ModelConfig(N=scan.N)`` and ``TrainingConfig()``.
    options : backend options, optional
        The backend's options dataclass, a mapping (``[backend_options]``) or None; checked when
        the backend is selected (another backend's options are a :class:`ConfigError`).

    Returns
    -------
    TrainedModel
        ``backend`` names the backend that trained it.

    Raises
    ------
    CapabilityError
        The backend cannot train (the message names the backends that can).
    PatternSizeMismatchError, MissingGroundTruthError, GroupSizeMismatchError, NoTrainingGroupsError
        The scan does not fit the configuration (:func:`ptychopinn.config.compatibility.check_compatible`).
    """
    from ptychopinn._safety import check_groups
    from ptychopinn.grouping import make_grouped_scan, split_train_validation
    from ptychopinn.physics.normalisation import estimate_normalisation
    from ptychopinn.results import TrainingData

    from ptychopinn.data.combine import combine_scans
    from ptychopinn.data.scan import ScanData

    if not isinstance(scan, ScanData):
        scan = combine_scans(list(scan))
    from ptychopinn.config.compatibility import check_compatible

    tc = training_config if training_config is not None else TrainingConfig()
    handle = _get_backend(select_backend_name(backend, config_backend=tc.backend))
    handle.require("train")
    opts = handle.resolve_options(options)
    mc = model_config if model_config is not None else ModelConfig(N=scan.N)
    check_compatible(mc, scan=scan, training_config=tc)
    grouped = make_grouped_scan(
        scan,
        gridsize=mc.gridsize,
        neighbor_count=tc.neighbor_count,
        n_groups=tc.n_groups,
        seed=tc.seed,
        with_ground_truth=mc.model_type == "supervised",
    )
    check_groups(grouped.offsets, N=mc.N, source=scan.source)  # absurd group spreads, before any allocation (#14)
    train_groups, validation = split_train_validation(grouped, validation_fraction=tc.validation_fraction, seed=tc.seed)
    patterns = np.unique(train_groups.indices)
    # Constants of the training patterns only; the whole stack is streamed (a memory map stays one).
    stack = scan.diffraction if patterns.size == scan.n_patterns else np.asarray(scan.diffraction[patterns])
    normalisation = estimate_normalisation(stack, nphotons=tc.nphotons)
    data = TrainingData(train=train_groups, validation=validation, probe=scan.probe, normalisation=normalisation)
    return handle.train(data, mc, tc, opts)


def load_model(path: str | os.PathLike[str]) -> TrainedModel:
    """Read a model bundle (core's job: no backend is involved, none needs to be installed).

    Parameters
    ----------
    path : path-like
        A ``*.ptychopinn.zip`` bundle.

    Returns
    -------
    TrainedModel
        ``backend`` names the backend that trained it; any backend with the ``infer``
        capability runs it (:func:`reconstruct`).

    Raises
    ------
    BundleError
        Malformed, truncated, tampered or future-format bundle, or weights that do not fit
        the architecture of its ``model_config``.
    """
    from ptychopinn.bundle.io import read_bundle

    return read_bundle(path)  # type: ignore[no-any-return]


def save_model(model: TrainedModel, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` as a bundle (atomic; core's job, no backend involved). Returns the path."""
    from ptychopinn.bundle.io import write_bundle

    return write_bundle(model, Path(path))


def export_model(
    model: TrainedModel | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    backend: str | None = None,
    options: object | None = None,
) -> Path:
    """Write ``model``'s network in a backend's deployment format (capability ``export``, e.g. ONNX).

    Parameters
    ----------
    model : TrainedModel or path to a bundle
    path : path-like
        Target file (e.g. ``model.onnx``).
    backend : str, optional
        Backend to export with; default: the only installed backend that can export.
    options : backend options, optional

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    CapabilityError
        The backend cannot export, or no installed backend can / several can and none was named.
    """
    from ptychopinn.errors import CapabilityError
    from ptychopinn.plugins.registry import backends_with

    trained = load_model(model) if isinstance(model, (str, os.PathLike)) else model
    if backend is None:
        able = backends_with("export")
        if len(able) != 1:
            raise CapabilityError(
                "no backend that can export models was found among the project's installed backends (third-party "
                "plugins are not imported to look); install one (pip install ptychopinn-onnx) or name one with"
                " --backend"
                if not able
                else f"several installed backends can export models ({', '.join(able)}); choose one with --backend",
                capability="export",
            )
        backend = able[0]
    handle = _get_backend(select_backend_name(backend))
    return handle.export(trained, path, handle.resolve_options(options))


def select_inference_backend(
    trained: TrainedModel, explicit: str | None = None, config_backend: str | None = None
) -> Backend:
    """The backend to run ``trained`` with: the explicit choice, the configuration, ``PTYCHOPINN_BACKEND``;
    else the backend that trained it when installed; else the selection rule (the only installed backend,
    ``tensorflow``). The result records which one ran."""
    from ptychopinn.plugins.registry import installed_backends
    from ptychopinn.plugins.selection import ENV_VAR

    if explicit or config_backend or os.environ.get(ENV_VAR, "").strip():
        return _get_backend(select_backend_name(explicit, config_backend=config_backend))
    if trained.backend in installed_backends():
        return _get_backend(trained.backend)
    return _get_backend(select_backend_name(None))


def reconstruct(
    model: TrainedModel | str | os.PathLike[str],
    scan: ScanData,
    *,
    backend: str | None = None,
    config: InferenceConfig | None = None,
    options: object | None = None,
    progress: ProgressCallback | None = None,
    refine_progress: Callable[[int, float, float], None] | None = None,
) -> Reconstruction:
    """Reconstruct the object of a scan with a trained model, streaming.

    Every scan point becomes a group (``gridsize**2`` neighbours for gridsize > 1); the
    backend's ``infer`` runs on ``config.batch_size`` groups at a time and each batch is
    added to core's streaming stitcher, so memory is O(canvas + batch), not O(scan).

    Parameters
    ----------
    model : TrainedModel or path to a bundle
    scan : ScanData
    backend : str, optional
        Backend to infer with; default ``config.backend``, then the model's backend.
    config : InferenceConfig, optional
        ``normalisation="data"`` (default) estimates the input scale on this scan once.
    options : backend options, optional
    progress : callable, optional
        ``progress(done, total)`` after every batch.
    refine_progress : callable, optional
        ``refine_progress(sweep, train_loss, heldout_loss)`` after every refinement sweep.

    Returns
    -------
    Reconstruction
        ``backend`` names the backend that ran ``infer``. After the network, the per-pattern data
        consistency of its object is computed (``config.data_consistency``) and, when
        ``config.refinement.enabled``, the object (optionally probe and positions) is refined
        against the scan with the backend's refinement operator (core's numpy reference when
        the backend has none), stopped by held-out patterns (``docs/user-guide.md``).
    """
    from ptychopinn._safety import check_canvas, check_groups
    from ptychopinn.config._checks import check_inference_for_patterns
    from ptychopinn.grouping import make_grouped_scan
    from ptychopinn.physics.normalisation import estimate_normalisation
    from ptychopinn.stitching import Stitcher, default_canvas, patch_weight

    from ptychopinn.config.compatibility import check_compatible

    cfg = config if config is not None else InferenceConfig()
    trained = load_model(model) if isinstance(model, (str, os.PathLike)) else model
    handle = select_inference_backend(trained, backend, cfg.backend)
    handle.require("infer")
    opts = handle.resolve_options(options)
    check_compatible(trained.model_config, scan=scan)
    start = time.perf_counter()
    grouped = make_grouped_scan(
        scan, gridsize=trained.model_config.gridsize, neighbor_count=cfg.neighbor_count, n_groups=None, seed=cfg.seed
    )
    if cfg.normalisation == "data":
        norm = estimate_normalisation(scan.diffraction, nphotons=trained.training_config.nphotons)
        trained = dataclasses.replace(trained, normalisation=norm)
    canvas = default_canvas(grouped.centres, scan.N)
    check_canvas(canvas.shape, source=scan.source, N=scan.N, n_patterns=scan.n_patterns)  # before allocating
    check_inference_for_patterns(cfg, N=scan.N)
    check_groups(grouped.offsets, N=scan.N, source=scan.source)
    # The stitching weight follows this scan's illumination (its probe), not the training probe.
    stitcher = Stitcher(patch_weight(scan.probe, cfg), canvas, valid_threshold=cfg.valid_threshold)
    total = grouped.n_groups
    for first in range(0, total, cfg.batch_size):
        batch = grouped.select(np.arange(first, min(first + cfg.batch_size, total)))
        prediction = handle.infer(trained, batch, cfg, opts)
        stitcher.add(np.asarray(prediction.patches), np.asarray(prediction.positions))
        if progress is not None:
            progress(min(first + cfg.batch_size, total), total)
    stitched = stitcher.result(backend=handle.name)
    network_time = time.perf_counter() - start
    from ptychopinn.refinement.pipeline import post_network

    post = post_network(
        scan,
        stitched,
        cfg.refinement,
        valid_threshold=cfg.valid_threshold,
        model_probe=trained.probe,
        consistency=cfg.data_consistency,
        operator_factory=lambda problem: handle.refinement_operator(problem, opts),
        progress=refine_progress,
    )
    return Reconstruction(
        object=post.object,
        backend=handle.name,
        model_backend=trained.backend,
        normalisation=trained.normalisation,
        n_groups=total,
        wall_time_s=time.perf_counter() - start,
        network_object=post.network_object if post.refinement is not None else None,
        network_time_s=network_time,
        refinement=post.refinement,
        refined_probe=post.probe,
        refined_positions=post.positions,
        consistency=post.consistency,
        probe_mismatch=post.probe_mismatch,
    )
