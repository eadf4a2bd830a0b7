"""``Backend``: the handle core returns for one loaded backend (backend API 2.0).

Its methods call the hooks of that one backend only (each backend has a plugin manager of
its own, so no other plugin can answer) and own everything framework-free around them:
options are checked at selection, a capability the backend lacks is refused with the names
of the backends that have it, predictors are cached and run batch by batch with core's
checks, reassembly is core's numpy stitcher, refinement falls back to core's numpy operator.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy

from ptychopinn.errors import BackendError, BackendRuntimeError, CapabilityError, ConfigError, PtychoPINNError
from ptychopinn.plugins.inference import PredictorCache, predict_groups
from ptychopinn.plugins.info import BackendInfo

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.config.inference import InferenceConfig
    from ptychopinn.config.model import ModelConfig
    from ptychopinn.config.training import TrainingConfig
    from ptychopinn.data.grouped import GroupedScan
    from ptychopinn.plugins.predictor import Predictor
    from ptychopinn.refinement.engine import RefinementOperator
    from ptychopinn.refinement.problem import RefinementProblem
    from ptychopinn.results import PatchPrediction, TrainedModel, TrainingData

__all__ = ["Backend"]

_VERBS = {"train": "train", "infer": "run inference", "export": "export models", "refine": "refine",
          "physics_forward": "evaluate its physics"}


class Backend:
    """A loaded backend. Obtain it with :func:`ptychopinn.get_backend`, not by constructing it.

    Attributes
    ----------
    name : str
        Canonical backend name.
    info : BackendInfo
        What the backend says about itself (``capabilities`` included).
    distribution, version : str or None
        The distribution that provides it (from entry-point metadata).
    entry_point : str
        The plugin module.
    plugin : module
        The registered plugin module.
    predictors : PredictorCache
        The predictors built by :meth:`predictor` (one place, per backend).
    """

    def __init__(
        self,
        *,
        info: BackendInfo,
        plugin: ModuleType | object,
        plugin_manager: pluggy.PluginManager,
        distribution: str | None,
        version: str | None,
        entry_point: str,
    ) -> None:
        self.info = info
        self.name = info.name
        self.plugin = plugin
        self.distribution = distribution
        self.version = version or info.version
        self.entry_point = entry_point
        self._pm = plugin_manager
        self.predictors = PredictorCache()
        self._resolved: dict[int, object] = {}

    def __repr__(self) -> str:
        api = f"{self.info.api_version[0]}.{self.info.api_version[1]}"
        caps = ",".join(sorted(self.capabilities))
        return (f"Backend(name={self.name!r}, distribution={self.distribution!r}, version={self.version!r}, "
                f"api={api}, capabilities={caps})")

    # -- capabilities -----------------------------------------------------------------------
    @property
    def capabilities(self) -> frozenset[str]:
        """What the backend can do: a subset of ``train``, ``infer``, ``refine``, ``physics_forward``, ``export``."""
        return frozenset(self.info.capabilities)

    def supports(self, capability: str) -> bool:
        """Whether the backend declares ``capability``."""
        return capability in self.info.capabilities

    def require(self, capability: str) -> None:
        """Raise :class:`CapabilityError` unless the backend has ``capability``; names the backends that have it."""
        if self.supports(capability):
            return
        from ptychopinn.plugins.registry import backends_with

        others = [name for name in backends_with(capability, near=self.name) if name != self.name]
        verb = _VERBS.get(capability, capability)
        can = ", ".join(others) if others else "none installed"
        raise CapabilityError(
            f"backend '{self.name}' cannot {verb}; backends that can: {can}. Select one with --backend "
            f"(or the backend argument), or install one (pip install ptychopinn-torch, ptychopinn-tf).",
            backend=self.name,
            capability=capability,
        )

    def implements(self, hook: str) -> bool:
        """Whether the backend implements hook ``hook`` (e.g. ``"ptychopinn_export"``)."""
        caller = getattr(self._pm.hook, hook, None)
        return caller is not None and bool(caller.get_hookimpls())

    # -- calling hooks ----------------------------------------------------------------------
    def _guard(self, hook: str, run: Any) -> Any:
        """Run ``run()``. PtychoPINN errors pass through; anything else the backend raises (or a
        ``sys.exit`` in it) becomes a :class:`BackendRuntimeError` naming the backend and the hook."""
        try:
            return run()
        except (PtychoPINNError, KeyboardInterrupt, MemoryError, OSError):
            raise
        except SystemExit as exc:
            from ptychopinn._signals import interrupted_by

            if interrupted_by() is not None:  # a framework turned Ctrl-C into sys.exit
                raise KeyboardInterrupt from exc
            raise BackendRuntimeError(
                f"Backend '{self.name}' ({self.distribution} {self.version}) called sys.exit({exc.code!r}) in "
                f"{hook}; nothing was produced. This is a bug in the backend."
            ) from exc
        except Exception as exc:
            raise BackendRuntimeError(
                f"Backend '{self.name}' ({self.distribution} {self.version}) failed in {hook}: "
                f"{type(exc).__name__}: {str(exc).rstrip().rstrip('.')}. If this names an option, check "
                f"[backend_options] of the configuration (see the backend's documentation); --traceback shows where "
                f"it failed."
            ) from exc

    def _call(self, hook: str, **kwargs: Any) -> Any:
        return self._guard(hook, lambda: getattr(self._pm.hook, hook)(**kwargs))

    def _expect(self, hook: str, value: Any, kind: type) -> Any:
        if not isinstance(value, kind):
            raise BackendError(
                f"Backend '{self.name}' ({self.distribution} {self.version}): {hook} returned "
                f"{type(value).__name__}, expected {kind.__name__}. This is a bug in the backend."
            )
        return value

    # -- options ----------------------------------------------------------------------------
    def resolve_options(self, options: object | None = None) -> object | None:
        """This backend's resolved options for ``options`` (its dataclass, a mapping, or None).

        Raises
        ------
        ConfigError
            ``options`` is another backend's options dataclass (the message names the backend that
            owns it), or the backend takes no options (no ``ptychopinn_resolve_options`` hook) and
            ``options`` is not None/empty, or the backend's hook refuses a key.
        """
        if options is not None and id(options) in self._resolved and self._resolved[id(options)] is options:
            return options
        if options is not None:
            from ptychopinn.plugins.options import options_owner, refuse_foreign, top_module
            from ptychopinn.plugins.registry import entry_point_values

            owner = options_owner(options, entry_points=entry_point_values())
            refuse_foreign(options, backend=self.name, owner=owner, own_package=top_module(self.entry_point))
        if not self.implements("ptychopinn_resolve_options"):
            from collections.abc import Mapping

            if options is None or (isinstance(options, Mapping) and not options):
                return None
            raise ConfigError(
                f"backend '{self.name}' takes no options, but {type(options).__name__} {options!r} was given; "
                f"remove [backend_options] (or the options argument)."
            )
        resolved = self._call("ptychopinn_resolve_options", options=options)
        if resolved is not None:
            if len(self._resolved) > 32:
                self._resolved.clear()
            self._resolved[id(resolved)] = resolved
        return resolved  # type: ignore[no-any-return]

    # -- capabilities as methods ------------------------------------------------------------
    def train(
        self,
        data: TrainingData,
        model_config: ModelConfig,
        training_config: TrainingConfig,
        options: object | None = None,
    ) -> TrainedModel:
        """Train on grouped data (capability ``train``); checks the model that comes back.

        Raises
        ------
        CapabilityError
            The backend cannot train.
        BackendError
            The model is labelled with another backend, or its weights do not fit the architecture.
        BackendRuntimeError
            The hook failed, or a weight is NaN/Inf.
        """
        from ptychopinn.architecture import validate_weights
        from ptychopinn.config.compatibility import check_compatible
        from ptychopinn.results import TrainedModel

        self.require("train")
        check_compatible(model_config, groups=data.train, training_config=training_config)
        opts = self.resolve_options(options)
        out = self._call("ptychopinn_train", data=data, model_config=model_config, training_config=training_config,
                         options=opts)
        model = self._expect("ptychopinn_train", out, TrainedModel)
        if model.backend != self.name:
            raise BackendError(
                f"Backend '{self.name}' returned a model labelled '{model.backend}'; a backend must record itself. "
                f"This is a bug in {self.distribution}."
            )
        from ptychopinn._safety import first_non_finite

        for name, weight in model.weights.items():
            bad = first_non_finite(weight)
            if bad is not None:
                raise BackendRuntimeError(
                    f"Backend '{self.name}' ({self.distribution} {self.version}): ptychopinn_train returned weight "
                    f"'{name}' with {bad[0]} NaN/Inf value(s) (first at index {bad[1]}); refusing to use them. "
                    f"Training diverged: lower the learning rate."
                )
        try:
            validate_weights(model.weights, model.model_config, source=f"model trained by backend '{self.name}'")
        except PtychoPINNError as exc:
            raise BackendError(f"{exc}. This is a bug in the backend.") from exc
        return model

    def predictor(self, model: TrainedModel, options: object | None = None) -> Predictor:
        """The backend's predictor of ``model`` (capability ``infer``), built once and cached.

        The weights are validated against the architecture before the first build
        (:func:`ptychopinn.architecture.validate_weights`); the cache key is the identity of
        ``model.weights``, ``model.model_config`` and the resolved options.
        """
        from ptychopinn.architecture import validate_weights
        from ptychopinn.plugins.predictor import Predictor

        self.require("infer")
        opts = self.resolve_options(options)

        def build() -> Predictor:
            validate_weights(model.weights, model.model_config, source=f"model of backend '{model.backend}'")
            out = self._call("ptychopinn_build_predictor", model=model, options=opts)
            if not isinstance(out, Predictor):
                raise BackendError(
                    f"Backend '{self.name}' ({self.distribution} {self.version}): ptychopinn_build_predictor returned "
                    f"{type(out).__name__}, expected a Predictor (attribute 'backend', method predict()). This is "
                    f"a bug in the backend."
                )
            return out

        return self.predictors.get(model, opts, build)

    def infer(
        self,
        model: TrainedModel,
        groups: GroupedScan,
        config: InferenceConfig | None = None,
        options: object | None = None,
    ) -> PatchPrediction:
        """One object patch per group (capability ``infer``), batched by ``config.batch_size``.

        Returns
        -------
        PatchPrediction
            ``patches`` (B, N, N) complex64, ``positions = groups.centres``, ``backend`` = this backend.

        Raises
        ------
        PatternSizeMismatchError, GroupSizeMismatchError
            The groups do not fit the model.
        BackendError, BackendRuntimeError
            Wrong shape or dtype, NaN/Inf, or the predictor failed.
        """
        from ptychopinn.config.compatibility import check_groups_fit
        from ptychopinn.config.inference import InferenceConfig

        cfg = config if config is not None else InferenceConfig()
        check_groups_fit(model.model_config, groups)
        predictor = self.predictor(model, options)
        return predict_groups(
            predictor, model, groups, batch_size=cfg.batch_size, backend=self.name,
            call=lambda run: self._guard("Predictor.predict", run),
        )

    def export(self, model: TrainedModel, path: str | os.PathLike[str], options: object | None = None) -> Path:
        """Write ``model`` in the backend's deployment format (capability ``export``); returns the path."""
        from ptychopinn.architecture import validate_weights

        self.require("export")
        validate_weights(model.weights, model.model_config, source=f"model of backend '{model.backend}'")
        out = self._call("ptychopinn_export", model=model, path=Path(path), options=self.resolve_options(options))
        if isinstance(out, str):
            out = Path(out)
        return self._expect("ptychopinn_export", out, Path)  # type: ignore[no-any-return]

    def physics_forward(
        self,
        object_patches: np.ndarray,
        probe: np.ndarray,
        offsets: np.ndarray | None = None,
        *,
        object_big: bool = True,
        log_scale: float = 0.0,
    ) -> np.ndarray | None:
        """The backend's forward model on numpy input, or None without capability ``physics_forward``."""
        if not self.supports("physics_forward"):
            return None
        out = self._call(
            "ptychopinn_physics_forward",
            object_patches=object_patches,
            probe=probe,
            offsets=offsets,
            object_big=object_big,
            log_scale=log_scale,
        )
        return None if out is None else np.asarray(out)

    def refinement_operator(self, problem: RefinementProblem, options: object | None = None) -> RefinementOperator:
        """The backend's refinement gradient operator (capability ``refine``), else core's numpy reference."""
        from ptychopinn.refinement.operator import NumpyRefinementOperator

        out = None
        if self.supports("refine"):
            out = self._call("ptychopinn_refinement_operator", problem=problem, options=self.resolve_options(options))
        if out is None:
            return NumpyRefinementOperator(problem)
        if not callable(getattr(out, "gradients", None)):
            raise BackendError(
                f"Backend '{self.name}' ({self.distribution} {self.version}): ptychopinn_refinement_operator returned "
                f"{type(out).__name__} without a gradients() method. This is a bug in the backend."
            )
        return out  # type: ignore[no-any-return]
