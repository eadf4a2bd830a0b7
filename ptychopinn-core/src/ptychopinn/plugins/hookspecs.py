"""The backend hook specification (pluggy project ``ptychopinn``).

A backend is a *plugin module* registered under the entry-point group
``ptychopinn.backends``; the entry-point name is the canonical backend name. The module
imports no ML framework at import time (only ``ptychopinn``) and defines the hook
implementations below, decorated with :data:`hookimpl`. Core registers it with a plugin
manager of its own (so pluggy validates the signatures) and calls the hooks of that one
backend only. Every hook is ``firstresult``. ``ptychopinn_reassemble``,
``ptychopinn_physics_forward`` and ``ptychopinn_refinement_operator`` (API 1.1) are optional;
the others are required.

Only numpy arrays and frozen dataclasses cross the boundary: see
:mod:`ptychopinn.results`. ``options`` is a backend-owned options dataclass, a plain
mapping read from a configuration file, or None; core passes it through untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pluggy

from ptychopinn.config.inference import InferenceConfig
from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.data.grouped import GroupedScan
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.refinement.problem import RefinementProblem
from ptychopinn.results import CanvasSpec, PatchPrediction, StitchedObject, TrainedModel, TrainingData

PROJECT_NAME = "ptychopinn"
BACKEND_API_VERSION: tuple[int, int] = (1, 1)
"""The backend API this core drives: a backend is compatible when its major version is
equal and its minor version is <= this minor version."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["BACKEND_API_VERSION", "PROJECT_NAME", "BackendSpec", "hookimpl", "hookspec"]


class BackendSpec:
    """Hook specifications a backend plugin module implements."""

    @hookspec(firstresult=True)
    def ptychopinn_backend_info(self) -> BackendInfo:  # type: ignore[empty-body]
        """Describe the backend: canonical name and the backend API version it implements.

        Must not import the framework.
        """

    @hookspec(firstresult=True)
    def ptychopinn_train(  # type: ignore[empty-body]
        self,
        data: TrainingData,
        model_config: ModelConfig,
        training_config: TrainingConfig,
        options: object | None,
    ) -> TrainedModel:
        """Train a model on grouped data and return it in framework-neutral form.

        Parameters
        ----------
        data : TrainingData
            Training (and validation) groups, the probe, the normalisation constants.
        model_config, training_config : frozen configs
        options : backend options or None

        Returns
        -------
        TrainedModel
            With ``backend`` set to this backend and ``training_summary`` filled in.
        """

    @hookspec(firstresult=True)
    def ptychopinn_save(self, model: TrainedModel, path: Path) -> Path:  # type: ignore[empty-body]
        """Write ``model`` as a core model bundle at ``path`` (atomically); return the path."""

    @hookspec(firstresult=True)
    def ptychopinn_load(self, path: Path, options: object | None) -> TrainedModel:  # type: ignore[empty-body]
        """Read a core model bundle (never unpickling) and return the model for this backend."""

    @hookspec(firstresult=True)
    def ptychopinn_infer(  # type: ignore[empty-body]
        self,
        model: TrainedModel,
        data: GroupedScan,
        config: InferenceConfig,
        options: object | None,
    ) -> PatchPrediction:
        """Predict one object patch per group.

        Parameters
        ----------
        model : TrainedModel
        data : GroupedScan
            Groups to reconstruct (stored amplitudes). The backend always scales them with
            ``model.normalisation.network_scale``; core implements
            ``InferenceConfig.normalisation="data"`` by passing a copy of the model whose
            normalisation was estimated on the whole scan (``dataclasses.replace``, same
            ``weights`` mapping object, so a backend may cache its built network by
            ``id(model.weights)``). Core calls ``infer`` chunk by chunk for large scans.
        config : InferenceConfig
        options : backend options or None

        Returns
        -------
        PatchPrediction
            ``patches`` (B, N, N) complex64 and ``positions`` = ``data.centres``.
        """

    @hookspec(firstresult=True)
    def ptychopinn_reassemble(  # type: ignore[empty-body]
        self,
        prediction: PatchPrediction,
        probe: np.ndarray,
        config: InferenceConfig,
        canvas: CanvasSpec | None,
    ) -> StitchedObject | None:
        """Stitch patches onto the object canvas; return None to use core's numpy stitcher.

        Must agree with :func:`ptychopinn.stitching.reassemble` (the reference).
        """

    @hookspec(firstresult=True)
    def ptychopinn_physics_forward(  # type: ignore[empty-body]
        self,
        object_patches: np.ndarray,
        probe: np.ndarray,
        offsets: np.ndarray | None,
        object_big: bool,
        log_scale: float,
    ) -> np.ndarray | None:
        """Optional: evaluate the backend's differentiable forward model on numpy input.

        Used by the conformance kit (numerics tier) to compare the backend's physics with
        :func:`ptychopinn.physics.forward_amplitude` (relative tolerance 1e-5).

        Parameters
        ----------
        object_patches : (B, C', N, N) complex64
            Object patches in network units (C' = C, or 1 when not ``object_big``).
        probe : (N, N) complex64
            Normalised probe.
        offsets : (B, C, 2) float64 object pixels (dx, dy), or None for gridsize 1
        object_big : bool
        log_scale : float
            Global log amplitude scale.

        Returns
        -------
        (B, C, N, N) float32 predicted amplitudes (network units), or None if not supported.
        """

    @hookspec(firstresult=True)
    def ptychopinn_refinement_operator(  # type: ignore[empty-body]
        self,
        problem: RefinementProblem,
        options: object | None,
    ) -> object | None:
        """Optional (API 1.1): the backend's gradient operator for physics refinement.

        Core's refinement loop (:func:`ptychopinn.refinement.refine`) asks the operator for the
        loss and gradients of one minibatch at a time and applies the updates itself; the
        operator keeps ``problem.amplitudes`` on the backend's device and evaluates the forward
        model with the backend's autograd. It must agree with
        :class:`ptychopinn.refinement.NumpyRefinementOperator` (the reference; float32
        tolerance), which core uses when this hook is absent or returns None.

        Parameters
        ----------
        problem : RefinementProblem
            Measured amplitudes (M, N, N) sqrt(counts) and the refinement canvas.
        options : backend options or None

        Returns
        -------
        An object with ``name: str`` and ``gradients(state, indices, *, probe, positions) ->
        BatchGradients`` (:class:`ptychopinn.refinement.RefinementOperator`), or None.
        """
