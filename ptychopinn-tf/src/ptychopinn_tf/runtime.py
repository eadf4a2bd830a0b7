"""TensorFlow runtime settings taken from :class:`~ptychopinn_tf.options.TFOptions`."""

from __future__ import annotations

import warnings

from ptychopinn.errors import ConfigError

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf.options import TFOptions

tf, _ = tf_keras()

__all__ = ["apply_threads", "make_strategy"]


def apply_threads(options: TFOptions) -> None:
    """Apply the thread counts when given; TensorFlow only accepts them before its runtime starts."""
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


def make_strategy(options: TFOptions):
    """The ``tf.distribute`` strategy named by ``options.strategy``."""
    if options.strategy == "default":
        return tf.distribute.get_strategy()
    try:
        if options.strategy == "mirrored":
            return tf.distribute.MirroredStrategy(devices=list(options.devices) if options.devices else None)
        return tf.distribute.OneDeviceStrategy(options.devices[0])
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"TFOptions.strategy={options.strategy!r} with devices={options.devices!r}: {exc}") from exc
