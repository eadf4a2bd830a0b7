"""PtychoPINN-Next in a stock Ptychodus 1.7, with no file of Ptychodus edited.

Ptychodus 1.7 hard-codes its reconstructor libraries in ``ModelCore.__init__`` and reads no
entry point for them. What it does offer third parties is its plugin package: at start-up,
*before* it builds the processing core, ``ModelCore`` calls ``PluginRegistry.load_plugins()``,
which imports every module of the ``ptychodus.plugins`` namespace package and calls its
``register_plugins(registry)``. This distribution installs one such module
(``ptychodus/plugins/ptychopinn_next.py``), which calls :func:`register`:

1. file readers for this project's scan NPZ files (:mod:`ptychopinn_ptychodus.npz_reader`);
2. the reconstructor hook: the name ``ProcessingCore`` in ``ptychodus.model.core`` (looked up
   when ``ModelCore`` constructs it, a few lines later) is replaced by a subclass that appends
   :class:`~ptychopinn_ptychodus.library.PtychoPINNNextReconstructorLibrary` to the library
   list, unless a library of that name is already there (a Ptychodus that reads the
   ``ptychodus.reconstructor_libraries`` entry point, see ``upstream/``);
3. a guard on the ``[Processing] Algorithm`` setting: an unknown name is logged as an error and
   makes the next train/reconstruct raise (stock 1.7 silently runs nothing and exits 0);
4. the settings panel in the GUI (:mod:`ptychopinn_ptychodus.gui_hook`).

Everything is guarded: an unrecognised Ptychodus version or shape of its internals logs one
warning and leaves Ptychodus untouched; no exception ever reaches ``load_plugins`` (which would
abort Ptychodus's start-up). Nothing here imports a backend or an ML framework.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import sys
import weakref
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = [
    "PROCESSING_CORE_PARAMETERS",
    "SUPPORTED_PTYCHODUS",
    "UnknownAlgorithmError",
    "install_reconstructor_hook",
    "library_for",
    "ptychodus_version",
    "register",
]

logger = logging.getLogger("ptychopinn_ptychodus.integration")

SUPPORTED_PTYCHODUS = ((1, 7),)
"""(major, minor) versions of Ptychodus whose internals the hooks were written and tested against."""

PROCESSING_CORE_PARAMETERS = ("task_manager", "settings_registry", "product_api", "algorithm_libraries")
"""``ptychodus.model.processing.ProcessingCore.__init__`` parameters in 1.7 (checked before hooking)."""

_HOOK_MARK = "_ptychopinn_next_hook"
_LIBRARIES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
"""processing_api -> our library, for the GUI panel."""


class UnknownAlgorithmError(ValueError):
    """``[Processing] Algorithm`` names no installed reconstructor; the message lists the available ones."""


def ptychodus_version() -> tuple[int, int] | None:
    """(major, minor) of the installed Ptychodus, or None when it cannot be read."""
    try:
        text = version("ptychodus")
    except PackageNotFoundError:
        return None
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def _supported() -> bool:
    found = ptychodus_version()
    if found in SUPPORTED_PTYCHODUS:
        return True
    try:
        text = version("ptychodus")
    except PackageNotFoundError:
        text = "not installed"
    supported = ", ".join(f"{a}.{b}" for a, b in SUPPORTED_PTYCHODUS)
    logger.warning(
        "PtychoPINN-Next: Ptychodus %s is not a version this adapter recognises (supported: %s); its "
        "reconstructors are NOT added. Install ptychodus==1.7.* or a ptychopinn-ptychodus made for your Ptychodus.",
        text,
        supported,
    )
    return False


def register(registry: Any) -> None:
    """Entry of the ``ptychodus/plugins/ptychopinn_next.py`` module; never raises."""
    try:
        from ptychopinn_ptychodus.npz_reader import register_file_readers

        register_file_readers(registry)
    except Exception:
        logger.exception("PtychoPINN-Next: could not register the PtychoPINN scan file readers")
    try:
        if install_reconstructor_hook():
            from ptychopinn_ptychodus.gui_hook import install_gui_hook

            install_gui_hook()
    except Exception:
        logger.exception("PtychoPINN-Next: could not hook its reconstructors into Ptychodus")


def install_reconstructor_hook() -> bool:
    """Make ``ptychodus.model.core.ModelCore`` build its ``ProcessingCore`` with our library.

    Only acts while ``ptychodus.model.core`` is imported (``ModelCore`` runs ``load_plugins``
    from its ``__init__``); importing it here would boot Ptychodus's whole application core.
    Idempotent. Returns True when the hook is in place.
    """
    core_module = sys.modules.get("ptychodus.model.core")
    if core_module is None:
        return False
    original = getattr(core_module, "ProcessingCore", None)
    if original is None:
        logger.warning("PtychoPINN-Next: ptychodus.model.core has no ProcessingCore; reconstructors NOT added")
        return False
    if getattr(original, _HOOK_MARK, False):
        return True
    if not _supported():
        return False
    try:
        names = tuple(inspect.signature(original.__init__).parameters)[1:]
    except (TypeError, ValueError):
        names = ()
    if names != PROCESSING_CORE_PARAMETERS:
        logger.warning(
            "PtychoPINN-Next: ProcessingCore.__init__%s is not the Ptychodus 1.7 signature %s; reconstructors "
            "NOT added",
            names,
            PROCESSING_CORE_PARAMETERS,
        )
        return False
    core_module.ProcessingCore = _hooked_processing_core(original)
    logger.debug("PtychoPINN-Next: ProcessingCore hooked")
    return True


def library_for(processing_api: Any) -> Any | None:
    """Our library in the processing core that owns ``processing_api`` (None if not hooked there)."""
    return _LIBRARIES.get(processing_api)


def _hooked_processing_core(original: type) -> type:
    class ProcessingCore(original):  # type: ignore[valid-type, misc]
        """Ptychodus's ProcessingCore, with PtychoPINN-Next appended to its reconstructor libraries."""

        def __init__(
            self,
            task_manager: Any,
            settings_registry: Any,
            product_api: Any,
            algorithm_libraries: Sequence[Any],
        ) -> None:
            libraries = list(algorithm_libraries)
            ours = _find_library(libraries)
            if ours is None:
                ours = _construct_library(settings_registry, libraries)
                if ours is not None:
                    libraries.append(ours)
            super().__init__(task_manager, settings_registry, product_api, libraries)
            if ours is not None:
                _LIBRARIES[self.processing_api] = ours
                monitor = self.processing_api.task_monitor
                if hasattr(ours, "stop_requested"):
                    ours.stop_requested.check = lambda: monitor.is_stopping
            try:
                _guard_algorithm_setting(self.algorithm_parameter, self.processing_api)
            except Exception:
                logger.exception("PtychoPINN-Next: could not install the unknown-algorithm check")

    setattr(ProcessingCore, _HOOK_MARK, True)
    ProcessingCore.__qualname__ = original.__qualname__
    ProcessingCore.__module__ = original.__module__
    return ProcessingCore


def _find_library(libraries: Sequence[Any]) -> Any | None:
    from ptychopinn_ptychodus.library import LIBRARY_NAME

    for library in libraries:
        if str(getattr(library, "name", "")).casefold() == LIBRARY_NAME.casefold():
            return library
    return None


def _construct_library(settings_registry: Any, libraries: Sequence[Any]) -> Any | None:
    """Our library, or None (logged) if it cannot be built; never raises."""
    try:
        from ptychopinn_ptychodus.library import PtychoPINNNextReconstructorLibrary

        developer_mode = logging.getLogger("ptychodus.model.core").getEffectiveLevel() <= logging.DEBUG
        library = PtychoPINNNextReconstructorLibrary(settings_registry, developer_mode)
        if "_" in library.name or any(library.name.casefold() == str(lib.name).casefold() for lib in libraries):
            logger.warning("PtychoPINN-Next: library name %r clashes with another library; not added", library.name)
            return None
        return library
    except Exception:
        logger.exception("PtychoPINN-Next: constructing the reconstructor library failed; it is not added")
        return None


def _guard_algorithm_setting(parameter: Any, processing_api: Any) -> None:
    """Remember an unknown ``[Processing] Algorithm`` and make train/reconstruct refuse to run on it."""
    state: dict[str, Any] = {"unknown": None, "busy": False}
    available = list(parameter.available_reconstructors())
    set_value = parameter.set_value

    def check(value: str) -> None:
        key = str(value).strip().casefold()
        if key in available:
            state["unknown"] = None
            return
        state["unknown"] = str(value)
        close = difflib.get_close_matches(key, available, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        logger.error(
            "Ptychodus setting [Processing] Algorithm = '%s' names no installed reconstructor.%s Available: %s.",
            value,
            hint,
            ", ".join(available) or "none",
        )

    def guarded_set_value(value: str, *, notify: bool = True) -> None:
        if state["busy"]:  # Ptychodus reverting the setting after an unknown name: not the user's choice
            set_value(value, notify=notify)
            return
        check(value)
        state["busy"] = True
        try:
            set_value(value, notify=notify)
        finally:
            state["busy"] = False

    def refuse_unknown(action: str) -> None:
        unknown = state["unknown"]
        if unknown is None:
            return
        key = unknown.strip().casefold()
        close = difflib.get_close_matches(key, available, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        what = (
            "no reconstructor is selected (the default [Processing] Algorithm is not installed)"
            if key == "none_none"
            else f"the Ptychodus setting [Processing] Algorithm = '{unknown}' names no installed reconstructor"
        )
        raise UnknownAlgorithmError(
            f"Cannot {action}: {what}, so Ptychodus would run nothing.{hint} Choose one of: "
            f"{', '.join(available) or 'none'}."
        )

    def wrap(action: str, method: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            algorithm = kwargs.get("algorithm")
            if algorithm is not None:
                parameter.set_value(algorithm)
            refuse_unknown(action)
            return method(*args, **kwargs)

        guarded.__doc__ = method.__doc__
        return guarded

    current = parameter.get_value()
    if current not in available:  # the default named a library that is not installed
        state["unknown"] = current
    parameter.set_value = guarded_set_value
    processing_api.train = wrap("train", processing_api.train)
    processing_api.reconstruct = wrap("reconstruct", processing_api.reconstruct)
