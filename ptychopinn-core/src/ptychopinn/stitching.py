"""Stitching object patches onto the object canvas (core's numpy reference ``reassemble``).

Model. Patch ``b`` predicted at position ``r_b`` is what the extraction operator ``E_b``
(:func:`ptychopinn.physics.patches.extract_object_patches`: patch pixel (N/2, N/2) on object
pixel (y, x), bilinear sub-pixel interpolation) would cut from the object. With a per-pixel
confidence ``w`` (probe intensity or a window, :func:`patch_weight`), the stitched object is
the weighted least-squares solution

    O = argmin_O  sum_b || sqrt(w) (E_b O - p_b) ||^2 + lam || sqrt(D) (O - O_avg) ||^2

where ``D = sum_b E_b^T w`` is the summed weight (returned as ``weight``) and
``O_avg = sum_b E_b^T (w p_b) / D`` the overlap-weighted average. For integer positions
``E_b^T w E_b`` is diagonal and ``O = O_avg`` exactly. For sub-pixel positions the normal
matrix ``A = sum_b E_b^T w E_b`` has a 3 x 3 stencil, accumulated per canvas pixel while
patches stream in (memory O(canvas + batch)) and solved at the end with preconditioned
conjugate gradients, which undoes the bilinear blur: patches cut from a known object are
stitched back to it exactly in the lit region. ``lam`` (tiny) only pins directions the data
cannot see (e.g. the checkerboard when every position is at a half pixel) to ``O_avg``.
Nothing is divided by ``weight + eps``: a pixel's value is a convex-like combination of the
patches that cover it, so unlit regions are never amplified; pixels without weight are 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from ptychopinn.config.inference import InferenceConfig
from ptychopinn.physics.overlap import center_window
from ptychopinn.physics.patches import patch_origin
from ptychopinn.results import CanvasSpec, StitchedObject

__all__ = ["StitchMethod", "Stitcher", "crop_to_canvas", "default_canvas", "patch_weight", "reassemble", "valid_mask"]

StitchMethod = Literal["lsq", "average"]

_REG = 1e-6
_SOLVE_FRACTION = 1e-6
_CG_TOL = 1e-8
_CG_MAXITER = 500
# Offsets (drow, dcol) of the stored stencil maps: the normal matrix is symmetric, so the
# coupling of pixel q to q - d equals that of q - d to q and is read from map d at q - d.
# Five maps instead of nine (accumulators 8 instead of 12 float64 per canvas pixel).
_STENCIL_OFFSETS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1))
_STENCIL_INDEX: dict[tuple[int, int], int] = {d: m for m, d in enumerate(_STENCIL_OFFSETS)}


def patch_weight(probe: npt.ArrayLike, config: InferenceConfig = InferenceConfig()) -> np.ndarray:
    """Per-pixel confidence of a patch for stitching.

    Parameters
    ----------
    probe : (N, N) complex
    config : InferenceConfig
        ``stitch_weight="probe"``: ``|P|^2 / max |P|^2``; ``"window"``: 1 on the central
        ``stitch_window_px`` (default N/2) square, else 0.

    Returns
    -------
    (N, N) float32 in [0, 1]
    """
    p = np.asarray(probe)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ValueError(f"patch_weight: probe must be (N, N), got shape {p.shape}")
    N = p.shape[0]
    if config.stitch_weight == "window":
        return center_window(N, config.stitch_window_px, dtype=np.float32)
    intensity = np.abs(p.astype(np.complex128)) ** 2
    peak = float(intensity.max())
    if not peak > 0:
        raise ValueError("patch_weight: the probe is zero everywhere")
    return (intensity / peak).astype(np.float32)


def default_canvas(positions: npt.ArrayLike, N: int) -> CanvasSpec:
    """The smallest integer-aligned canvas holding every patch (incl. the bilinear extra pixel).

    Parameters
    ----------
    positions : (B, 2) float, object pixels (x, y)
    N : int

    Returns
    -------
    CanvasSpec
        ``origin`` is integer, so canvas pixels coincide with object pixels.
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] == 0:
        raise ValueError(f"default_canvas: positions must be (B, 2) with B > 0, got {pos.shape}")
    corner, _ = patch_origin(pos, N)
    x0, y0 = int(corner[:, 0].min()), int(corner[:, 1].min())
    x1, y1 = int(corner[:, 0].max()) + N + 1, int(corner[:, 1].max()) + N + 1
    return CanvasSpec(shape=(y1 - y0, x1 - x0), origin=(float(x0), float(y0)))


def valid_mask(weight: np.ndarray, valid_threshold: float) -> np.ndarray:
    """Sufficiently lit pixels: summed weight >= ``valid_threshold`` x the median over lit pixels.

    Parameters
    ----------
    weight : (H, W) float, summed patch weights (0 where no patch reached)
    valid_threshold : float in [0, 1]

    Returns
    -------
    (H, W) bool; pixels with zero weight are never valid, and nothing is valid when no pixel is lit.
    """
    lit = weight > 0
    if not lit.any():
        return np.zeros(weight.shape, dtype=bool)
    return lit & (weight >= valid_threshold * float(np.median(weight[lit])))


def crop_to_canvas(
    image: npt.ArrayLike, canvas: CanvasSpec, *, dtype: npt.DTypeLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut an object-grid image (e.g. the ground truth) onto a reconstruction canvas.

    Parameters
    ----------
    image : (H0, W0) complex or real, on the object pixel grid
    canvas : CanvasSpec
        Its (rounded) ``origin`` is the object pixel of canvas pixel (0, 0).
    dtype : optional
        Of ``cut``; default: at least complex64 (the image's dtype if wider).

    Returns
    -------
    cut : ``canvas.shape``; 0 outside the image
    inside : ``canvas.shape`` bool, canvas pixels that lie on the image
    """
    img = np.asarray(image)
    H, W = canvas.shape
    cut = np.zeros((H, W), dtype=np.result_type(img.dtype, np.complex64) if dtype is None else dtype)
    inside = np.zeros((H, W), dtype=bool)
    x0, y0 = int(round(canvas.origin[0])), int(round(canvas.origin[1]))
    ys, xs = max(0, y0), max(0, x0)
    ye, xe = min(img.shape[0], y0 + H), min(img.shape[1], x0 + W)
    if ye > ys and xe > xs:
        cut[ys - y0 : ye - y0, xs - x0 : xe - x0] = img[ys:ye, xs:xe]
        inside[ys - y0 : ye - y0, xs - x0 : xe - x0] = True
    return cut, inside


class Stitcher:
    """Streaming stitcher: ``add`` batches of patches, then ``result``.

    Memory is O(canvas + batch): the canvas accumulates the weighted patch sum, the summed
    weight and five of the nine 3 x 3 stencil maps of the (symmetric) normal matrix, all
    float64 (8 float64 per canvas pixel), never the patches.

    Parameters
    ----------
    weight : (N, N) float >= 0
        Patch confidence (:func:`patch_weight`).
    canvas : CanvasSpec
        Canvas geometry; ``origin`` must be integer.
    valid_threshold : float
        A pixel is valid when its summed weight >= this fraction of the median summed
        weight over pixels with any weight.
    method : {"lsq", "average"}
        ``"lsq"`` (default): exact least-squares inversion of the sub-pixel placement;
        ``"average"``: overlap-weighted average ``sum E^T(w p) / sum E^T(w)`` only.
    """

    def __init__(
        self,
        weight: npt.ArrayLike,
        canvas: CanvasSpec,
        *,
        valid_threshold: float = 0.1,
        method: StitchMethod = "lsq",
    ) -> None:
        w = np.asarray(weight, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != w.shape[1] or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError(f"Stitcher: weight must be a finite, non-negative (N, N) array, got {w.shape}")
        if method not in ("lsq", "average"):
            raise ValueError(f"Stitcher: method must be 'lsq' or 'average', got {method!r}")
        x0, y0 = canvas.origin
        if x0 != int(x0) or y0 != int(y0):
            raise ValueError(f"Stitcher: canvas origin must be integer, got {canvas.origin}")
        self.N = w.shape[0]
        self.weight = w
        self.canvas = canvas
        self.valid_threshold = float(valid_threshold)
        self.method = method
        H, W = canvas.shape
        self._origin = (int(x0), int(y0))
        # Padded by 1 on each side so that stencil couplings never index outside.
        self._rhs = np.zeros((H + 2, W + 2), dtype=np.complex128)
        self._stencil = np.zeros((len(_STENCIL_OFFSETS), H + 2, W + 2), dtype=np.float64) if method == "lsq" else None
        self._wsum = np.zeros((H + 2, W + 2), dtype=np.float64)
        self._count = 0

    def add(self, patches: npt.ArrayLike, positions: npt.ArrayLike) -> None:
        """Accumulate a batch.

        Parameters
        ----------
        patches : (B, N, N) complex
            Object patches, pixel (N/2, N/2) of patch b at ``positions[b]``.
        positions : (B, 2) float, object pixels (x, y)
        """
        p = np.asarray(patches)
        pos = np.asarray(positions, dtype=np.float64)
        N = self.N
        if p.ndim != 3 or p.shape[1:] != (N, N):
            raise ValueError(f"Stitcher.add: patches must be (B, {N}, {N}), got {p.shape}")
        if pos.shape != (p.shape[0], 2):
            raise ValueError(f"Stitcher.add: positions must be ({p.shape[0]}, 2) as (x, y), got {pos.shape}")
        if not np.all(np.isfinite(pos)):
            raise ValueError("Stitcher.add: positions contain NaN or Inf")
        corner, frac = patch_origin(pos, N)
        H, W = self.canvas.shape
        # Canvas index (padded by 1) of the patch's top-left object pixel.
        cols = corner[:, 0] - self._origin[0] + 1
        rows = corner[:, 1] - self._origin[1] + 1
        last_col = cols + N - 1 + (frac[:, 0] > 0)
        last_row = rows + N - 1 + (frac[:, 1] > 0)
        if cols.min() < 1 or rows.min() < 1 or last_col.max() > W or last_row.max() > H:
            raise ValueError(
                f"Stitcher.add: a patch falls outside the {H} x {W} canvas at origin {self.canvas.origin}; "
                "use default_canvas(positions, N) or a larger canvas"
            )
        w = self.weight
        for b in range(p.shape[0]):
            fx, fy = float(frac[b, 0]), float(frac[b, 1])
            wy, wx = (1.0 - fy, fy), (1.0 - fx, fx)
            r, c = int(rows[b]), int(cols[b])
            wp = w * p[b].astype(np.complex128)
            for a in (0, 1):
                if wy[a] == 0.0:
                    continue
                for e in (0, 1):
                    if wx[e] == 0.0:
                        continue
                    k = wy[a] * wx[e]
                    self._rhs[r + a : r + a + N, c + e : c + e + N] += k * wp
                    self._wsum[r + a : r + a + N, c + e : c + e + N] += k * w
                    if self._stencil is None:
                        continue
                    for a2 in (0, 1):
                        for e2 in (0, 1):
                            # A is symmetric: the coupling -d is stored once, as +d at the other pixel
                            # (the mirrored pair (a2, e2) -> (a, e) adds exactly that).
                            m = _STENCIL_INDEX.get((a2 - a, e2 - e))
                            k2 = k * wy[a2] * wx[e2]
                            if m is not None and k2 != 0.0:
                                self._stencil[m, r + a : r + a + N, c + e : c + e + N] += k2 * w
        self._count += p.shape[0]

    def _apply(self, x: np.ndarray) -> np.ndarray:
        """``A x`` with the accumulated 3 x 3 stencil (x padded, zero border)."""
        assert self._stencil is not None
        out = np.zeros_like(x)
        Hp, Wp = x.shape
        inner = (slice(1, Hp - 1), slice(1, Wp - 1))
        for m, (da, de) in enumerate(_STENCIL_OFFSETS):
            s = self._stencil[m]
            shifted = (slice(1 + da, Hp - 1 + da), slice(1 + de, Wp - 1 + de))
            if m == 0:
                out[inner] += s[inner] * x[inner]
                continue
            back = (slice(1 - da, Hp - 1 - da), slice(1 - de, Wp - 1 - de))
            out[inner] += s[inner] * x[shifted]  # A[q, q + d] x[q + d]
            sx = s * x
            out[inner] += sx[back]  # A[q, q - d] x[q - d] = A[q - d, q] x[q - d]
        return out

    def _solve(self, average: np.ndarray, lit: np.ndarray) -> np.ndarray:
        """Preconditioned CG on (A + lam D) x = rhs + lam D x_avg over the pixels ``lit``.

        The other pixels keep ``average`` (their couplings move to the right-hand side).
        """
        assert self._stencil is not None
        lam = _REG
        diag = self._stencil[0] + lam * self._wsum
        lit = lit & (diag > 0)
        inv = np.zeros_like(diag)
        inv[lit] = 1.0 / diag[lit]
        b = self._rhs + lam * self._wsum * average
        x = average.copy()
        r = b - (self._apply(x) + lam * self._wsum * x)
        r[~lit] = 0
        z = inv * r
        d = z.copy()
        rz = np.vdot(r, z).real
        bnorm = np.sqrt(np.vdot(inv * b, b).real) or 1.0
        for _ in range(_CG_MAXITER):
            if np.sqrt(max(rz, 0.0)) <= _CG_TOL * bnorm:
                break
            Ad = self._apply(d) + lam * self._wsum * d
            Ad[~lit] = 0
            alpha = rz / np.vdot(d, Ad).real
            x += alpha * d
            r -= alpha * Ad
            z = inv * r
            rz_new = np.vdot(r, z).real
            d = z + (rz_new / rz) * d
            rz = rz_new
        return x

    def result(self, *, backend: str | None = None) -> StitchedObject:
        """The stitched object so far (the accumulators are kept; more batches may follow).

        Valid pixels hold the least-squares solution (``method="lsq"``); every other lit
        pixel holds the overlap-weighted average, a convex combination of the patches that
        touch it, so weakly lit borders are never amplified.
        """
        wsum = self._wsum
        lit = wsum > 0
        average = np.zeros_like(self._rhs)
        average[lit] = self._rhs[lit] / wsum[lit]
        inner = (slice(1, -1), slice(1, -1))
        weight = wsum[inner]
        valid = valid_mask(weight, self.valid_threshold)
        obj = average
        if self._stencil is not None and self._count and np.any(weight > 0):
            # Unknowns: every pixel with a usable weight; pixels below keep the average.
            solve = wsum >= _SOLVE_FRACTION * float(np.median(wsum[lit]))
            exact = self._solve(average, solve)
            obj = average.copy()
            obj[inner][valid] = exact[inner][valid]
        return StitchedObject(
            object=obj[inner].astype(np.complex64),
            weight=weight.astype(np.float32),
            valid=valid,
            canvas=self.canvas,
            backend=backend,
        )


def reassemble(
    patches: npt.ArrayLike,
    positions: npt.ArrayLike,
    probe: npt.ArrayLike,
    *,
    config: InferenceConfig = InferenceConfig(),
    canvas: CanvasSpec | None = None,
    method: StitchMethod = "lsq",
    batch_size: int = 512,
) -> StitchedObject:
    """Stitch complex object patches onto one canvas.

    Parameters
    ----------
    patches : (B, N, N) complex
        Object patches; pixel (N/2, N/2) of patch b belongs at ``positions[b]``.
    positions : (B, 2) float, object pixels (x, y)
    probe : (N, N) complex
        Gives the stitching weight (``config.stitch_weight``; :func:`patch_weight`).
    config : InferenceConfig
        ``stitch_weight``, ``stitch_window_px``, ``valid_threshold``.
    canvas : CanvasSpec, optional
        Default :func:`default_canvas`. Pass ``CanvasSpec(shape=obj.shape)`` to stitch on
        the full object grid.
    method : {"lsq", "average"}
        See :class:`Stitcher`.
    batch_size : int
        Patches accumulated at a time (a memory-mapped ``patches`` is read in batches).

    Returns
    -------
    StitchedObject
    """
    pos = np.asarray(positions, dtype=np.float64)
    shape = getattr(patches, "shape", None)
    if shape is None or len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"reassemble: patches must be (B, N, N), got shape {shape}")
    if pos.shape != (shape[0], 2):
        raise ValueError(f"reassemble: positions must be ({shape[0]}, 2) as (x, y), got {pos.shape}")
    N = shape[1]
    weight = patch_weight(probe, config)
    if weight.shape != (N, N):
        raise ValueError(f"reassemble: probe must be ({N}, {N}) like the patches, got {weight.shape}")
    spec = canvas if canvas is not None else default_canvas(pos, N)
    st = Stitcher(weight, spec, valid_threshold=config.valid_threshold, method=method)
    for start in range(0, shape[0], batch_size):
        st.add(np.asarray(patches[start : start + batch_size]), pos[start : start + batch_size])  # type: ignore[index]
    return st.result()
