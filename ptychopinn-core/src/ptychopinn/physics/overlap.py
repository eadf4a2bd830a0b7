"""The real-space overlap constraint for groups of neighbouring patterns (gridsize > 1).

A group holds C patches predicted for C neighbouring scan points. ``offsets[b, c]`` is the
position of member ``c`` minus the group centre, ``(dx, dy)`` in object pixels. The patches
are *merged* on a common canvas centred on the group centre (each moved by ``+offset``) as a
weighted average, and the canvas is *extracted* back at every member's offset. Where the
members overlap they are forced to agree.

Canvas layout: an N x N patch sits in the centre of the M x M canvas, rows and columns
``[(M - N) // 2, (M + N) // 2)`` (M - N even), so patch pixel (N/2, N/2) is canvas pixel
(M/2, M/2) before translation.

Normalisation: ``canvas = sum_c T_c(w * O_c) / (sum_c T_c(w) + eps)`` with the *same*
weights in numerator and denominator, so the canvas is a convex combination of the
members and cannot blow up where the weights are small (the published implementation
divided full patches by a central-window count + 1e-3 and amplified unlit regions 1000x).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ptychopinn.physics.translation import translate

__all__ = [
    "MERGE_EPS",
    "canvas_size_for",
    "center_window",
    "crop_center",
    "extract_patches",
    "merge_patches",
    "merge_patches_unnormalised",
    "pad_center",
]

MERGE_EPS: float = 1e-6
"""Added to the summed weight in :func:`merge_patches`; canvas pixels with no weight go to 0."""


def center_window(N: int, size: int | None = None, *, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """(N, N) mask, 1 on the central ``size`` x ``size`` window (default N/2), else 0."""
    size = N // 2 if size is None else size
    if not 0 < size <= N or (N - size) % 2:
        raise ValueError(f"center_window: size must be in (0, {N}] with N - size even, got {size}")
    w = np.zeros((N, N), dtype=dtype)
    lo = (N - size) // 2
    w[lo : lo + size, lo : lo + size] = 1
    return w


def canvas_size_for(offsets: npt.ArrayLike, N: int) -> int:
    """Smallest even canvas side M that holds every member: ``N + 2 * ceil(max |offset|)``.

    Any larger canvas gives identical merged/extracted patches (zero fill).
    """
    off = np.asarray(offsets, dtype=np.float64)
    reach = float(np.max(np.abs(off))) if off.size else 0.0
    return N + 2 * math.ceil(reach)


def pad_center(patches: np.ndarray, M: int) -> np.ndarray:
    """Zero-pad (..., N, N) patches into the centre of (..., M, M)."""
    N = patches.shape[-1]
    if M < N or (M - N) % 2:
        raise ValueError(f"pad_center: canvas {M} must be >= patch {N} with an even difference")
    lo = (M - N) // 2
    out = np.zeros(patches.shape[:-2] + (M, M), dtype=patches.dtype)
    out[..., lo : lo + N, lo : lo + N] = patches
    return out


def crop_center(canvas: np.ndarray, N: int) -> np.ndarray:
    """Central (..., N, N) crop of (..., M, M) canvases (inverse of :func:`pad_center`)."""
    M = canvas.shape[-1]
    if M < N or (M - N) % 2:
        raise ValueError(f"crop_center: canvas {M} must be >= patch {N} with an even difference")
    lo = (M - N) // 2
    return canvas[..., lo : lo + N, lo : lo + N]


def _check(patches: np.ndarray, offsets: np.ndarray) -> None:
    if patches.ndim != 4 or patches.shape[-1] != patches.shape[-2]:
        raise ValueError(f"patches must have shape (B, C, N, N), got {patches.shape}")
    if offsets.shape != patches.shape[:2] + (2,):
        raise ValueError(f"offsets must have shape {patches.shape[:2] + (2,)} as (dx, dy), got {offsets.shape}")


def merge_patches_unnormalised(patches: npt.ArrayLike, offsets: npt.ArrayLike, *, canvas_size: int) -> np.ndarray:
    """``S(p) = sum_c T_{offset_c}(pad(p_c))``: the linear part of the merge.

    Parameters
    ----------
    patches : (B, C, N, N) real or complex
    offsets : (B, C, 2) float, object pixels (dx, dy), member position - group centre
    canvas_size : int
        M, with M >= :func:`canvas_size_for` (offsets, N) for lossless merging.

    Returns
    -------
    (B, M, M), dtype of ``patches``
    """
    p = np.asarray(patches)
    off = np.asarray(offsets, dtype=np.float64)
    _check(p, off)
    B, C, N, _ = p.shape
    padded = pad_center(p.reshape(B * C, N, N), canvas_size)
    moved = translate(padded, off.reshape(B * C, 2)).reshape(B, C, canvas_size, canvas_size)
    return moved.sum(axis=1)


def merge_patches(
    patches: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    canvas_size: int,
    weight: npt.ArrayLike | None = None,
    eps: float = MERGE_EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted-average merge of each group's patches on a canvas centred on the group.

    Parameters
    ----------
    patches : (B, C, N, N) complex
        Predicted object patches, member ``c`` centred on its own scan position.
    offsets : (B, C, 2) float, object pixels (dx, dy)
        Member position minus group centre.
    canvas_size : int
        M (even, >= N).
    weight : (N, N) float >= 0, optional
        Confidence of each patch pixel; default :func:`center_window` (N).
    eps : float
        Added to the summed weight.

    Returns
    -------
    canvas : (B, M, M), dtype of ``patches``
        ``sum_c T_c(w p_c) / (sum_c T_c(w) + eps)``.
    weight_sum : (B, M, M) float
        ``sum_c T_c(w)``.
    """
    p = np.asarray(patches)
    off = np.asarray(offsets, dtype=np.float64)
    _check(p, off)
    B, C, N, _ = p.shape
    w = center_window(N) if weight is None else np.asarray(weight)
    if w.shape != (N, N):
        raise ValueError(f"weight must have shape ({N}, {N}), got {w.shape}")
    numerator = merge_patches_unnormalised(p * w, off, canvas_size=canvas_size)
    wsum = merge_patches_unnormalised(np.broadcast_to(w, p.shape).astype(w.dtype), off, canvas_size=canvas_size)
    canvas = numerator / (wsum + eps)
    return canvas.astype(p.dtype, copy=False), wsum


def extract_patches(canvas: npt.ArrayLike, offsets: npt.ArrayLike, *, N: int) -> np.ndarray:
    """Cut each member's N x N patch back out of its group canvas.

    ``extract(canvas)[b, c] = crop_N(T_{-offset_c}(canvas[b]))``; this is the adjoint of
    :func:`merge_patches_unnormalised`.

    Parameters
    ----------
    canvas : (B, M, M) real or complex
    offsets : (B, C, 2) float, object pixels (dx, dy)
    N : int

    Returns
    -------
    (B, C, N, N), dtype of ``canvas``
    """
    cv = np.asarray(canvas)
    off = np.asarray(offsets, dtype=np.float64)
    if cv.ndim != 3 or off.ndim != 3 or off.shape[0] != cv.shape[0] or off.shape[2] != 2:
        raise ValueError(
            f"extract_patches: canvas (B, M, M) and offsets (B, C, 2) expected, got {cv.shape}, {off.shape}"
        )
    B, C = off.shape[:2]
    rep = np.repeat(cv, C, axis=0)
    moved = translate(rep, -off.reshape(B * C, 2))
    return crop_center(moved, N).reshape(B, C, N, N)
