"""Numpy-in, numpy-out access to the TensorFlow physics (conformance and parity tests)."""

from __future__ import annotations

import numpy as np

from ptychopinn_tf._env import tf_keras
from ptychopinn_tf import physics

tf, _ = tf_keras()

__all__ = ["forward_amplitude", "group_object"]


def forward_amplitude(
    object_patches: np.ndarray,
    probe: np.ndarray,
    offsets: np.ndarray | None,
    *,
    object_big: bool = True,
    log_scale: float = 0.0,
) -> np.ndarray:
    """:func:`ptychopinn_tf.physics.forward_amplitude` on numpy arrays.

    Parameters
    ----------
    object_patches : (B, C', N, N) complex
    probe : (N, N) complex, normalised
    offsets : (B, C, 2) float or None (gridsize 1)

    Returns
    -------
    (B, C, N, N) float32
    """
    o = np.asarray(object_patches, dtype=np.complex64)
    B, N = o.shape[0], o.shape[-1]
    off = np.zeros((B, 1, 2), np.float32) if offsets is None else np.asarray(offsets, dtype=np.float32)
    out = physics.forward_amplitude(
        tf.constant(o),
        tf.constant(np.asarray(probe, dtype=np.complex64)),
        tf.constant(off),
        object_big=object_big,
        log_scale=float(log_scale),
        canvas_size=physics.static_canvas_size(off, N),
    )
    return out.numpy().astype(np.float32)


def group_object(object_patches: np.ndarray, offsets: np.ndarray | None, *, object_big: bool = True) -> np.ndarray:
    """:func:`ptychopinn_tf.physics.group_object` on numpy arrays; (B, N, N) complex64."""
    o = np.asarray(object_patches, dtype=np.complex64)
    off = np.zeros((o.shape[0], 1, 2), np.float32) if offsets is None else np.asarray(offsets, dtype=np.float32)
    return physics.group_object(tf.constant(o), tf.constant(off), object_big=object_big).numpy()
