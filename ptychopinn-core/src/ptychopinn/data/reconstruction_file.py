"""``reconstruction.npz``: the one writer and reader of a reconstruction file (``docs/data-contract.md``).

:func:`write_reconstruction` (``ptychopinn reconstruct``, ``ptychopinn demo``) and
:func:`read_reconstruction` (``ptychopinn evaluate``, scripts) are the only code that knows the keys.

Keys (all written atomically in one NPZ):

==========================  =====================  ==============================================
key                         shape, dtype           meaning
==========================  =====================  ==============================================
``object``                  (H, W) complex64       final object (refined when refinement ran)
``weight``                  (H, W) float32         summed illumination / stitching weight
``valid``                   (H, W) bool            sufficiently lit pixels
``canvas_origin``           (2,) float64           object position (x0, y0) of canvas pixel (0, 0)
``backend``                 (1,) str               backend that ran the network
``model_backend``           (1,) str               backend that trained the model
``network_object``          (H, W) complex64       network-only object (only when refined)
``probe``                   (N, N) complex64       refined probe (only when the probe was refined)
``positions``               (M, 2) float64         refined positions (x, y) (only when refined)
``pattern_deviance``        (M,) float64           per-pattern Poisson half-deviance of ``object``
``pattern_amplitude_error``  (M,) float64          per-pattern relative amplitude error of ``object``
==========================  =====================  ==============================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ptychopinn.errors import ScanDataError

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.api import Reconstruction
    from ptychopinn.results import StitchedObject

__all__ = ["ReconstructionFile", "read_reconstruction", "reconstruction_arrays", "write_reconstruction"]

KEYS: tuple[str, ...] = (
    "object", "weight", "valid", "canvas_origin", "backend", "model_backend", "network_object", "probe", "positions",
    "pattern_deviance", "pattern_amplitude_error",
)
"""Every key a reconstruction file may hold (the table above)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class ReconstructionFile:
    """The contents of a ``reconstruction.npz``, checked (see the module docstring for the keys)."""

    path: Path
    """The file read."""

    object: np.ndarray
    """(H, W) complex64 final object."""

    weight: np.ndarray | None
    """(H, W) float32 summed stitching weight, when present."""

    valid: np.ndarray | None
    """(H, W) bool lit pixels, when present."""

    canvas_origin: tuple[float, float]
    """(x0, y0) object position of canvas pixel (0, 0); (0, 0) when absent."""

    backend: str | None = None
    """Backend that ran the network, when recorded."""

    model_backend: str | None = None
    """Backend that trained the model, when recorded."""

    network_object: np.ndarray | None = None
    """(H, W) complex64 network-only object (refined runs)."""

    probe: np.ndarray | None = None
    """(N, N) complex64 refined probe, when refined."""

    positions: np.ndarray | None = None
    """(M, 2) float64 refined positions (x, y), when refined."""

    pattern_deviance: np.ndarray | None = None
    """(M,) float64 per-pattern Poisson half-deviance of ``object``."""

    pattern_amplitude_error: np.ndarray | None = None
    """(M,) float64 per-pattern relative amplitude error of ``object``."""

    def stitched(self) -> StitchedObject:
        """The object as a :class:`~ptychopinn.results.StitchedObject` (weight/valid derived when absent)."""
        from ptychopinn.results import CanvasSpec, StitchedObject

        valid = self.valid if self.valid is not None else np.abs(self.object) > 0
        weight = self.weight if self.weight is not None else valid.astype(np.float32)
        return StitchedObject(object=self.object, weight=weight, valid=valid,
                              canvas=CanvasSpec(shape=self.object.shape, origin=self.canvas_origin))


def _fail(path: Path, key: str, expected: str, found: np.ndarray) -> ScanDataError:
    return ScanDataError(f"{path}: key '{key}': expected {expected}, found shape {found.shape}, dtype {found.dtype}")


def _finite(path: Path, key: str, a: np.ndarray, kinds: str, expected: str) -> np.ndarray:
    if a.dtype.kind not in kinds:
        raise _fail(path, key, expected, a)
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        raise ScanDataError(f"{path}: key '{key}': expected {expected} with finite values, found NaN or Inf")
    return a


def _label(arrays: dict[str, np.ndarray], key: str) -> str | None:
    a = arrays.get(key)
    if a is None or a.dtype.kind not in "US" or a.size != 1:
        return None
    return str(a.reshape(-1)[0])


def read_reconstruction(path: str | os.PathLike[str]) -> ReconstructionFile:
    """Read and check a ``reconstruction.npz`` (no unpickling); the one reader of the format.

    Only ``object`` is required (an object file written by another program is accepted); every
    other key is checked when present: shapes against ``object``, finite numbers.

    Raises
    ------
    ScanDataError
        Not an NPZ, ``object`` missing or not (H, W) numeric, a key with the wrong shape or
        non-finite values (the message names the file and the key).
    """
    from ptychopinn.data.npz import read_npz_arrays

    p = Path(path)
    arrays = read_npz_arrays(p, KEYS)
    if "object" not in arrays:
        found = ", ".join(sorted(read_npz_arrays(p).keys())) or "no arrays"
        raise ScanDataError(f"{p}: missing key 'object' (the reconstruction: an (H, W) complex array); found {found}")
    obj = _finite(p, "object", arrays["object"], "uifc", "an (H, W) complex object")
    if obj.ndim != 2 or min(obj.shape) < 8:
        raise _fail(p, "object", "an (H, W) complex object", obj)
    shape = obj.shape

    def image(key: str, kinds: str, dtype: type) -> np.ndarray | None:
        a = arrays.get(key)
        if a is None:
            return None
        _finite(p, key, a, kinds, f"{shape} like 'object'")
        if a.shape != shape:
            raise _fail(p, key, f"shape {shape} like 'object'", a)
        return np.asarray(a, dtype=dtype)

    origin = (0.0, 0.0)
    if "canvas_origin" in arrays:
        o = _finite(p, "canvas_origin", arrays["canvas_origin"], "uif", "(2,) = (x0, y0) object pixels")
        if o.size != 2:
            raise _fail(p, "canvas_origin", "(2,) = (x0, y0) object pixels", o)
        origin = (float(o.reshape(-1)[0]), float(o.reshape(-1)[1]))
    probe = arrays.get("probe")
    if probe is not None:
        _finite(p, "probe", probe, "uifc", "an (N, N) complex probe")
        if probe.ndim != 2 or probe.shape[0] != probe.shape[1]:
            raise _fail(p, "probe", "an (N, N) complex probe", probe)
    positions = arrays.get("positions")
    if positions is not None:
        _finite(p, "positions", positions, "uif", "(M, 2) positions (x, y)")
        if positions.ndim != 2 or positions.shape[1] != 2:
            raise _fail(p, "positions", "(M, 2) positions (x, y)", positions)
    per_pattern = {}
    for key in ("pattern_deviance", "pattern_amplitude_error"):
        a = arrays.get(key)
        if a is not None:
            _finite(p, key, a, "uif", "(M,) per-pattern values")
            if a.ndim != 1:
                raise _fail(p, key, "(M,) per-pattern values", a)
            per_pattern[key] = np.asarray(a, dtype=np.float64)
    return ReconstructionFile(
        path=p,
        object=np.asarray(obj, dtype=np.complex64),
        weight=image("weight", "uif", np.float32),
        valid=image("valid", "b", bool),
        canvas_origin=origin,
        backend=_label(arrays, "backend"),
        model_backend=_label(arrays, "model_backend"),
        network_object=image("network_object", "uifc", np.complex64),
        probe=None if probe is None else np.asarray(probe, dtype=np.complex64),
        positions=None if positions is None else np.asarray(positions, dtype=np.float64),
        **per_pattern,
    )


def reconstruction_arrays(result: Reconstruction) -> dict[str, np.ndarray]:
    """The arrays of ``reconstruction.npz`` for ``result`` (see the module docstring)."""
    obj = result.object
    arrays: dict[str, np.ndarray] = {
        "object": obj.object,
        "weight": obj.weight,
        "valid": obj.valid,
        "canvas_origin": np.asarray(obj.canvas.origin, dtype=np.float64),
        "backend": np.asarray([result.backend]),
        "model_backend": np.asarray([result.model_backend]),
    }
    if result.network_object is not None:
        arrays["network_object"] = result.network_object.object
    if result.refined_probe is not None:
        arrays["probe"] = np.asarray(result.refined_probe, dtype=np.complex64)
    if result.refined_positions is not None:
        arrays["positions"] = np.asarray(result.refined_positions, dtype=np.float64)
    final = result.consistency.get("refined") or result.consistency.get("network")
    if final is not None:
        arrays["pattern_deviance"] = final.poisson_deviance
        arrays["pattern_amplitude_error"] = final.amplitude_error
    return arrays


def write_reconstruction(path: str | os.PathLike[str], result: Reconstruction) -> Path:
    """Write ``result`` as a reconstruction NPZ (atomically); returns the path."""
    from ptychopinn.data.npz import write_npz

    return write_npz(path, reconstruction_arrays(result))
