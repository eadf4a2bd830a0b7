"""Model bundles: one zip file with ``manifest.json`` and ``weights.safetensors``.

Framework-neutral (canonical weight names, numpy arrays), never unpickled, checksummed,
written atomically. The format is specified in ``docs/bundle-format.md``. Core saves and loads
bundles (backend API 2.0): :func:`write_bundle` / :func:`read_bundle` from the canonical numpy
weights of :mod:`ptychopinn.architecture`; backends never touch the file.
"""

from ptychopinn.bundle.info import BundleInfo, read_bundle_info
from ptychopinn.bundle.io import read_bundle, read_manifest, write_bundle
from ptychopinn.bundle.manifest import FORMAT_NAME, FORMAT_VERSION, MANIFEST_MEMBER, WEIGHTS_MEMBER

DEFAULT_SUFFIX = ".ptychopinn.zip"
"""Conventional file-name ending of a bundle."""

__all__ = [
    "DEFAULT_SUFFIX",
    "BundleInfo",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_MEMBER",
    "WEIGHTS_MEMBER",
    "read_bundle",
    "read_bundle_info",
    "read_manifest",
    "write_bundle",
]
