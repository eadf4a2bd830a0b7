"""Ptychodus data <-> core data (numpy only; runs in the parent, imports no framework).

Units and conventions (``docs/ptychodus.md``):

- Ptychodus diffraction patterns are detector **counts** (n, N, N), zero frequency at the
  centre; core stores amplitudes sqrt(counts) with zero frequency at pixel (N/2, N/2) — the
  same pixel for even N, so only the square root is taken.
- Positions are metres in Ptychodus's world frame. They are mapped to the input object's
  pixels with ``ObjectGeometry.map_probe_positions_to_object_{x,y}_px`` (Ptychodus's
  (N-1)/2 centred-pixel convention) and then to core's convention with
  :func:`ptychopinn.data.ptychodus_import.positions_from_ptychodus_pixels` (+0.5 px),
  exactly once.
- The probe is Ptychodus's (OPR-mean) incoherent mode stack; its dominant mode is used.
- Bad pixels are inpainted (core's backend contract has no detector mask).
"""

from __future__ import annotations

import logging
import math

import numpy as np
from ptychodus.api.object import Object
from ptychodus.api.product import Product
from ptychodus.api.reconstruct import ReconstructInput

from ptychopinn.data import ScanData
from ptychopinn.data.ptychodus_import import (
    counts_to_amplitudes,
    inpaint_bad_pixels,
    positions_from_ptychodus_pixels,
    select_probe_mode,
)
from ptychopinn.errors import ScanDataError
from ptychopinn.stitching import valid_mask

__all__ = ["product_with_object", "scan_from_reconstruct_input"]

logger = logging.getLogger(__name__)

_PIXEL_RTOL = 1e-6


def scan_from_reconstruct_input(parameters: ReconstructInput, *, with_object: bool = True) -> ScanData:
    """Convert a Ptychodus :class:`ReconstructInput` into a core :class:`ScanData`.

    Parameters
    ----------
    parameters : ReconstructInput
        ``diffraction_patterns`` (n, N, N) counts; ``bad_pixels`` (N, N) bool or None;
        ``product`` with positions (metres), probes and the object whose pixel grid
        defines core's object pixels.
    with_object : bool
        Keep the product's object (layer 0) as ``ScanData.object`` (needed for
        supervised training, where it must be the ground truth).

    Returns
    -------
    ScanData
        diffraction (n, N, N) float32 sqrt(counts); positions (n, 2) in the input object's
        pixels (core convention); probe (N, N) complex64; scan_index = Ptychodus indexes.

    Raises
    ------
    ScanDataError
        Non-square or mismatched patterns, probe sampled on a different pixel grid than
        the object, positions/pattern count mismatch.
    """
    patterns = np.asarray(parameters.diffraction_patterns)
    if patterns.ndim != 3:
        raise ScanDataError(f"Ptychodus diffraction patterns must be (n, H, W), got shape {patterns.shape}")
    n, H, W = patterns.shape
    if H != W:
        raise ScanDataError(
            f"PtychoPINN needs square diffraction patterns, got {H} x {W} pixels. Crop the detector to a square "
            "N x N region (N = 64, 128 or 256) in Ptychodus's diffraction settings."
        )
    product = parameters.product
    positions = product.probe_positions
    if len(positions) != n:
        raise ScanDataError(f"{n} diffraction patterns but {len(positions)} probe positions; they must pair one to one")

    obj = product.object_
    geometry = obj.get_geometry()
    probe_pixels = product.probes.get_pixel_geometry()
    if not (
        math.isclose(probe_pixels.width_m, geometry.pixel_width_m, rel_tol=_PIXEL_RTOL)
        and math.isclose(probe_pixels.height_m, geometry.pixel_height_m, rel_tol=_PIXEL_RTOL)
    ):
        raise ScanDataError(
            f"The probe is sampled at {probe_pixels.width_m:.4g} x {probe_pixels.height_m:.4g} m per pixel but the "
            f"object at {geometry.pixel_width_m:.4g} x {geometry.pixel_height_m:.4g} m; PtychoPINN needs both on "
            "one pixel grid. Rebuild the object in Ptychodus with the probe's pixel size."
        )
    probe_stack = product.probes.get_probe_no_opr().get_array()  # (incoherent modes, N, N)
    if probe_stack.shape[-2:] != (H, W):
        raise ScanDataError(f"The probe is {probe_stack.shape[-2:]} pixels but the diffraction patterns are {H} x {W}")
    selection = select_probe_mode(probe_stack, where="Ptychodus probe")
    if selection.note:
        logger.warning("PtychoPINN-Next: %s", selection.note)
    if product.probes.get_opr_weights_or_none() is not None:
        logger.warning("PtychoPINN-Next: OPR (position-dependent) probe weights are ignored; the mean probe is used")

    bad = parameters.bad_pixels
    amplitudes = counts_to_amplitudes(patterns, where="Ptychodus diffraction patterns")
    if bad is not None and np.asarray(bad).any():
        logger.info(
            "PtychoPINN-Next: %d bad detector pixels are inpainted from their neighbours (the PtychoPINN loss "
            "has no detector mask)",
            int(np.count_nonzero(bad)),
        )
        amplitudes = inpaint_bad_pixels(amplitudes, bad)

    x_px = geometry.map_probe_positions_to_object_x_px(positions)
    y_px = geometry.map_probe_positions_to_object_y_px(positions)
    core_positions = positions_from_ptychodus_pixels(x_px, y_px)

    ground = None
    if with_object:
        if obj.num_layers > 1:
            logger.warning("PtychoPINN-Next: the object has %d layers; only layer 0 is used", obj.num_layers)
        ground = np.asarray(obj.get_layer(0), dtype=np.complex64)
    return ScanData(
        diffraction=amplitudes,
        positions=core_positions,
        probe=selection.probe,
        object=ground,
        scan_index=np.asarray(positions.get_indexes(), dtype=np.int64).reshape(-1),
        source=f"Ptychodus product '{product.metadata.name}'",
    )


def product_with_object(
    parameters: ReconstructInput,
    obj: np.ndarray,
    weight: np.ndarray,
    origin: tuple[float, float],
    *,
    valid_threshold: float = 0.0,
) -> Product:
    """A copy of the input product whose object is the reconstruction, on the input object's grid.

    Parameters
    ----------
    parameters : ReconstructInput
        The input; its object fixes the output's shape, pixel size and centre.
    obj : (h, w) complex
        Stitched object on core's canvas.
    weight : (h, w) float
        Summed stitching weight (0 = no patch reached the pixel).
    origin : (x0, y0)
        Object pixel (in the input object's grid) of canvas pixel (row 0, col 0).
    valid_threshold : float
        ``[PtychoPINNNextInference] ValidThreshold``: only pixels that core's
        :func:`ptychopinn.stitching.valid_mask` calls valid (summed weight >= threshold x the
        median lit weight) are taken from the reconstruction; 0 takes every lit pixel.

    Returns
    -------
    Product
        Same metadata, positions and probes; the object is the input object's layer 0 where
        no patch reached well enough (as an iterative solver leaves unlit pixels) and the
        reconstruction elsewhere. The object has one layer.
    """
    obj_in = parameters.product.object_
    base = np.array(obj_in.get_layer(0), dtype=np.complex64, copy=True)
    H, W = base.shape
    obj, weight, ox, oy = _snap_to_pixel_grid(np.asarray(obj), np.asarray(weight, dtype=np.float32), origin)
    valid = valid_mask(weight, valid_threshold)
    h, w = obj.shape
    r0, r1 = max(0, oy), min(H, oy + h)  # rows/cols of the object array the canvas covers
    c0, c1 = max(0, ox), min(W, ox + w)
    inside = 0.0
    if r0 < r1 and c0 < c1:
        sub_obj = obj[r0 - oy : r1 - oy, c0 - ox : c1 - ox]
        sub_w = weight[r0 - oy : r1 - oy, c0 - ox : c1 - ox]
        use = valid[r0 - oy : r1 - oy, c0 - ox : c1 - ox]
        region = base[r0:r1, c0:c1]
        region[use] = sub_obj[use]
        inside = float(sub_w.sum())
    total = float(weight.sum())
    if total - inside > 1e-3 * max(total, 1e-30):
        logger.warning(
            "PtychoPINN-Next: %.1f%% of the reconstruction falls outside the input object's %d x %d pixel array "
            "and is cropped; enlarge the object in Ptychodus to keep it",
            100 * (total - inside) / total,
            W,
            H,
        )
    object_out = Object(
        array=base,
        pixel_geometry=obj_in.get_pixel_geometry().copy(),
        center=obj_in.get_center().copy(),
        layer_spacing_m=[],
    )
    product = parameters.product
    return Product(
        metadata=product.metadata,
        probe_positions=product.probe_positions,
        probes=product.probes,
        object_=object_out,
        losses=list(product.losses),
    )


def _snap_to_pixel_grid(
    obj: np.ndarray, weight: np.ndarray, origin: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Move a canvas whose origin is fractional onto the integer object grid (bilinear, core's translate).

    Returns the (possibly one pixel larger) object and weight and the integer origin (x0, y0).
    """
    x0, y0 = float(origin[0]), float(origin[1])
    ix, iy = math.floor(x0), math.floor(y0)
    fx, fy = x0 - ix, y0 - iy
    if fx == 0.0 and fy == 0.0:
        return obj, weight, ix, iy
    from ptychopinn.physics import translate

    padded_obj = np.pad(obj, ((0, 1), (0, 1)))[np.newaxis]
    padded_w = np.pad(weight, ((0, 1), (0, 1)))[np.newaxis].astype(np.float32)
    shift = np.array([[fx, fy]], dtype=np.float64)
    # canvas pixel c sits at object x0 + c; after moving content by +fx it sits on integer ix + c'
    moved_obj = translate(padded_obj, shift)[0]
    moved_w = translate(padded_w, shift)[0]
    return np.asarray(moved_obj), np.asarray(moved_w), ix, iy
