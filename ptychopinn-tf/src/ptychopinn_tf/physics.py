"""Differentiable TensorFlow twin of core's numpy physics oracle (:mod:`ptychopinn.physics`).

Tensors are annotated ``Any`` (TensorFlow is imported lazily).
Channels-first inside: object patches ``(B, C, N, N)`` complex64, offsets ``(B, C, 2)``
float32 as ``(dx, dy)`` object pixels (member position - group centre). Everything here is
float32/complex64, also under a mixed-precision policy.

Translation is a gather-based, separable bilinear resampling with zero fill that reproduces
:func:`ptychopinn.physics.translate` exactly (``out[i] = (1-f) src[i-k] + f src[i-k-1]`` per
axis with ``k = floor(shift)``, ``f = shift - k``), fused with the zero-padding/cropping of the
merge and extract steps. It uses only ``tf.gather`` and elementwise ops (XLA-compatible).

:func:`predicted_amplitude` is the differentiable forward model of training;
:func:`forward_amplitude` runs it on numpy arrays (the ``ptychopinn_physics_forward`` hook).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ptychopinn.physics import MERGE_EPS, canvas_size_for, center_window

from ptychopinn_tf._env import tf_keras

tf, _ = tf_keras()

__all__ = ["constrained_patches", "extract_patches", "far_field_amplitude", "forward_amplitude", "merge_patches",
           "predicted_amplitude", "resample", "static_canvas_size"]


def _axis_taps(shift: Any, size_out: int, size_in: int, base: int) -> tuple[Any, Any, Any, Any]:
    """Indices and weights of the two bilinear taps along one axis.

    ``out[i] = (1 - f) * src[i + base - k] + f * src[i + base - k - 1]`` (zero outside).

    Returns
    -------
    idx0, idx1 : (B, size_out) int32, clipped to the source
    w0, w1 : (B, size_out) float32, zero where the tap falls outside the source
    """
    k = tf.floor(shift)
    f = shift - k
    pos = tf.range(size_out, dtype=tf.int32)[None, :] + base - tf.cast(k, tf.int32)[:, None]
    taps = []
    for idx, w in ((pos, 1.0 - f), (pos - 1, f)):
        inside = tf.cast((idx >= 0) & (idx < size_in), tf.float32)
        taps.append((tf.clip_by_value(idx, 0, size_in - 1), inside * w[:, None]))
    (i0, w0), (i1, w1) = taps
    return i0, i1, w0, w1


def resample(src: Any, shifts: Any, *, size_out: int, base: int) -> Any:
    """Bilinear translation with a change of frame (pad or crop), zero fill.

    ``out[b, i, j] = bilinear(src[b])[i + base - dy_b, j + base - dx_b]``, i.e. the image is
    moved by ``(dx, dy)`` and the output window starts ``base`` pixels into the source frame
    (``base < 0`` pads, ``base > 0`` crops).

    Parameters
    ----------
    src : (B, H, H, K) float32
        Images with K real channels (e.g. real part, imaginary part, weight).
    shifts : (B, 2) float32, pixels ``(dx, dy)``
    size_out : int
        Output side.
    base : int
        Source pixel of output pixel 0 before the shift.

    Returns
    -------
    (B, size_out, size_out, K) float32
    """
    size_in = src.shape[1]
    r0, r1, rw0, rw1 = _axis_taps(shifts[:, 1], size_out, size_in, base)
    rows = (
        tf.gather(src, r0, axis=1, batch_dims=1) * rw0[:, :, None, None]
        + tf.gather(src, r1, axis=1, batch_dims=1) * rw1[:, :, None, None]
    )
    c0, c1, cw0, cw1 = _axis_taps(shifts[:, 0], size_out, size_in, base)
    return (
        tf.gather(rows, c0, axis=2, batch_dims=1) * cw0[:, None, :, None]
        + tf.gather(rows, c1, axis=2, batch_dims=1) * cw1[:, None, :, None]
    )


def _split(z: Any) -> Any:
    return tf.stack([tf.math.real(z), tf.math.imag(z)], axis=-1)


def merge_patches(patches: Any, offsets: Any, *, canvas_size: int, eps: float = MERGE_EPS) -> Any:
    """Weighted-average merge of each group's patches (twin of :func:`ptychopinn.physics.merge_patches`).

    Weights are :func:`ptychopinn.physics.center_window` (N). A ``canvas_size`` equal to N gives
    the central N x N of any larger canvas (the group object).

    Parameters
    ----------
    patches : (B, C, N, N) complex64
    offsets : (B, C, 2) float32, object pixels (dx, dy)
    canvas_size : int
        M, with M - N even.

    Returns
    -------
    (B, M, M) complex64
    """
    shape = tf.shape(patches)
    B, C = shape[0], shape[1]
    N = patches.shape[-1]
    M = canvas_size
    w = tf.constant(center_window(N), dtype=tf.float32)
    w_b = tf.broadcast_to(w, tf.shape(tf.math.real(patches)))
    src = tf.stack([tf.math.real(patches) * w, tf.math.imag(patches) * w, w_b], axis=-1)
    src = tf.reshape(src, (B * C, N, N, 3))
    moved = resample(src, tf.reshape(offsets, (B * C, 2)), size_out=M, base=-((M - N) // 2))
    summed = tf.reduce_sum(tf.reshape(moved, (B, C, M, M, 3)), axis=1)
    denom = summed[..., 2] + eps
    return tf.complex(summed[..., 0] / denom, summed[..., 1] / denom)


def extract_patches(canvas: Any, offsets: Any, *, N: int) -> Any:
    """Cut each member's N x N patch out of its group canvas (twin of the oracle's ``extract_patches``).

    Parameters
    ----------
    canvas : (B, M, M) complex64
    offsets : (B, C, 2) float32 (dx, dy)

    Returns
    -------
    (B, C, N, N) complex64
    """
    shape = tf.shape(offsets)
    B, C = shape[0], shape[1]
    M = canvas.shape[-1]
    src = tf.repeat(_split(canvas), C, axis=0)
    moved = resample(src, -tf.reshape(offsets, (B * C, 2)), size_out=N, base=(M - N) // 2)
    out = tf.complex(moved[..., 0], moved[..., 1])
    return tf.reshape(out, (B, C, N, N))


def constrained_patches(
    object_patches: Any, offsets: Any, *, object_big: bool = True, canvas_size: int | None = None
) -> Any:
    """Patches after the overlap constraint; identity for C = 1 (twin of the oracle's).

    Parameters
    ----------
    object_patches : (B, C', N, N) complex64
    offsets : (B, C, 2) float32
    canvas_size : int or None
        M >= ``ptychopinn.physics.canvas_size_for(offsets, N)``; any such M gives the same result.
        None: :func:`static_canvas_size` of ``offsets`` (eager tensors only).

    Returns
    -------
    (B, C, N, N) complex64
    """
    C = offsets.shape[1]
    if C == 1:
        return object_patches
    N = object_patches.shape[-1]
    if object_big:
        if canvas_size is None:
            canvas_size = static_canvas_size(np.asarray(offsets), N)
        canvas = merge_patches(object_patches, offsets, canvas_size=canvas_size)
        return extract_patches(canvas, offsets, N=N)
    # pad to the canvas and extract == translate the single patch by -offset (zero fill)
    shape = tf.shape(offsets)
    B = shape[0]
    src = tf.repeat(_split(object_patches[:, 0]), C, axis=0)
    moved = resample(src, -tf.reshape(offsets, (B * C, 2)), size_out=N, base=0)
    return tf.reshape(tf.complex(moved[..., 0], moved[..., 1]), (B, C, N, N))


def far_field_amplitude(exit_wave: Any) -> Any:
    """``|fftshift(fft2(psi, norm="ortho"))|`` over the last two axes; (..., N, N) float32."""
    N = exit_wave.shape[-1]
    amp = tf.abs(tf.signal.fft2d(exit_wave)) / float(N)
    return tf.signal.fftshift(amp, axes=(-2, -1))


def predicted_amplitude(
    object_patches: Any, probe: Any, offsets: Any, *, object_big: bool = True, log_scale: Any = 0.0,
    canvas_size: int | None = None,
) -> Any:
    """Predicted diffraction amplitudes, differentiable (twin of :func:`ptychopinn.physics.forward_amplitude`).

    Parameters
    ----------
    object_patches : (B, C', N, N) complex64
    probe : (N, N) complex64, normalised probe
    offsets : (B, C, 2) float32
    log_scale : scalar float32 tensor or float
    canvas_size : int or None
        As for :func:`constrained_patches`.

    Returns
    -------
    (B, C, N, N) float32, network units
    """
    patches = constrained_patches(object_patches, offsets, object_big=object_big, canvas_size=canvas_size)
    return tf.exp(tf.cast(log_scale, tf.float32)) * far_field_amplitude(patches * probe)


def static_canvas_size(offsets: np.ndarray, N: int, *, quantum: int = 4) -> int:
    """A canvas side for every group in ``offsets``: core's :func:`~ptychopinn.physics.canvas_size_for`
    with the reach rounded up to a multiple of ``quantum`` pixels (fewer distinct graph shapes;
    larger canvases are exact)."""
    reach = (canvas_size_for(offsets, N) - N) // 2
    return N + 2 * quantum * -(-reach // quantum)


def forward_amplitude(object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, *,
                      object_big: bool = True, log_scale: float = 0.0) -> np.ndarray:
    """:func:`predicted_amplitude` on numpy arrays, without gradients: the ``ptychopinn_physics_forward``
    hook, with the arguments, shapes and units of the oracle :func:`ptychopinn.physics.forward_amplitude`
    (``offsets`` None for gridsize 1); returns (B, C, N, N) float32 amplitudes in network units."""
    o = np.asarray(object_patches, dtype=np.complex64)
    B, N = o.shape[0], o.shape[-1]
    off = np.zeros((B, 1, 2), np.float32) if offsets is None else np.asarray(offsets, dtype=np.float32)
    out: Any = predicted_amplitude(
        tf.constant(o),
        tf.constant(np.asarray(probe, dtype=np.complex64)),
        tf.constant(off),
        object_big=object_big,
        log_scale=float(log_scale),
        canvas_size=static_canvas_size(off, N),
    )
    return np.asarray(out.numpy(), dtype=np.float32)
