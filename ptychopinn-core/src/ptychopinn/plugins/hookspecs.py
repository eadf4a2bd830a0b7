"""The backend hook specification, API 2.0 (pluggy project ``ptychopinn``).

A backend is a *plugin module* registered under the entry-point group
``ptychopinn.backends``; the entry-point name is the canonical backend name. The module
imports no ML framework at import time (only ``ptychopinn``) and defines the hook
implementations below, decorated with :data:`hookimpl`. Core registers it with a plugin
manager of its own (so pluggy validates the signatures) and calls the hooks of that one
backend only. Every hook is ``firstresult``.

A backend declares its **capabilities** in :class:`~ptychopinn.plugins.info.BackendInfo`
and implements exactly the hooks they need (core checks this when it loads the plugin):

=================== =====================================
capability          hook
=================== =====================================
``train``           ``ptychopinn_train``
``infer``           ``ptychopinn_build_predictor``
``refine``          ``ptychopinn_refinement_operator``
``physics_forward`` ``ptychopinn_physics_forward``
``export``          ``ptychopinn_export``
=================== =====================================

``ptychopinn_backend_info`` is required; ``ptychopinn_resolve_options`` is optional (without
it the backend takes no options). Core owns everything framework-free: the architecture
(:mod:`ptychopinn.architecture`), bundle save/load, batching and caching of predictors,
stitching, compatibility checks and ``reconstruction.npz``.

Only numpy arrays and frozen dataclasses cross the boundary (:mod:`ptychopinn.results`).
``options`` passed to a hook is always what the backend's own ``ptychopinn_resolve_options``
returned (or None when it has no such hook).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pluggy

from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.plugins.info import BackendInfo
from ptychopinn.plugins.predictor import Predictor
from ptychopinn.refinement.problem import RefinementProblem
from ptychopinn.results import TrainedModel, TrainingData

PROJECT_NAME = "ptychopinn"
BACKEND_API_VERSION: tuple[int, int] = (2, 0)
"""The backend API this core drives: a backend is compatible when its major version is
equal and its minor version is <= this minor version. 1.x plugins are refused with an
error naming both versions."""

CAPABILITY_HOOKS: dict[str, str] = {
    "train": "ptychopinn_train",
    "infer": "ptychopinn_build_predictor",
    "refine": "ptychopinn_refinement_operator",
    "physics_forward": "ptychopinn_physics_forward",
    "export": "ptychopinn_export",
}
"""Capability -> the hook a backend declaring it must implement."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["BACKEND_API_VERSION", "CAPABILITY_HOOKS", "PROJECT_NAME", "BackendSpec", "hookimpl", "hookspec"]


class BackendSpec:
    """Hook specifications a backend plugin module implements."""

    @hookspec(firstresult=True)
    def ptychopinn_backend_info(self) -> BackendInfo:  # type: ignore[empty-body]
        """Describe the backend: canonical name, backend API version, capabilities.

        Must not import the framework.
        """

    @hookspec(firstresult=True)
    def ptychopinn_resolve_options(self, options: object | None) -> object:
        """Optional: validate and resolve this backend's options.

        Parameters
        ----------
        options : the backend's options dataclass, a plain mapping read from a
            configuration file (``[backend_options]``), or None for the defaults.

        Returns
        -------
        The backend's frozen options dataclass. Core calls this once, when the backend is
        selected with options, and passes the result to every other hook.

        Raises
        ------
        ConfigError
            Naming the unknown or invalid key. Core itself refuses another backend's
            options dataclass before calling this hook.
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
            With ``backend`` set to this backend and ``training_summary`` filled in; weights
            are the canonical arrays of :func:`ptychopinn.architecture.expected_shapes`.
        """

    @hookspec(firstresult=True)
    def ptychopinn_build_predictor(self, model: TrainedModel, options: object | None) -> Predictor:  # type: ignore[empty-body]
        """Build the network of ``model`` (architecture ``model.model_config``) for inference.

        Core has already validated ``model.weights`` against the architecture and caches the
        returned predictor per (model, options): build once, run many batches.

        Returns
        -------
        Predictor
            See :class:`ptychopinn.plugins.predictor.Predictor`.
        """

    @hookspec(firstresult=True)
    def ptychopinn_export(self, model: TrainedModel, path: Path, options: object | None) -> Path:  # type: ignore[empty-body]
        """Write ``model``'s network in this backend's deployment format at ``path`` (atomically).

        ``ptychopinn export`` calls it. Returns the path written.
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
