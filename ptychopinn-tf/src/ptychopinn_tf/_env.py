"""Import TensorFlow and Keras 3 (on the TensorFlow backend) with clear errors.

Every module that needs the framework calls :func:`tf_keras` instead of importing it at module
level, so that ``import ptychopinn_tf`` and the plugin module stay framework-free.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

from ptychopinn.errors import BackendLoadError

__all__ = ["INSTALL_HINT", "check_tensorflow_installed", "tf_keras"]

INSTALL_HINT = 'pip install "ptychopinn-tf[cpu]"  (or "ptychopinn-tf[gpu]" for CUDA)'


def check_tensorflow_installed() -> None:
    """Raise :class:`BackendLoadError` when TensorFlow cannot be found (without importing it)."""
    try:
        spec = importlib.util.find_spec("tensorflow")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise BackendLoadError(
            "the TensorFlow backend (ptychopinn-tf) is installed but TensorFlow itself is not; "
            f"install it with: {INSTALL_HINT}"
        )


def _check_keras_backend() -> None:
    keras_mod = sys.modules.get("keras")
    if keras_mod is not None:
        backend_fn = getattr(getattr(keras_mod, "backend", None), "backend", None)
        active = backend_fn() if callable(backend_fn) else None
        if active is not None and active != "tensorflow":
            raise BackendLoadError(
                f"Keras was already imported in this process with the {active!r} backend; the PtychoPINN "
                "TensorFlow backend needs Keras on TensorFlow. Set KERAS_BACKEND=tensorflow before anything "
                "imports keras (or start a new Python process)."
            )
        return
    requested = os.environ.get("KERAS_BACKEND")
    if requested is not None and requested != "tensorflow":
        raise BackendLoadError(
            f"KERAS_BACKEND={requested!r} is set, but the PtychoPINN TensorFlow backend needs Keras on "
            "TensorFlow: unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow."
        )
    os.environ["KERAS_BACKEND"] = "tensorflow"


def tf_keras() -> tuple[ModuleType, ModuleType]:
    """Return ``(tensorflow, keras)`` with Keras running on TensorFlow.

    Raises
    ------
    BackendLoadError
        TensorFlow is missing (the message holds the install command), or Keras is (or is
        configured to be) on another backend.
    """
    _check_keras_backend()
    check_tensorflow_installed()
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - broken installations
        raise BackendLoadError(f"TensorFlow failed to import ({exc}); reinstall it with: {INSTALL_HINT}") from exc
    import keras

    if keras.backend.backend() != "tensorflow":  # pragma: no cover - guarded above
        raise BackendLoadError(
            f"Keras runs on {keras.backend.backend()!r}, not TensorFlow; set KERAS_BACKEND=tensorflow"
        )
    return tf, keras
