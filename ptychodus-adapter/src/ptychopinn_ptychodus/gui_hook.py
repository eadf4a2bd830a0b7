"""The PtychoPINN-Next settings panel in Ptychodus 1.7's GUI (Qt is imported only when the GUI is).

Ptychodus 1.7 builds one panel per algorithm from a hard-coded list of
``ReconstructorViewControllerFactory`` objects (``ptychodus.controller.core``); a library
without one gets the placeholder "<name> not found!". When
``ptychodus.controller.processing.core`` is imported (only by the GUI, after ``ModelCore`` is
built), ``ProcessingController._populate_stacked_widget`` is wrapped so that the factory list
also holds :class:`PtychoPINNNextViewControllerFactory` for the processing core that holds our
library. The panel is made from Ptychodus's own parameter widgets bound to the library's
settings, so the GUI, ``settings.ini`` and batch mode share one set of values.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["CONTROLLER_MODULE", "install_gui_hook", "make_view_controller_factory"]

logger = logging.getLogger("ptychopinn_ptychodus.gui")

CONTROLLER_MODULE = "ptychodus.controller.processing.core"
_MARK = "_ptychopinn_next_panel"


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """One-shot finder: lets the normal machinery load ``name``, then calls ``callback(module)``."""

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.callback = callback

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module
        callback = self.callback

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            callback(module)

        loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


def install_gui_hook() -> None:
    """Patch the processing controller now if the GUI is loaded, else when it is imported."""
    module = sys.modules.get(CONTROLLER_MODULE)
    if module is not None:
        _patch_controller(module)
        return
    if not any(isinstance(finder, _PostImportFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder(CONTROLLER_MODULE, _patch_controller))


def _patch_controller(module: ModuleType) -> None:
    """Wrap ``ProcessingController._populate_stacked_widget``; never raises."""
    try:
        controller = getattr(module, "ProcessingController", None)
        original = getattr(controller, "_populate_stacked_widget", None)
        if controller is None or original is None:
            logger.warning("PtychoPINN-Next: Ptychodus's processing controller is not the 1.7 one; no settings panel")
            return
        if getattr(original, _MARK, False):
            return
        if tuple(inspect.signature(original).parameters) != ("self", "view_controller_factories"):
            logger.warning(
                "PtychoPINN-Next: unexpected ProcessingController._populate_stacked_widget; no settings panel"
            )
            return

        def populate(self: Any, view_controller_factories: Any) -> Any:
            factories = list(view_controller_factories)
            try:
                from ptychopinn_ptychodus.integration import library_for
                from ptychopinn_ptychodus.library import LIBRARY_NAME

                library = library_for(self._processing_api)
                taken = {str(f.name).casefold() for f in factories}
                if library is not None and LIBRARY_NAME.casefold() not in taken:
                    factories.append(make_view_controller_factory(library, self._file_dialog_factory))
            except Exception:
                logger.exception("PtychoPINN-Next: could not build its settings panel")
            return original(self, factories)

        setattr(populate, _MARK, True)
        controller._populate_stacked_widget = populate
    except Exception:
        logger.exception("PtychoPINN-Next: could not hook the settings panel into Ptychodus's GUI")


def make_view_controller_factory(library: Any, file_dialog_factory: Any) -> Any:
    """A Ptychodus ``ReconstructorViewControllerFactory`` for our library (imports Qt)."""
    from ptychodus.controller.parameters import ParameterViewBuilder
    from ptychodus.controller.processing.core import ReconstructorViewControllerFactory

    from ptychopinn_ptychodus.library import LIBRARY_NAME

    settings = library.settings

    class PtychoPINNNextViewControllerFactory(ReconstructorViewControllerFactory):
        @property
        def name(self) -> str:
            return LIBRARY_NAME

        def create_view_controller(self, reconstructor_name: str) -> Any:
            builder = ParameterViewBuilder(file_dialog_factory)
            _add_settings(builder, settings, supervised=reconstructor_name.casefold() == "supervised")
            return builder.build_widget()

    return PtychoPINNNextViewControllerFactory()


def _add_settings(builder: Any, s: Any, *, supervised: bool) -> None:
    """Rows of the panel (labels say the ``settings.ini`` key; values are checked when a run starts)."""
    backends = s.backend_choices()
    model, training, inference = "Model", "Training", "Inference"
    builder.add_combo_box(s.training_backend, backends, "Backend (training):", group=training)
    builder.add_integer_line_edit(s.epochs, "Epochs:", group=training)
    builder.add_integer_line_edit(s.batch_size, "Batch Size:", group=training)
    builder.add_decimal_line_edit(s.learning_rate, "Learning Rate:", group=training)
    if supervised:
        builder.add_decimal_line_edit(s.mae_weight, "MAE Weight:", group=training)
    else:
        builder.add_decimal_line_edit(s.nll_weight, "NLL Weight:", group=training)
    builder.add_integer_line_edit(s.train_neighbors, "Neighbours (K):", group=training)
    builder.add_integer_line_edit(s.n_groups, "Groups (0 = one per point):", group=training)
    builder.add_decimal_line_edit(s.validation_fraction, "Validation Fraction:", group=training)
    builder.add_integer_line_edit(s.early_stopping_patience, "Early Stopping Patience (<0 off):", group=training)
    builder.add_decimal_line_edit(s.nphotons, "Photons (0 = from data):", group=training)
    builder.add_integer_line_edit(s.train_seed, "Seed:", group=training)

    builder.add_integer_line_edit(s.grid_size, "Grid Size:", group=model)
    builder.add_integer_line_edit(s.n_filters_scale, "Filters Scale:", group=model)
    builder.add_combo_box(
        s.amp_activation, ("sigmoid", "swish", "softplus", "relu"), "Amplitude Activation:", group=model
    )
    builder.add_check_box(s.object_big, "Object Big", group=model)
    builder.add_check_box(s.probe_big, "Probe Big", group=model)
    builder.add_check_box(s.pad_object, "Pad Object", group=model)
    builder.add_check_box(s.probe_mask, "Probe Mask", group=model)
    builder.add_check_box(s.intensity_scale_trainable, "Intensity Scale Trainable", group=model)

    builder.add_combo_box(s.inference_backend, backends, "Backend (inference):", group=inference)
    builder.add_integer_line_edit(s.inference_batch_size, "Batch Size:", group=inference)
    builder.add_integer_line_edit(s.inference_neighbors, "Neighbours (K):", group=inference)
    builder.add_combo_box(s.normalisation, ("data", "model"), "Normalisation:", group=inference)
    builder.add_combo_box(s.stitch_weight, ("probe", "window"), "Stitch Weight:", group=inference)
    builder.add_decimal_line_edit(s.valid_threshold, "Valid Threshold:", group=inference)
    builder.add_check_box(s.refine, "Refine (Poisson ML after the network)", group=inference)
    builder.add_check_box(s.refine_probe, "Refine Probe", group=inference)
    builder.add_check_box(s.refine_positions, "Refine Positions", group=inference)
    builder.add_integer_line_edit(s.refine_max_iterations, "Refine Max Sweeps:", group=inference)
