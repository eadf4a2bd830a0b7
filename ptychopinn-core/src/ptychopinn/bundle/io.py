"""Write and read model bundles (one zip file: ``manifest.json`` + ``weights.safetensors``).

Writing is atomic (temporary file in the target directory, fsync, ``os.replace``). Reading
checks, in order: zip integrity, the member list, the manifest (format, version, digest),
the SHA-256 of every other member, then parses the weights with ``safetensors`` (a plain
tensor format: no pickle, no code). See ``docs/bundle-format.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ptychopinn._atomic import atomic_write
from ptychopinn.bundle.manifest import (
    DIGEST_FIELD,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_MEMBER,
    MAX_MANIFEST_BYTES,
    MEMBERS,
    WEIGHTS_MEMBER,
    check_header,
    config_from_dict,
    config_to_dict,
    manifest_digest,
    sha256_hex,
)
from ptychopinn.errors import BundleError

__all__ = ["read_bundle", "read_manifest", "trained_backend", "write_bundle"]

_REAL_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
_COMPLEX_PARTS = {"complex64": np.float32, "complex128": np.float64}
_PROBE = "probe"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_LEGACY_MEMBERS = ("manifest.dill", "params.dill", "custom_objects.dill", "model.keras", "model.pth")


def _tensor_entries(name: str, array: np.ndarray, store: dict[str, np.ndarray]) -> dict[str, Any]:
    """Add ``array`` to ``store`` under safetensors keys; return its manifest record."""
    a = np.asarray(array)
    dtype = a.dtype.name
    if dtype in _COMPLEX_PARTS:
        part = _COMPLEX_PARTS[dtype]
        store[f"{name}:real"] = np.ascontiguousarray(a.real, dtype=part)
        store[f"{name}:imag"] = np.ascontiguousarray(a.imag, dtype=part)
        keys = [f"{name}:real", f"{name}:imag"]
    elif dtype in _REAL_DTYPES:
        store[name] = np.ascontiguousarray(a)
        keys = [name]
    else:
        raise BundleError(f"cannot store tensor {name!r} of dtype {dtype} in a bundle")
    return {"dtype": dtype, "shape": list(a.shape), "keys": keys}


def _build(model: Any) -> tuple[dict[str, Any], bytes]:
    from safetensors.numpy import save as st_save

    from ptychopinn._version import __version__ as core_version
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION

    store: dict[str, np.ndarray] = {}
    tensors: dict[str, Any] = {}
    weights = {}
    for name, array in model.weights.items():
        if not isinstance(name, str) or not name or ":" in name or name == _PROBE:
            raise BundleError(f"invalid weight name {name!r} (non-empty, no ':', not {_PROBE!r})")
        _require_finite(array, name=f"weight {name!r}", where="model to save")
        weights[name] = _tensor_entries(f"weights/{name}", array, store)
    tensors["weights"] = weights
    probe = np.asarray(model.probe)
    if probe.ndim != 2:
        raise BundleError(f"model probe must be (N, N), got shape {probe.shape}")
    tensors[_PROBE] = _tensor_entries(_PROBE, probe.astype(np.complex64), store)
    payload = st_save(store, metadata={"format": FORMAT_NAME})
    summary = model.training_summary.to_dict() if model.training_summary is not None else None
    if summary is not None:
        summary = json.loads(json.dumps(summary, allow_nan=True).replace("NaN", "null").replace("Infinity", "null"))
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "backend": model.backend,
        "backend_version": model.backend_version,
        "backend_api_version": list(BACKEND_API_VERSION),
        "core_version": core_version,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model_config": config_to_dict(model.model_config),
        "training_config": config_to_dict(model.training_config),
        "normalisation": model.normalisation.to_dict(),
        "training_summary": summary,
        "metadata": {str(k): str(v) for k, v in dict(model.metadata).items()},
        "tensors": tensors,
        "checksums": {WEIGHTS_MEMBER: sha256_hex(payload)},
    }
    manifest[DIGEST_FIELD] = manifest_digest(manifest)
    return manifest, payload


def write_bundle(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (a :class:`~ptychopinn.results.TrainedModel`) as a bundle, atomically.

    The manifest records ``model.backend`` and ``model.backend_version``: the backend that
    trained the model (whichever backend runs it later). The weights are checked against the
    architecture of ``model.model_config`` first (:func:`ptychopinn.architecture.validate_weights`).

    Parameters
    ----------
    model : TrainedModel
    path : path-like
        Target file, conventionally ``*.ptychopinn.zip``. Its directory must exist.

    Raises
    ------
    BundleError
        The weights do not fit the architecture, or are not finite.

    Returns
    -------
    Path
        ``path``. Either the complete bundle is there or the previous file is untouched.
    """
    from ptychopinn._safety import check_output_target

    target = Path(path)
    if not target.parent.is_dir():
        raise BundleError(f"{target}: directory {target.parent} does not exist")
    check_output_target(target)
    from ptychopinn.architecture import validate_weights

    validate_weights(model.weights, model.model_config, source=f"{target}: model to save")
    manifest, payload = _build(model)
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False).encode("utf-8")
    with atomic_write(target) as handle, zipfile.ZipFile(handle, "w") as zf:
        for member, data, method in (
            (MANIFEST_MEMBER, manifest_bytes, zipfile.ZIP_DEFLATED),
            (WEIGHTS_MEMBER, payload, zipfile.ZIP_STORED),
        ):
            info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return target


def _open(path: Path) -> zipfile.ZipFile:
    where = str(path)
    if not path.exists():
        raise BundleError(f"{where}: no such model bundle")
    if path.is_dir():
        legacy = path / "wts.h5.zip"
        hint = ""
        if legacy.exists():
            hint = " (it holds a wts.h5.zip of the published PtychoPINN, which cannot be loaded safely)"
        raise BundleError(f"{where}: is a directory, expected a model bundle file{hint}")
    from ptychopinn._safety import regular_file_problem

    problem = regular_file_problem(path)
    if problem:
        raise BundleError(f"{where}: {problem}; expected a model bundle file")
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{where}: not a model bundle, or truncated (not a readable zip file: {exc})") from exc
    except OSError as exc:
        raise BundleError(f"{where}: cannot read: {exc}") from exc
    except (NotImplementedError, ValueError, EOFError, OverflowError) as exc:  # unknown zip version, bad fields
        raise BundleError(
            f"{where}: not a model bundle (unreadable zip structure: {type(exc).__name__}: {exc})"
        ) from exc
    names = [i.filename for i in zf.infolist()]
    if any(n in names for n in _LEGACY_MEMBERS):
        zf.close()
        raise BundleError(
            f"{where}: this is a model archive of the published PtychoPINN (dill/pickle members); it is not "
            f"loaded because unpickling can execute code. Retrain with ptychopinn, or convert the weights yourself."
        )
    if len(names) != len(set(names)) or set(names) != MEMBERS:
        unknown = sorted(set(names) - MEMBERS)
        missing = sorted(MEMBERS - set(names))
        zf.close()
        details = []
        if unknown:
            details.append(f"unknown member(s) {', '.join(repr(n) for n in unknown)}")
        if missing:
            details.append(f"missing member(s) {', '.join(missing)}")
        if len(names) != len(set(names)):
            details.append("duplicate members")
        raise BundleError(
            f"{where}: bundle members must be exactly {sorted(MEMBERS)}; found {'; '.join(details)}. "
            f"Nothing from the file was loaded."
        )
    return zf


def _require_finite(array: Any, *, name: str, where: str) -> None:
    from ptychopinn._safety import first_non_finite

    bad = first_non_finite(array)
    if bad is not None:
        raise BundleError(
            f"{where}: {name} holds {bad[0]} NaN/Inf value(s) (first at index {bad[1]}); a model with non-finite "
            "weights reconstructs nothing but NaN. Retrain (a lower learning rate avoids divergence)"
        )


def _read_member(zf: zipfile.ZipFile, name: str, *, where: str, limit: int) -> bytes:
    """The member's bytes, refusing (before inflating anything) encryption and sizes above ``limit``."""
    from ptychopinn._safety import format_bytes

    info = zf.getinfo(name)
    if info.flag_bits & 0x1:
        raise BundleError(f"{where}: member {name} is encrypted; a bundle never is")
    if info.file_size > limit:
        raise BundleError(
            f"{where}: member {name} would inflate to {format_bytes(info.file_size)} "
            f"(stored as {format_bytes(info.compress_size)}), more than the {format_bytes(limit)} allowed for it; "
            f"refusing to inflate it"
        )
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError...
        raise BundleError(f"{where}: member {name} is corrupt or truncated ({type(exc).__name__}: {exc})") from exc
    if len(data) > limit:  # pragma: no cover - zipfile stops at file_size
        raise BundleError(f"{where}: member {name} is larger than the {limit} bytes allowed")
    return data


def _manifest_from_zip(zf: zipfile.ZipFile, *, where: str) -> dict[str, Any]:
    from ptychopinn._safety import json_loads_bounded

    raw = _read_member(zf, MANIFEST_MEMBER, where=where, limit=MAX_MANIFEST_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{where}: manifest.json is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        manifest = json_loads_bounded(text, what="manifest.json")
    except ValueError as exc:
        raise BundleError(f"{where}: {exc}") from None
    return check_header(manifest, where=where)


def _weights_limit(manifest: dict[str, Any], *, where: str) -> int:
    """Largest size ``weights.safetensors`` may have: the tensors the manifest lists, plus the safetensors header."""
    from ptychopinn._safety import format_bytes, memory_limit_bytes

    sizes = {"float16": 2, "float32": 4, "float64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "uint8": 1,
             "bool": 1, "complex64": 8, "complex128": 16}
    tensors = manifest.get("tensors")
    records = []
    if isinstance(tensors, dict):
        if isinstance(tensors.get("weights"), dict):
            records.extend(tensors["weights"].values())
        records.append(tensors.get(_PROBE))
    total, keys = 0, 0
    for rec in records:
        if not isinstance(rec, dict) or not isinstance(rec.get("shape"), list):
            raise BundleError(f"{where}: manifest 'tensors' holds a malformed record")
        shape = rec["shape"]
        if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 1 << 40 for n in shape):
            raise BundleError(f"{where}: manifest 'tensors' holds a malformed shape")
        total += math.prod(shape) * sizes.get(str(rec.get("dtype")), 16)
        keys += len(rec.get("keys") or ()) + 1
    limit = total + 65536 + 512 * keys
    if total > memory_limit_bytes():
        raise BundleError(
            f"{where}: the manifest lists tensors of {format_bytes(total)}, more than the "
            f"{format_bytes(memory_limit_bytes())} of memory allowed"
        )
    return limit


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the manifest of a bundle (format, version, digest) without reading the weights.

    Returns
    -------
    dict
        The manifest (JSON object), see ``docs/bundle-format.md``.
    """
    p = Path(path)
    with _open(p) as zf:
        return _manifest_from_zip(zf, where=str(p))


def _tensor(record: Any, loaded: Mapping[str, np.ndarray], *, where: str, name: str) -> np.ndarray:
    if not isinstance(record, dict) or not {"dtype", "shape", "keys"} <= set(record):
        raise BundleError(f"{where}: manifest record of tensor {name!r} is malformed")
    dtype, shape, keys = record["dtype"], record["shape"], record["keys"]
    if (
        not isinstance(dtype, str)
        or not isinstance(shape, list)
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        or not isinstance(keys, list)
        or not all(isinstance(k, str) for k in keys)
    ):
        raise BundleError(f"{where}: manifest record of tensor {name!r} is malformed: {record!r}")
    shape = tuple(shape)
    missing = [k for k in keys if k not in loaded]
    if missing:
        raise BundleError(f"{where}: weights.safetensors lacks tensor(s) {', '.join(missing)} listed in the manifest")
    if dtype in _COMPLEX_PARTS and len(keys) == 2:
        array = (loaded[keys[0]] + 1j * loaded[keys[1]]).astype(dtype)
    elif dtype in _REAL_DTYPES and len(keys) == 1:
        array = loaded[keys[0]]
    else:
        raise BundleError(f"{where}: tensor {name!r} has unsupported dtype {dtype!r} in the manifest")
    if array.shape != shape and array.size == math.prod(shape):  # safetensors stores 0-d tensors as (1,)
        array = array.reshape(shape)
    if array.shape != shape or array.dtype.name != dtype:
        raise BundleError(
            f"{where}: tensor {name!r} is {array.shape} {array.dtype}, manifest says {shape} {dtype}"
        )
    return array


def read_bundle(path: str | os.PathLike[str]) -> Any:
    """Read a bundle into a :class:`~ptychopinn.results.TrainedModel`, reading the manifest once.

    ``TrainedModel.backend`` is the backend that trained the model; the weights are checked
    against the architecture of its ``model_config``. Any backend with the ``infer``
    capability runs the result.

    Raises
    ------
    BundleError
        Naming the file and the problem: not a zip / truncated, unexpected members,
        future format, tampered manifest or weights (checksum), malformed content, weights
        that do not fit the architecture.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    p = Path(path)
    where = str(p)
    with _open(p) as zf:
        manifest = _manifest_from_zip(zf, where=where)
        payload = _read_member(zf, WEIGHTS_MEMBER, where=where, limit=_weights_limit(manifest, where=where))
    checksums = manifest["checksums"]
    if not isinstance(checksums, dict) or set(checksums) != {WEIGHTS_MEMBER}:
        raise BundleError(f"{where}: manifest 'checksums' must list exactly {WEIGHTS_MEMBER}")
    if sha256_hex(payload) != checksums[WEIGHTS_MEMBER]:
        raise BundleError(
            f"{where}: {WEIGHTS_MEMBER} does not match its SHA-256 checksum in the manifest (corrupted or "
            f"tampered with); refusing to load it"
        )
    try:
        loaded = st_load(payload)
    except (SafetensorError, ValueError, TypeError, OSError) as exc:
        raise BundleError(f"{where}: {WEIGHTS_MEMBER} is not a valid safetensors file ({exc})") from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a panic of the Rust parser (pyo3 PanicException is a BaseException)
        raise BundleError(f"{where}: {WEIGHTS_MEMBER} could not be parsed ({type(exc).__name__}: {exc})") from exc
    try:
        return _model_from(manifest, loaded, where=where)
    except BundleError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        raise BundleError(f"{where}: malformed bundle content ({type(exc).__name__}: {exc})") from exc


def _model_from(manifest: dict[str, Any], loaded: Mapping[str, np.ndarray], *, where: str) -> Any:
    """Rebuild the TrainedModel from a checked manifest and the parsed tensors."""
    from ptychopinn.config.model import ModelConfig
    from ptychopinn.config.training import TrainingConfig
    from ptychopinn.physics.normalisation import Normalisation
    from ptychopinn.results import TrainedModel, TrainingSummary

    tensors = manifest["tensors"]
    if not isinstance(tensors, dict) or not isinstance(tensors.get("weights"), dict) or _PROBE not in tensors:
        raise BundleError(f"{where}: manifest 'tensors' must hold 'weights' and 'probe'")
    weights = {n: _tensor(rec, loaded, where=where, name=n) for n, rec in tensors["weights"].items()}
    probe = _tensor(tensors[_PROBE], loaded, where=where, name=_PROBE)
    for n, array in (*weights.items(), (_PROBE, probe)):
        _require_finite(array, name=f"tensor {n!r}", where=where)
    listed = {k for rec in tensors["weights"].values() for k in rec["keys"]} | set(tensors[_PROBE]["keys"])
    if set(loaded) != listed:
        raise BundleError(f"{where}: weights.safetensors holds tensors that the manifest does not list")
    norm_data = manifest["normalisation"]
    if not isinstance(norm_data, dict):
        raise BundleError(f"{where}: manifest 'normalisation' must be an object")
    try:
        normalisation = Normalisation(**norm_data)
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{where}: manifest 'normalisation' is invalid: {exc}") from exc
    summary = None
    raw_summary = manifest.get("training_summary")
    if raw_summary is not None:
        try:
            history = {
                k: tuple(math.nan if v is None else float(v) for v in vals)
                for k, vals in raw_summary.get("history", {}).items()
            }
            summary = TrainingSummary(**{**raw_summary, "history": history})
        except (TypeError, ValueError, AttributeError) as exc:
            raise BundleError(f"{where}: manifest 'training_summary' is invalid: {exc}") from exc
    for field in ("backend", "backend_version"):
        if not isinstance(manifest[field], str) or not manifest[field]:
            raise BundleError(f"{where}: manifest '{field}' must be a non-empty string")
    trained_with, trained_version = trained_backend(manifest)
    model_config = config_from_dict(ModelConfig, manifest["model_config"], where=where, field="model_config")
    from ptychopinn.architecture import validate_weights

    validate_weights(weights, model_config, source=where)
    return TrainedModel(
        backend=trained_with,
        backend_version=trained_version,
        model_config=model_config,
        training_config=config_from_dict(
            TrainingConfig, manifest["training_config"], where=where, field="training_config"
        ),
        normalisation=normalisation,
        probe=probe,
        weights=weights,
        training_summary=summary,
        metadata=dict(manifest.get("metadata") or {}),
    )



def trained_backend(manifest: Mapping[str, Any]) -> tuple[str, str]:
    """(name, version) of the backend that trained the model of a checked manifest.

    Bundles of format 1 written before backend API 2.0 by a cross-backend load and save carry
    the trainer in ``source_backend`` (``backend`` then names the loader); this is the one place
    that reads it.
    """
    source = manifest.get("source_backend")
    if isinstance(source, str) and source and source != manifest["backend"]:
        return source, "unknown"
    return str(manifest["backend"]), str(manifest["backend_version"])
