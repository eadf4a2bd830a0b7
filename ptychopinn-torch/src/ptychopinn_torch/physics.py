"""Differentiable torch twin of core's numpy physics oracle (:mod:`ptychopinn.physics`).

Conventions are core's (``docs/conventions.md``): offsets ``(dx, dy)`` in object pixels,
merge moves each patch by ``+offset``, extract by ``-offset``; bilinear translation with
zero fill; far field ``fftshift(fft2(psi, norm="ortho"))``.

A bilinear translation by a uniform shift is separable: along one axis it is the banded
matrix ``T_s[i, i'] = (1 - f) [i - i' = k] + f [i - i' = k + 1]`` with ``s = k + f``,
``k = floor(s)``, and the 2-D translation is ``T_dy @ image @ T_dx^T``. This is exactly the
oracle's operator (zero fill included), its adjoint is ``T_s^T = T_{-s}``, and padding /
cropping become column / row slices of ``T``. Merging and extracting a group are therefore
two small batched matrix products per member, on any device, and every group of a batch
keeps its own canvas (groups never mix, whatever the batch size).

:func:`predicted_amplitude` is the differentiable model training uses; :func:`forward_amplitude` is
the same on numpy arrays (the ``ptychopinn_physics_forward`` hook).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ptychopinn.physics import MERGE_EPS, canvas_size_for, center_window

__all__ = ["constrained_patches", "extract_patches", "far_field_amplitude", "forward_amplitude", "merge_patches",
           "predicted_amplitude", "translate", "translation_matrices"]


def translation_matrices(shifts: torch.Tensor, size: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """1-D bilinear translation operators.

    Parameters
    ----------
    shifts : (K,) float tensor, pixels
    size : int
        Length of the axis.

    Returns
    -------
    (K, size, size) tensor
        ``out = T @ x`` moves ``x`` by ``shift`` (positive = towards larger index), zero fill.
    """
    s = shifts.to(torch.float64)
    k = torch.floor(s)
    f = (s - k).to(dtype)[:, None, None]
    i = torch.arange(size, device=shifts.device)
    d = (i[:, None] - i[None, :]).to(torch.float64)[None]
    kk = k[:, None, None]
    return (1 - f) * (d == kk).to(dtype) + f * (d == kk + 1).to(dtype)


def _apply(images: torch.Tensor, ty: torch.Tensor, tx: torch.Tensor) -> torch.Tensor:
    """``ty @ images @ tx^T`` for real or complex images (K, H, W) with real operators."""
    if images.is_complex():
        re = ty @ images.real @ tx.transpose(-1, -2)
        im = ty @ images.imag @ tx.transpose(-1, -2)
        return torch.complex(re, im)
    return ty @ images @ tx.transpose(-1, -2)


def translate(images: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Translate each image (B, H, W) by its own ``(dx, dy)`` (B, 2): twin of ``ptychopinn.physics.translate``."""
    B, H, W = images.shape
    rdt = images.real.dtype if images.is_complex() else images.dtype
    ty = translation_matrices(shifts[:, 1], H, dtype=rdt)
    tx = translation_matrices(shifts[:, 0], W, dtype=rdt)
    return _apply(images, ty, tx)


def _member_operators(offsets: torch.Tensor, N: int, M: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-member placement operators ``(B, C, M, N)`` (rows: canvas, columns: patch) for y and x."""
    B, C, _ = offsets.shape
    lo = (M - N) // 2
    flat = offsets.reshape(B * C, 2)
    ay = translation_matrices(flat[:, 1], M, dtype=dtype)[:, :, lo : lo + N]
    ax = translation_matrices(flat[:, 0], M, dtype=dtype)[:, :, lo : lo + N]
    return ay.reshape(B, C, M, N), ax.reshape(B, C, M, N)


def merge_patches(
    patches: torch.Tensor,
    offsets: torch.Tensor,
    *,
    canvas_size: int,
    weight: torch.Tensor | None = None,
    eps: float = MERGE_EPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin of ``ptychopinn.physics.merge_patches``: one canvas per group.

    Parameters
    ----------
    patches : (B, C, N, N) complex
    offsets : (B, C, 2) float, (dx, dy) object pixels
    canvas_size : int
    weight : (N, N) float, optional (default: central N/2 window)
    eps : float

    Returns
    -------
    canvas : (B, M, M) complex
    weight_sum : (B, M, M) float
    """
    B, C, N, _ = patches.shape
    rdt = patches.real.dtype
    w = torch.from_numpy(center_window(N)) if weight is None else weight
    w = w.to(patches.device, rdt)
    ay, ax = _member_operators(offsets, N, canvas_size, rdt)
    num = _apply(patches * w, ay, ax).sum(dim=1)
    wsum = (ay @ w @ ax.transpose(-1, -2)).sum(dim=1)
    return num / (wsum + eps), wsum


def extract_patches(canvas: torch.Tensor, offsets: torch.Tensor, *, N: int) -> torch.Tensor:
    """Twin of ``ptychopinn.physics.extract_patches``: (B, M, M), (B, C, 2) -> (B, C, N, N)."""
    M = canvas.shape[-1]
    rdt = canvas.real.dtype if canvas.is_complex() else canvas.dtype
    ay, ax = _member_operators(offsets, N, M, rdt)
    return _apply(canvas[:, None], ay.transpose(-1, -2), ax.transpose(-1, -2))


def _group_canvas(
    obj: torch.Tensor, offsets: torch.Tensor, *, object_big: bool, canvas_size: int | None
) -> torch.Tensor:
    N = obj.shape[-1]
    M = canvas_size if canvas_size is not None else canvas_size_for(offsets.detach().cpu().numpy(), N)
    if object_big:
        return merge_patches(obj, offsets, canvas_size=M)[0]
    lo = (M - N) // 2
    single = obj[:, 0]
    re = torch.nn.functional.pad(single.real, (lo, lo, lo, lo))
    im = torch.nn.functional.pad(single.imag, (lo, lo, lo, lo))
    return torch.complex(re, im)


def constrained_patches(
    object_patches: torch.Tensor,
    offsets: torch.Tensor | None,
    *,
    object_big: bool = True,
    canvas_size: int | None = None,
) -> torch.Tensor:
    """Twin of ``ptychopinn.physics.constrained_patches`` (identity for gridsize 1): (B, C, N, N) complex.

    ``canvas_size`` None: the smallest canvas for ``offsets`` (any larger one gives the same result).
    """
    if offsets is None or offsets.shape[1] == 1:
        return object_patches
    canvas = _group_canvas(object_patches, offsets, object_big=object_big, canvas_size=canvas_size)
    return extract_patches(canvas, offsets, N=object_patches.shape[-1])


def far_field_amplitude(exit_wave: torch.Tensor) -> torch.Tensor:
    """``|fftshift(fft2(psi, norm="ortho"))|`` over the last two axes."""
    f = torch.fft.fftshift(torch.fft.fft2(exit_wave, norm="ortho"), dim=(-2, -1))
    return f.abs()


def predicted_amplitude(
    object_patches: torch.Tensor,
    probe: torch.Tensor,
    offsets: torch.Tensor | None,
    *,
    object_big: bool = True,
    log_scale: torch.Tensor | float = 0.0,
    canvas_size: int | None = None,
) -> torch.Tensor:
    """Predicted diffraction amplitudes, differentiable (twin of :func:`ptychopinn.physics.forward_amplitude`).

    Parameters
    ----------
    object_patches : (B, C', N, N) complex64
    probe : (N, N) complex64, normalised probe
    offsets : (B, C, 2) float or None
    object_big : bool
    log_scale : scalar tensor or float (w)
    canvas_size : int or None
        Canvas side of the overlap constraint; None = the smallest for ``offsets``.

    Returns
    -------
    (B, C, N, N) float32 predicted amplitudes (network units)
    """
    patches = constrained_patches(object_patches, offsets, object_big=object_big, canvas_size=canvas_size)
    amp = far_field_amplitude(patches * probe)
    if isinstance(log_scale, torch.Tensor):
        return amp * torch.exp(log_scale)
    return amp * math.exp(log_scale)


def forward_amplitude(object_patches: np.ndarray, probe: np.ndarray, offsets: np.ndarray | None, *,
                      object_big: bool = True, log_scale: float = 0.0) -> np.ndarray:
    """:func:`predicted_amplitude` on numpy arrays, without gradients: the ``ptychopinn_physics_forward``
    hook, with the arguments, shapes and units of the oracle :func:`ptychopinn.physics.forward_amplitude`
    (``offsets`` None for gridsize 1); returns (B, C, N, N) float32 amplitudes in network units."""
    off = None if offsets is None else torch.from_numpy(np.asarray(offsets, dtype=np.float64))
    with torch.no_grad():
        out = predicted_amplitude(
            torch.from_numpy(np.asarray(object_patches, dtype=np.complex64)),
            torch.from_numpy(np.asarray(probe, dtype=np.complex64)),
            off,
            object_big=object_big,
            log_scale=float(log_scale),
        )
    return out.numpy().astype(np.float32)
