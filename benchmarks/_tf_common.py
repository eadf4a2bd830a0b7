"""Shared helpers of the TensorFlow benchmarks (same JSON layout as the torch ones)."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _torch_common import grouped_random, load_average, machine, untrained_model, write_json  # noqa: E402,F401  (framework-free helpers)


def set_tf_threads(n: int) -> dict[str, object]:
    """Pin TensorFlow's intra-op threads (before TF starts) and report what is used."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(n)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from ptychopinn_tf._env import tf_keras

    tf, keras = tf_keras()
    return {
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or n,
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def gpu_peak_mb() -> float | None:
    """Peak GPU memory of device 0 in MiB, or None without a GPU."""
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
