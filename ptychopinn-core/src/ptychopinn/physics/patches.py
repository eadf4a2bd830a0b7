"""Cutting object patches at scan positions: core's patch convention, in one place.

A scan position ``(x, y)`` (object pixels, x = column, y = row) means that pixel
``(N/2, N/2)`` of the N x N patch sits on object pixel ``(row y, col x)``::

    patch[i, j] = O(y - N/2 + i, x - N/2 + j)

where ``O(r, c)`` is the object sampled with bilinear interpolation at non-integer
``(r, c)`` and zero outside the object. The sub-pixel part is done by
:func:`ptychopinn.physics.translate` (the single translation primitive), so the patches
agree with the overlap merge/extract of the forward model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ptychopinn.physics.translation import translate

__all__ = ["extract_object_patches", "patch_origin"]

_CHUNK = 256


def patch_origin(positions: npt.ArrayLike, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer and fractional parts of each patch's top-left corner on the object grid.

    Parameters
    ----------
    positions : (M, 2) float, object pixels (x, y)
    N : int
        Patch side (even).

    Returns
    -------
    corner : (M, 2) int64
        ``floor(position - N/2)`` as (column, row) = (x0, y0).
    frac : (M, 2) float64 in [0, 1)
        ``position - N/2 - corner`` as (fx, fy).
    """
    pos = np.asarray(positions, dtype=np.float64)
    start = pos - N / 2
    corner = np.floor(start)
    return corner.astype(np.int64), start - corner


def extract_object_patches(obj: npt.ArrayLike, positions: npt.ArrayLike, N: int) -> np.ndarray:
    """Cut the N x N patch of ``obj`` at every scan position.

    Parameters
    ----------
    obj : (H, W) complex (or real)
        Object transmission on the object pixel grid.
    positions : (M, 2) float, object pixels (x, y)
        Scan positions; pixel (N/2, N/2) of patch m sits on object pixel
        ``(positions[m, 1], positions[m, 0])``. Sub-pixel positions are interpolated
        bilinearly; parts of a patch outside the object are zero.
    N : int
        Patch side in pixels (even).

    Returns
    -------
    (M, N, N) complex64
    """
    o = np.asarray(obj)
    pos = np.asarray(positions, dtype=np.float64)
    if o.ndim != 2:
        raise ValueError(f"extract_object_patches: obj must be (H, W), got shape {o.shape}")
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise ValueError(f"extract_object_patches: positions must be (M, 2) as (x, y), got shape {pos.shape}")
    if N <= 0 or N % 2:
        raise ValueError(f"extract_object_patches: N must be a positive even integer, got {N}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("extract_object_patches: positions contain NaN or Inf")
    H, W = o.shape
    corner, frac = patch_origin(pos, N)
    # Pad so that every (N + 1) x (N + 1) window is inside the padded object.
    pad_lo_x = max(0, -int(corner[:, 0].min(initial=0)))
    pad_lo_y = max(0, -int(corner[:, 1].min(initial=0)))
    pad_hi_x = max(0, int(corner[:, 0].max(initial=0)) + N + 1 - W)
    pad_hi_y = max(0, int(corner[:, 1].max(initial=0)) + N + 1 - H)
    padded = np.pad(o.astype(np.complex64), ((pad_lo_y, pad_hi_y), (pad_lo_x, pad_hi_x)))
    out = np.empty((pos.shape[0], N, N), dtype=np.complex64)
    for start in range(0, pos.shape[0], _CHUNK):
        stop = min(start + _CHUNK, pos.shape[0])
        windows = np.empty((stop - start, N + 1, N + 1), dtype=np.complex64)
        for k, m in enumerate(range(start, stop)):
            r0 = int(corner[m, 1]) + pad_lo_y
            c0 = int(corner[m, 0]) + pad_lo_x
            windows[k] = padded[r0 : r0 + N + 1, c0 : c0 + N + 1]
        # translate by -frac: moved[i, j] = window(i + fy, j + fx)
        moved = translate(windows, -frac[start:stop])
        out[start:stop] = moved[:, :N, :N]
    return out
