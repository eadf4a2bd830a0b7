"""Model bundles: one zip file with ``manifest.json`` and ``weights.safetensors``.

Framework-neutral (canonical weight names, numpy arrays), never unpickled, checksummed,
written atomically. The format is specified in ``docs/bundle-format.md``.
"""

from ptychopinn.bundle.io import read_bundle, read_manifest, with_backend, write_bundle
from ptychopinn.bundle.manifest import FORMAT_NAME, FORMAT_VERSION, MANIFEST_MEMBER, WEIGHTS_MEMBER

DEFAULT_SUFFIX = ".ptychopinn.zip"
"""Conventional file-name ending of a bundle."""

__all__ = [
    "DEFAULT_SUFFIX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_MEMBER",
    "WEIGHTS_MEMBER",
    "read_bundle",
    "read_manifest",
    "with_backend",
    "write_bundle",
]
