"""Shared helpers of the hostile-input corpus (test_hostile_*.py); imported by the test modules, not a conftest.

Every case runs the real command line (``ptychopinn.cli.main.main``, in-process for speed, or
``python -m ptychopinn`` in a subprocess where signals, hangs or plugin isolation are the point)
and asserts, with :func:`assert_refused`: the exit code, no traceback, one ``ptychopinn: error:``
paragraph holding the expected words (file, key, expected vs found), no raw control character
on the terminal; and, with :func:`snapshot`, that outputs of an earlier run are byte-for-byte intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ptychopinn.bundle.manifest import manifest_digest
from ptychopinn.data.npz import write_npz, write_scan
from ptychopinn.testing import synthetic_scan

ESC = "\x1b"
HOSTILE_DISTRIBUTION = "ptychopinn-testbackend-hostile"


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit code and the text it printed."""

    code: int
    out: str
    err: str


def cli(*args: str | os.PathLike[str]) -> Outcome:
    """Run ``ptychopinn ARGS`` in this process (signal handlers and the registry cache restored afterwards)."""
    from ptychopinn import _signals
    from ptychopinn.cli.main import main
    from ptychopinn.plugins.registry import refresh_backends

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        _signals.reset()
        refresh_backends()
    return Outcome(code, out.getvalue(), err.getvalue())


def run_cli(*args: str | os.PathLike[str], env: Mapping[str, str] | None = None, timeout: float = 120,
            cwd: str | os.PathLike[str] | None = None, **kwargs: Any) -> Outcome:
    """Run ``python -m ptychopinn ARGS`` in a fresh interpreter."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PTYCHOPINN_")}
    full.update({"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})})
    proc = subprocess.run([sys.executable, "-m", "ptychopinn", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full, cwd=cwd, **kwargs)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: no PTYCHOPINN_* variable of the caller, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTYCHOPINN_")}
    env.update({"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **extra})
    return env


def assert_refused(result: Outcome, *needles: str, code: int = 2, absent: tuple[str, ...] = ()) -> str:
    """Exit ``code``, no traceback, one error paragraph containing every needle, nothing raw on the terminal.

    Returns the error line.
    """
    text = result.out + result.err
    assert result.code == code, f"exit code {result.code}, expected {code}\nstdout: {result.out}\nstderr: {result.err}"
    assert "Traceback" not in text, text
    assert ESC not in text and "\x07" not in text and "\x9b" not in text, repr(text)
    errors = [line for line in result.err.splitlines() if line.startswith("ptychopinn: error:")]
    assert len(errors) == 1, f"expected one error paragraph, got {result.err!r}"
    line = errors[0]
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    for word in absent:
        assert word not in text, f"{word!r} was printed: {text!r}"
    return line


def snapshot(directory: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``directory`` (hidden ones included)."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def previous_outputs(directory: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Fill ``directory`` with files of an 'earlier run' under ``names``; return their snapshot."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(f"earlier run: {name}\n".encode())
    return snapshot(directory)


# --- scans -------------------------------------------------------------------------------------------------


def good_scan_arrays() -> dict[str, np.ndarray]:
    """A tiny valid scan (9 patterns of 64 x 64) as the arrays of its file."""
    s = synthetic_scan(seed=0, n_side=3)
    return {
        "diffraction": np.asarray(s.diffraction, dtype=np.float32),
        "xcoords": s.xcoords.astype(np.float64),
        "ycoords": s.ycoords.astype(np.float64),
        "probeGuess": s.probe.astype(np.complex64),
        "objectGuess": np.asarray(s.object, dtype=np.complex64),
    }


def write_good_scan(path: Path) -> Path:
    return write_scan(path, synthetic_scan(seed=0, n_side=3))


def write_arrays(path: Path, **changes: Any) -> Path:
    """The good scan with keys replaced (None removes a key), written uncompressed."""
    arrays: dict[str, Any] = good_scan_arrays()
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    np.savez(path, **arrays)
    return path


def member_data_offset(path: Path, member: str) -> tuple[int, zipfile.ZipInfo]:
    """Offset of the first byte of ``member``'s (stored) data, and its ZipInfo."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
    return info.header_offset + 30 + name_len + extra_len, info


def patch_bytes(path: Path, offset: int, new: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(new)] = new
    path.write_bytes(bytes(data))


def flip_byte(path: Path, member: str, at: int) -> None:
    """Corrupt one data byte of a stored member (its CRC no longer matches)."""
    start, _ = member_data_offset(path, member)
    data = bytearray(path.read_bytes())
    data[start + at] ^= 0x5A
    path.write_bytes(bytes(data))


def set_encrypted_flag(path: Path, member: str, *, local: bool = True, central: bool = True) -> None:
    """Set bit 0 (encrypted) of the general-purpose flags of ``member``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    if local:
        data[info.header_offset + 6] |= 1
    if central:
        start = 0
        while (i := data.find(b"PK\x01\x02", start)) >= 0:
            name_len = struct.unpack("<H", data[i + 28 : i + 30])[0]
            if data[i + 46 : i + 46 + name_len] == member.encode():
                data[i + 8] |= 1
            start = i + 4
    path.write_bytes(bytes(data))


def set_npy_shape(path: Path, member: str, old: str, new: str) -> None:
    """Rewrite the shape text of a stored ``.npy`` header (same length, padded with spaces)."""
    start, _ = member_data_offset(path, member)
    data = bytearray(path.read_bytes())
    header = data[start : start + 256]
    i = header.find(old.encode())
    assert i >= 0, header
    data[start + i : start + i + len(old)] = new.ljust(len(old)).encode()
    path.write_bytes(bytes(data))


# --- bundles -----------------------------------------------------------------------------------------------


def read_bundle_parts(path: Path) -> tuple[dict[str, Any], bytes]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json")), zf.read("weights.safetensors")


def write_bundle_parts(
    path: Path,
    manifest: Mapping[str, Any] | None,
    weights: bytes,
    *,
    redigest: bool = True,
    raw_manifest: bytes | None = None,
    weights_method: int = zipfile.ZIP_STORED,
    extra: Mapping[str, bytes] | None = None,
    recompute_checksum: bool = False,
) -> Path:
    """A bundle from parts; by default the manifest digest is recomputed, as a crafted bundle would do."""
    raw = raw_manifest
    if raw is None:
        m = dict(manifest or {})
        if recompute_checksum:
            m["checksums"] = {"weights.safetensors": hashlib.sha256(weights).hexdigest()}
        if redigest:
            m["manifest_sha256"] = manifest_digest(m)
        raw = json.dumps(m).encode()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("manifest.json"), raw, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo("weights.safetensors"), weights, compress_type=weights_method)
        for name, data in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def safetensors_with(weights: bytes, change: Callable[[dict[str, np.ndarray]], None]) -> bytes:
    from safetensors.numpy import load, save

    tensors = dict(load(weights))
    change(tensors)
    return save(tensors, metadata={"format": "ptychopinn-bundle"})


def write_small_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    return write_npz(path, arrays)


def set_extract_version(path: Path, version: int = 221) -> None:
    """Set 'version needed to extract' of every central-directory entry (zipfile refuses > 6.3)."""
    data = bytearray(path.read_bytes())
    start = 0
    while (i := data.find(b"PK\x01\x02", start)) >= 0:
        data[i + 6 : i + 8] = struct.pack("<H", version)
        start = i + 4
    path.write_bytes(bytes(data))
