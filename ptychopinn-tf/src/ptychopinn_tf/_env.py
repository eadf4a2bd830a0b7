"""Import TensorFlow and Keras 3 (on the TensorFlow backend) with clear errors; runtime settings.

Every module that needs the framework calls :func:`tf_keras` instead of importing it at module
level, so that ``import ptychopinn_tf`` and the plugin module stay framework-free.
:func:`apply_threads` and :func:`make_strategy` apply :class:`~ptychopinn_tf.options.TFOptions`
to the TensorFlow runtime (they import TensorFlow when called).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ptychopinn.errors import BackendLoadError, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn_tf.options import TFOptions

__all__ = ["INSTALL_HINT", "apply_threads", "check_tensorflow_installed", "make_strategy", "tf_keras"]

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


def apply_threads(options: TFOptions) -> None:
    """Apply the thread counts when given; TensorFlow only accepts them before its runtime starts."""
    tf, _ = tf_keras()
    wanted = (
        (
            options.intra_op_threads,
            tf.config.threading.get_intra_op_parallelism_threads,
            tf.config.threading.set_intra_op_parallelism_threads,
        ),
        (
            options.inter_op_threads,
            tf.config.threading.get_inter_op_parallelism_threads,
            tf.config.threading.set_inter_op_parallelism_threads,
        ),
    )
    for value, get, set_ in wanted:
        if value is None or get() == value:
            continue
        try:
            set_(value)
        except RuntimeError:
            warnings.warn(
                f"TensorFlow's runtime is already initialised; thread count {value} not applied "
                "(set TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS before starting Python instead)",
                RuntimeWarning,
                stacklevel=3,
            )


def make_strategy(options: TFOptions) -> Any:
    """The ``tf.distribute`` strategy named by ``options.strategy``."""
    tf, _ = tf_keras()
    if options.strategy == "default":
        return tf.distribute.get_strategy()
    try:
        if options.strategy == "mirrored":
            return tf.distribute.MirroredStrategy(devices=list(options.devices) if options.devices else None)
        return tf.distribute.OneDeviceStrategy(options.devices[0])
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"TFOptions.strategy={options.strategy!r} with devices={options.devices!r}: {exc}") from exc
