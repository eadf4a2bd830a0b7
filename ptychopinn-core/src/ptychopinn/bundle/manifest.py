"""The bundle manifest: building it from a model, checking it, and turning it back into configs.

See ``docs/bundle-format.md``. Only JSON is parsed here (``json.loads``); nothing is ever
unpickled or executed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from ptychopinn.errors import BundleError, ConfigError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_MEMBER",
    "MEMBERS",
    "WEIGHTS_MEMBER",
    "canonical_json",
    "manifest_digest",
    "sha256_hex",
]

FORMAT_NAME = "ptychopinn-bundle"
"""Value of the manifest's ``format`` field."""

FORMAT_VERSION = 1
"""Bundle format version written by, and the newest one readable by, this core."""

MANIFEST_MEMBER = "manifest.json"
WEIGHTS_MEMBER = "weights.safetensors"
MEMBERS: frozenset[str] = frozenset({MANIFEST_MEMBER, WEIGHTS_MEMBER})
"""The only members a bundle of format 1 may contain."""

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""Largest manifest accepted (guards against zip bombs)."""

DIGEST_FIELD = "manifest_sha256"
"""Manifest field holding the digest of the manifest's other fields (tamper check)."""

REQUIRED_FIELDS: tuple[str, ...] = (
    "format",
    "format_version",
    "backend",
    "backend_version",
    "backend_api_version",
    "core_version",
    "model_config",
    "training_config",
    "normalisation",
    "tensors",
    "checksums",
    DIGEST_FIELD,
)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """Deterministic JSON encoding used for the manifest digest (sorted keys, no spaces, ASCII)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of every manifest field except ``manifest_sha256``."""
    return sha256_hex(canonical_json({k: v for k, v in manifest.items() if k != DIGEST_FIELD}))


def config_to_dict(config: object) -> dict[str, Any]:
    """A frozen config dataclass as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))  # type: ignore[call-overload]


def config_from_dict(kind: type, data: object, *, where: str, field: str) -> Any:
    """Rebuild a config dataclass from manifest data; any problem is a :class:`BundleError`."""
    if not isinstance(data, dict):
        raise BundleError(f"{where}: manifest field '{field}' must be an object, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise BundleError(
            f"{where}: manifest field '{field}' has unknown key(s) {', '.join(unknown)} (written by a newer "
            f"ptychopinn-core?). Upgrade: pip install -U ptychopinn-core"
        )
    try:
        return kind(**data)
    except (ConfigError, TypeError, ValueError) as exc:
        raise BundleError(f"{where}: manifest field '{field}' is invalid: {exc}") from exc


def check_header(manifest: object, *, where: str) -> dict[str, Any]:
    """Check format name and version, required fields and the digest. Returns the manifest.

    The format version is checked before the digest, so that a bundle from a newer core is
    reported as such rather than as tampered with.
    """
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: manifest.json must hold a JSON object, got {type(manifest).__name__}")
    if manifest.get("format") != FORMAT_NAME:
        raise BundleError(
            f"{where}: not a PtychoPINN model bundle (manifest 'format' is {manifest.get('format')!r}, "
            f"expected {FORMAT_NAME!r})"
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BundleError(f"{where}: manifest 'format_version' must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{where}: bundle format version {version} is from the future; this ptychopinn-core reads format "
            f"versions up to {FORMAT_VERSION}. Upgrade: pip install -U ptychopinn-core"
        )
    missing = [f for f in REQUIRED_FIELDS if f not in manifest]
    if missing:
        raise BundleError(f"{where}: manifest.json lacks required field(s) {', '.join(missing)}")
    try:
        expected = manifest_digest(manifest)
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{where}: manifest.json holds values that are not plain JSON: {exc}") from exc
    if manifest[DIGEST_FIELD] != expected:
        raise BundleError(
            f"{where}: manifest.json was modified after the bundle was written (manifest checksum mismatch); "
            f"refusing to load a tampered bundle"
        )
    check_identity(manifest, where=where)
    return manifest


_IDENTITY_PATTERNS: dict[str, tuple[re.Pattern[str], bool, str]] = {
    "backend": (re.compile(r"[a-z0-9][a-z0-9._-]{0,63}"), False, "a backend name (lower-case letters, digits, . _ -)"),
    "backend_version": (re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}"), False, "a version string"),
    "core_version": (re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}"), False, "a version string"),
    "backend_distribution": (
        re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,98}[A-Za-z0-9])?"), True, "a distribution name (PEP 508)"
    ),
    "source_backend": (re.compile(r"[a-z0-9][a-z0-9._-]{0,63}"), True, "a backend name"),
}


def check_identity(manifest: Mapping[str, Any], *, where: str) -> None:
    """The names and versions a bundle declares must look like names and versions.

    They end up in messages and in file names; a manifest that carries options
    (``--index-url ...``), spaces or terminal escape sequences is refused, and the offending
    value is shown escaped.
    """
    for field, (pattern, optional, expected) in _IDENTITY_PATTERNS.items():
        value = manifest.get(field)
        if value is None and (optional or field not in manifest):
            continue
        if not isinstance(value, str) or not pattern.fullmatch(value):
            found = (f"a {len(value)}-character string that is not one" if isinstance(value, str)
                     else f"a JSON {type(value).__name__}")
            raise BundleError(
                f"{where}: manifest '{field}' must be {expected}, found {found} (not shown: text from a bundle is "
                "never echoed); the bundle is malformed or was crafted, and is not loaded"
            )
