"""``tf.data`` input pipelines over a :class:`~ptychopinn.data.GroupedScan`.

Groups are read batch by batch with the scan's own readers (:meth:`GroupedScan.batch_diffraction`,
:meth:`GroupedScan.batch_ground_truth`), so memory grows with the batch, not with the scan.
Elements are ``((x, offsets), y)``, channels-first:

- ``x`` (b, C, N, N) float32: stored amplitudes x ``network_scale``;
- ``offsets`` (b, C, 2) float32 (dx, dy), object pixels;
- ``y``: ``x`` itself (``pinn``) or the ground-truth patches as ``[real, imag]`` (b, 2C, N, N)
  float32 (``supervised``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ptychopinn.data import GroupedScan
from ptychopinn.errors import MissingGroundTruthError

from ptychopinn_tf._env import tf_keras

tf, _ = tf_keras()

__all__ = ["load_batch", "make_dataset"]


def load_batch(
    grouped: GroupedScan, groups: np.ndarray, *, network_scale: float, supervised: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x``, ``offsets`` and ``y`` of the groups ``groups`` (b,) (see the module docstring)."""
    part = grouped.select(np.asarray(groups, dtype=np.int64))
    x = part.batch_diffraction(0, part.n_groups) * np.float32(network_scale)
    if supervised:
        gt = part.batch_ground_truth(0, part.n_groups)
        y = np.concatenate([gt.real, gt.imag], axis=1).astype(np.float32)
    else:
        y = x
    return x, part.offsets.astype(np.float32), y


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
) -> Any:
    """A batched ``tf.data.Dataset`` of ``((x, offsets), y)`` (see the module docstring).

    Shuffling permutes the groups anew every epoch (seeded); the last batch may be short.

    ``autotune=False`` (the default) turns ``tf.data`` autotuning off
    (``options.autotune.enabled``): the pipeline already has fixed parallelism (one loader
    call, ``prefetch`` batches), and with autotuning on Keras' per-epoch iterator is shut down on
    a background thread that left the CPU training loop idle for seconds at the start of every
    epoch (``benchmarks/tf_epoch_idle.py``).

    Raises
    ------
    MissingGroundTruthError
        ``supervised`` without ground-truth patches in ``grouped``.
    """
    n, C, N = grouped.n_groups, grouped.channels, grouped.N
    if supervised and grouped.ground_truth is None:
        raise MissingGroundTruthError(
            "model_type 'supervised' needs ground-truth object patches: the scan has no 'objectGuess'"
        )

    def load(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return load_batch(grouped, groups, network_scale=network_scale, supervised=supervised)

    def fetch(groups: Any) -> Any:
        x, off, y = tf.numpy_function(load, [groups], [tf.float32, tf.float32, tf.float32], stateful=False)
        x.set_shape((None, C, N, N))
        off.set_shape((None, C, 2))
        y.set_shape((None, 2 * C if supervised else C, N, N))
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
