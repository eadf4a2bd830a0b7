"""``conventional_plugin``: a backend's whole plugin module in a few lines (backend API 2.0).

A backend laid out like the reference backends (``docs/backend-author-guide.md``) keeps each
capability in a module of a fixed name; this helper builds the hook implementations that call
them, importing the module only when the hook runs (so listing backends imports no framework):

=================== ==========================================================================
capability          called as
=================== ==========================================================================
(options)           ``<package>.options.resolve_options(options)``
``train``           ``<package>.training.train(data, model_config, training_config, options)``
``infer``           ``<package>.predictor.build_predictor(model, options)``
``refine``          ``<package>.refinement.build_refinement_operator(problem, options)``
``physics_forward`` ``<package>.physics.forward_amplitude(patches, probe, offsets, *, object_big, log_scale)``
``export``          ``<package>.export.export(model, path, options)``
=================== ==========================================================================

Only the hooks of the declared capabilities exist on the returned plugin object, so core's
capability check sees exactly what the backend declares. Register it with an entry point of
the form ``name = "package._plugin:PLUGIN"``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ptychopinn.plugins.hookspecs import CAPABILITY_HOOKS, hookimpl
from ptychopinn.plugins.info import BackendInfo

__all__ = ["conventional_plugin"]


def _target(package: str, module: str, function: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"{package}.{module}"), function)  # type: ignore[no-any-return]


def conventional_plugin(info: BackendInfo, *, package: str, options: bool = True) -> SimpleNamespace:
    """The plugin object of a backend whose modules follow the conventional layout.

    Parameters
    ----------
    info : BackendInfo
        What ``ptychopinn_backend_info`` returns (name, API version, capabilities).
    package : str
        The backend's import package (``"ptychopinn_torch"``).
    options : bool
        Whether the backend has ``<package>.options.resolve_options`` (otherwise it takes no options).

    Returns
    -------
    SimpleNamespace
        Hook implementations for ``info.capabilities`` only.
    """
    unknown = sorted(set(info.capabilities) - set(CAPABILITY_HOOKS))
    if unknown:
        raise ValueError(f"{package}: unknown capabilities {unknown}; known: {sorted(CAPABILITY_HOOKS)}")

    def resolve(value: object | None) -> object | None:
        return _target(package, "options", "resolve_options")(value) if options else value

    @hookimpl
    def ptychopinn_backend_info() -> BackendInfo:
        return info

    @hookimpl
    def ptychopinn_resolve_options(options: object | None) -> object:
        return resolve(options)

    @hookimpl
    def ptychopinn_train(data: Any, model_config: Any, training_config: Any, options: object | None) -> Any:
        return _target(package, "training", "train")(data, model_config, training_config, resolve(options))

    @hookimpl
    def ptychopinn_build_predictor(model: Any, options: object | None) -> Any:
        return _target(package, "predictor", "build_predictor")(model, resolve(options))

    @hookimpl
    def ptychopinn_refinement_operator(problem: Any, options: object | None) -> Any:
        return _target(package, "refinement", "build_refinement_operator")(problem, resolve(options))

    @hookimpl
    def ptychopinn_physics_forward(
        object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, object_big: bool, log_scale: float
    ) -> np.ndarray:
        forward = _target(package, "physics", "forward_amplitude")
        return forward(object_patches, probe, offsets, object_big=object_big, log_scale=log_scale)  # type: ignore[no-any-return]

    @hookimpl
    def ptychopinn_export(model: Any, path: Path, options: object | None) -> Path:
        return Path(_target(package, "export", "export")(model, Path(path), resolve(options)))

    hooks: dict[str, Callable[..., Any]] = {
        "ptychopinn_backend_info": ptychopinn_backend_info,
        "train": ptychopinn_train,
        "infer": ptychopinn_build_predictor,
        "refine": ptychopinn_refinement_operator,
        "physics_forward": ptychopinn_physics_forward,
        "export": ptychopinn_export,
    }
    chosen: dict[str, Callable[..., Any]] = {"ptychopinn_backend_info": ptychopinn_backend_info}
    if options:
        chosen["ptychopinn_resolve_options"] = ptychopinn_resolve_options
    for capability in info.capabilities:
        chosen[CAPABILITY_HOOKS[capability]] = hooks[capability]
    return SimpleNamespace(__name__=f"{package}._plugin", **chosen)
