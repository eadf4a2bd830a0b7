"""``tf.data`` input pipelines over a :class:`~ptychopinn.data.GroupedScan`.

Groups are read batch by batch from the (possibly memory-mapped) diffraction stack, so memory
grows with the batch, not with the scan. Elements are ``((x, offsets), y)`` with

- ``x`` (b, N, N, C) float32: stored amplitudes x ``network_scale``, channels-last;
- ``offsets`` (b, C, 2) float32 (dx, dy), object pixels;
- ``y``: ``x`` itself (``pinn``) or ``concat([|GT|, angle(GT)], -1)`` (b, N, N, 2C) (``supervised``).
"""

from __future__ import annotations

import numpy as np
from ptychopinn.data import GroupedScan
from ptychopinn.errors import ConfigError

from ptychopinn_tf._env import tf_keras

tf, _ = tf_keras()

__all__ = ["group_batch", "make_dataset", "truth_batch"]


def group_batch(grouped: GroupedScan, groups: np.ndarray, network_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Network input and offsets of ``groups`` (b,) indices.

    Returns
    -------
    x : (b, N, N, C) float32, channels-last network units
    offsets : (b, C, 2) float32
    """
    members = grouped.indices[groups]
    uniq, inverse = np.unique(members, return_inverse=True)
    stack = np.asarray(grouped.diffraction[uniq], dtype=np.float32)
    x = stack[inverse.reshape(members.shape)] * np.float32(network_scale)
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1))), grouped.offsets[groups].astype(np.float32)


def truth_batch(grouped: GroupedScan, groups: np.ndarray) -> np.ndarray:
    """``concat([|GT|, angle(GT)], -1)`` of the members' ground-truth patches, (b, N, N, 2C) float32."""
    if grouped.ground_truth is None:
        raise ConfigError(
            "model_type 'supervised' needs ground-truth object patches: the scan has no 'objectGuess' "
            "(group it with with_ground_truth=True)"
        )
    gt = np.asarray(grouped.ground_truth[grouped.indices[groups]], dtype=np.complex64)
    gt = np.transpose(gt, (0, 2, 3, 1))
    return np.concatenate([np.abs(gt), np.angle(gt)], axis=-1).astype(np.float32)


def make_dataset(
    grouped: GroupedScan,
    *,
    network_scale: float,
    batch_size: int,
    shuffle: bool,
    seed: int,
    supervised: bool = False,
    prefetch: int = 2,
    autotune: bool = False,
):
    """A batched ``tf.data.Dataset`` of ``((x, offsets), y)`` (see module docstring).

    Shuffling permutes the groups anew every epoch (seeded); the last batch may be short.

    ``autotune=False`` (the default) turns ``tf.data`` autotuning off
    (``options.autotune.enabled``): the pipeline already has fixed parallelism (one loader
    call, ``prefetch`` batches), and with autotuning on Keras' per-epoch iterator is shut down on
    a background thread that left the CPU training loop idle for seconds at the start of every
    epoch (``benchmarks/tf_epoch_idle.py``).
    """
    n, C, N = grouped.n_groups, grouped.channels, grouped.N
    if supervised:
        truth_batch(grouped, np.zeros(0, dtype=np.int64))  # fail fast without ground truth

    def load(groups: np.ndarray):
        x, off = group_batch(grouped, groups, network_scale)
        y = truth_batch(grouped, groups) if supervised else x
        return x, off, y

    def fetch(groups):
        x, off, y = tf.numpy_function(load, [groups], [tf.float32, tf.float32, tf.float32], stateful=False)
        x.set_shape((None, N, N, C))
        off.set_shape((None, C, 2))
        y.set_shape((None, N, N, 2 * C if supervised else C))
        return (x, off), y

    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(fetch, num_parallel_calls=1)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.autotune.enabled = bool(autotune)
    ds = ds.with_options(options)
    return ds.prefetch(prefetch) if prefetch else ds
