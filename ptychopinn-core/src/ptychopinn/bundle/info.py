"""What a bundle says about its model without reading the weights: :func:`read_bundle_info`.

For callers that decide before loading (the Ptychodus adapter's parent process, ``ptychopinn
inspect``): one checked manifest read, typed fields, no weights, no framework.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ptychopinn.config.model import ModelConfig
from ptychopinn.config.training import TrainingConfig
from ptychopinn.errors import BundleError

__all__ = ["BundleInfo", "read_bundle_info"]


@dataclass(frozen=True, kw_only=True)
class BundleInfo:
    """The manifest of a model bundle, typed (``docs/bundle-format.md``)."""

    path: Path
    """The bundle file."""

    backend: str
    """Backend that trained the model."""

    backend_version: str
    """Its version ("unknown" for old bundles relabelled by a cross-backend save)."""

    core_version: str
    """ptychopinn-core version that wrote the bundle."""

    created_utc: str | None
    """Creation time, ISO 8601 UTC, when recorded."""

    model_config: ModelConfig
    """Architecture and physics of the model."""

    training_config: TrainingConfig
    """How it was trained."""


def read_bundle_info(path: str | os.PathLike[str]) -> BundleInfo:
    """Read and check a bundle's manifest (format, version, digest, configs); the weights are not read.

    Raises
    ------
    BundleError
        Not a bundle, truncated, tampered with, from a future format, or with invalid configs.
    """
    from ptychopinn.bundle.io import read_manifest, trained_backend
    from ptychopinn.bundle.manifest import config_from_dict

    p = Path(path)
    manifest = read_manifest(p)
    where = str(p)
    for field in ("backend", "backend_version", "core_version"):
        if not isinstance(manifest[field], str) or not manifest[field]:
            raise BundleError(f"{where}: manifest '{field}' must be a non-empty string")
    backend, version = trained_backend(manifest)
    created = manifest.get("created_utc")
    return BundleInfo(
        path=p,
        backend=backend,
        backend_version=version,
        core_version=str(manifest["core_version"]),
        created_utc=created if isinstance(created, str) else None,
        model_config=config_from_dict(ModelConfig, manifest["model_config"], where=where, field="model_config"),
        training_config=config_from_dict(
            TrainingConfig, manifest["training_config"], where=where, field="training_config"
        ),
    )
