"""``Backend``: the handle core returns for one loaded backend.

Its methods call the hooks of that one backend only (each backend has a plugin manager of
its own, so no other plugin can answer), check what comes back, and fill in the optional
parts: ``reassemble`` falls back to core's numpy stitcher when the backend does not
implement it or returns None.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pluggy

from ptychopinn.errors import BackendError, BackendRuntimeError, PtychoPINNError
from ptychopinn.plugins.info import BackendInfo

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.config.inference import InferenceConfig
    from ptychopinn.config.model import ModelConfig
    from ptychopinn.config.training import TrainingConfig
    from ptychopinn.data.grouped import GroupedScan
    from ptychopinn.refinement.engine import RefinementOperator
    from ptychopinn.refinement.problem import RefinementProblem
    from ptychopinn.results import CanvasSpec, PatchPrediction, StitchedObject, TrainedModel, TrainingData

__all__ = ["Backend"]


class Backend:
    """A loaded backend. Obtain it with :func:`ptychopinn.get_backend`, not by constructing it.

    Attributes
    ----------
    name : str
        Canonical backend name.
    info : BackendInfo
        What the backend says about itself.
    distribution, version : str or None
        The distribution that provides it (from entry-point metadata).
    entry_point : str
        The plugin module.
    plugin : module
        The registered plugin module.
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

    def __repr__(self) -> str:
        api = f"{self.info.api_version[0]}.{self.info.api_version[1]}"
        return f"Backend(name={self.name!r}, distribution={self.distribution!r}, version={self.version!r}, api={api})"

    def implements(self, hook: str) -> bool:
        """Whether the backend implements hook ``hook`` (e.g. ``"ptychopinn_reassemble"``)."""
        caller = getattr(self._pm.hook, hook, None)
        return caller is not None and bool(caller.get_hookimpls())

    def _call(self, hook: str, **kwargs: Any) -> Any:
        """Call one hook. PtychoPINN errors pass through; anything else the backend raises (or a
        ``sys.exit`` in it) becomes a :class:`BackendRuntimeError` naming the backend and the hook."""
        try:
            return getattr(self._pm.hook, hook)(**kwargs)
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

    def _check_finite(self, hook: str, what: str, array: Any) -> None:
        from ptychopinn._safety import first_non_finite

        bad = first_non_finite(array)
        if bad is not None:
            raise BackendRuntimeError(
                f"Backend '{self.name}' ({self.distribution} {self.version}): {hook} returned {what} with "
                f"{bad[0]} NaN/Inf value(s) (first at index {bad[1]}); refusing to use them. For training this "
                f"means it diverged: lower the learning rate; for inference, the model or its input is broken."
            )

    def _expect(self, hook: str, value: Any, kind: type) -> Any:
        if not isinstance(value, kind):
            raise BackendError(
                f"Backend '{self.name}' ({self.distribution} {self.version}): {hook} returned "
                f"{type(value).__name__}, expected {kind.__name__}. This is a bug in the backend."
            )
        return value

    def train(
        self,
        data: TrainingData,
        model_config: ModelConfig,
        training_config: TrainingConfig,
        options: object | None = None,
    ) -> TrainedModel:
        """Train on grouped data (see ``BackendSpec.ptychopinn_train``)."""
        from ptychopinn.results import TrainedModel

        out = self._call(
            "ptychopinn_train", data=data, model_config=model_config, training_config=training_config, options=options
        )
        model = self._expect("ptychopinn_train", out, TrainedModel)
        for name, weight in model.weights.items():
            self._check_finite("ptychopinn_train", f"weight '{name}'", weight)
        return model

    def save(self, model: TrainedModel, path: str | os.PathLike[str]) -> Path:
        """Write ``model`` as a model bundle; returns the path written."""
        out = self._call("ptychopinn_save", model=model, path=Path(path))
        if isinstance(out, str):
            out = Path(out)
        return self._expect("ptychopinn_save", out, Path)

    def load(self, path: str | os.PathLike[str], options: object | None = None) -> TrainedModel:
        """Read a model bundle for this backend."""
        from ptychopinn.results import TrainedModel

        out = self._call("ptychopinn_load", path=Path(path), options=options)
        return self._expect("ptychopinn_load", out, TrainedModel)

    def infer(
        self,
        model: TrainedModel,
        data: GroupedScan,
        config: InferenceConfig,
        options: object | None = None,
    ) -> PatchPrediction:
        """Predict one object patch per group; checks shape and dtype of the answer."""
        from ptychopinn.results import PatchPrediction

        out = self._expect(
            "ptychopinn_infer",
            self._call("ptychopinn_infer", model=model, data=data, config=config, options=options),
            PatchPrediction,
        )
        B, N = data.n_groups, data.N
        patches = np.asarray(out.patches)
        if patches.shape != (B, N, N) or not np.iscomplexobj(patches):
            raise BackendError(
                f"Backend '{self.name}': ptychopinn_infer must return patches of shape ({B}, {N}, {N}) complex, "
                f"got {patches.shape} {patches.dtype}. This is a bug in the backend."
            )
        self._check_finite("ptychopinn_infer", "object patches", patches)
        if np.asarray(out.positions).shape != (B, 2):
            raise BackendError(
                f"Backend '{self.name}': ptychopinn_infer must return positions of shape ({B}, 2), "
                f"got {np.asarray(out.positions).shape}."
            )
        return out

    def reassemble(
        self,
        prediction: PatchPrediction,
        probe: np.ndarray,
        config: InferenceConfig | None = None,
        canvas: CanvasSpec | None = None,
    ) -> StitchedObject:
        """Stitch patches with the backend's reassembly, or core's numpy stitcher as a fallback."""
        from ptychopinn.config.inference import InferenceConfig
        from ptychopinn.results import StitchedObject

        cfg = config if config is not None else InferenceConfig()
        out = None
        if self.implements("ptychopinn_reassemble"):
            out = self._call("ptychopinn_reassemble", prediction=prediction, probe=probe, config=cfg, canvas=canvas)
        if out is None:
            from ptychopinn.stitching import reassemble

            return reassemble(
                np.asarray(prediction.patches), np.asarray(prediction.positions), probe, config=cfg, canvas=canvas
            )
        return self._expect("ptychopinn_reassemble", out, StitchedObject)

    def physics_forward(
        self,
        object_patches: np.ndarray,
        probe: np.ndarray,
        offsets: np.ndarray | None = None,
        *,
        object_big: bool = True,
        log_scale: float = 0.0,
    ) -> np.ndarray | None:
        """The backend's forward model on numpy input, or None when it does not expose it (optional hook)."""
        if not self.implements("ptychopinn_physics_forward"):
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
        """The backend's refinement gradient operator, or core's numpy reference as a fallback."""
        from ptychopinn.refinement.operator import NumpyRefinementOperator

        out = None
        if self.implements("ptychopinn_refinement_operator"):
            out = self._call("ptychopinn_refinement_operator", problem=problem, options=options)
        if out is None:
            return NumpyRefinementOperator(problem)
        if not callable(getattr(out, "gradients", None)):
            raise BackendError(
                f"Backend '{self.name}' ({self.distribution} {self.version}): ptychopinn_refinement_operator returned "
                f"{type(out).__name__} without a gradients() method. This is a bug in the backend."
            )
        return out  # type: ignore[no-any-return]
