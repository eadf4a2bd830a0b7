"""Export a model's network as a standalone ``.onnx`` file (``ptychopinn export``).

What is written is the **physics-free inference network**: diffraction in network units ->
object amplitude, phase and the real/imaginary parts of the patch. Everything around it stays
in core and is not in the file: scaling stored amplitudes by ``network_scale`` (recorded in the
metadata), grouping neighbouring patterns into ``gridsize**2`` channels, merging a group's
patches and stitching them onto the object canvas, refinement. The metadata
(``metadata_props``) carries what a deployment needs to reproduce core's inputs.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import onnx

import ptychopinn
from ptychopinn.architecture import LOG_SCALE
from ptychopinn.errors import OutputError
from ptychopinn.plugins import atomic_write
from ptychopinn.results import TrainedModel
from ptychopinn_onnx._version import __version__
from ptychopinn_onnx.graph import AMPLITUDE, INPUT, OBJECT_IMAG, OBJECT_REAL, PHASE, build_model
from ptychopinn_onnx.options import OnnxOptions

__all__ = ["METADATA_PREFIX", "export", "export_metadata"]

METADATA_PREFIX = "ptychopinn."
"""Prefix of every metadata key written."""


def export_metadata(model: TrainedModel) -> dict[str, str]:
    """The ``metadata_props`` of an exported model (string -> string; JSON where structured).

    Keys (all prefixed ``ptychopinn.``): ``model_config`` (JSON), ``normalisation`` (JSON with
    ``network_scale`` and ``input_scale``), ``network_scale`` (float), ``log_scale`` (the
    physics amplitude scale, not applied by the network), ``input`` / ``outputs`` (what the
    tensors mean), ``trained_by`` (backend and version), ``core_version``,
    ``onnx_backend_version``, ``onnx_version``.
    """
    cfg, norm = model.model_config, model.normalisation
    normalisation = {**norm.to_dict(), "input_scale": norm.input_scale, "network_scale": norm.network_scale}
    log_scale = float(np.asarray(model.weights.get(LOG_SCALE, 0.0)))
    c_out = cfg.channels if cfg.object_big else 1
    values = {
        "model_config": json.dumps(dataclasses.asdict(cfg), sort_keys=True),
        "normalisation": json.dumps(normalisation, sort_keys=True),
        "network_scale": repr(float(norm.network_scale)),
        "log_scale": repr(log_scale),
        "input": (
            f"{INPUT}: (batch, {cfg.channels}, {cfg.N}, {cfg.N}) float32 = stored diffraction amplitude "
            f"(sqrt counts) x network_scale; channel c = member c of a group of gridsize**2 = {cfg.channels} "
            "neighbouring patterns (core's grouping)"
        ),
        "outputs": (
            f"{AMPLITUDE}, {PHASE} (radians), {OBJECT_REAL}, {OBJECT_IMAG}: (batch, {c_out}, {cfg.N}, {cfg.N}) "
            "float32 object patch = amplitude * exp(i * phase), before the physics; stitching stays in core"
        ),
        "trained_by": f"{model.backend} {model.backend_version}",
        "core_version": ptychopinn.__version__,
        "onnx_backend_version": __version__,
        "onnx_version": onnx.__version__,
    }
    return {METADATA_PREFIX + key: value for key, value in values.items()}


def export(model: TrainedModel, path: str | os.PathLike[str], options: OnnxOptions) -> Path:
    """Write ``model``'s network to ``path`` as an ONNX model, atomically.

    Parameters
    ----------
    model : TrainedModel
        Any model (trained by any backend); its weights must match its ``model_config``.
    path : path-like
        Destination file (its directory must exist). Either the complete model is there
        afterwards or the previous file is untouched.
    options : OnnxOptions
        ``opset`` is used.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        When the directory does not exist or ``path`` is a directory.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot export the ONNX model to {target}: it is a directory; give a file name")
    if not target.parent.is_dir():
        raise OutputError(f"cannot export the ONNX model to {target}: directory {target.parent} does not exist")
    proto = build_model(model.model_config, model.weights, opset=options.opset, complex_outputs=True)
    proto.doc_string = (
        "PtychoPINN physics-free inference network (ptychopinn-onnx); see metadata ptychopinn.input/outputs"
    )
    for key, value in export_metadata(model).items():
        proto.metadata_props.add(key=key, value=value)
    data = proto.SerializeToString()
    with atomic_write(target, "wb") as handle:  # core's writer: temp file, fsync, rename, umask-honouring mode
        handle.write(data)
    return target
