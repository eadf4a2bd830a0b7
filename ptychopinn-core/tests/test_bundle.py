"""Model bundles: round trip, atomic writes, and refusal of truncated/tampered/future/pickled files."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ptychopinn.architecture import LOG_SCALE, init_weights
from ptychopinn.bundle import read_bundle, read_bundle_info, read_manifest, write_bundle
from ptychopinn.bundle.manifest import FORMAT_VERSION, manifest_digest
from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.errors import BundleError
from ptychopinn.physics.normalisation import Normalisation
from ptychopinn.results import TrainedModel, TrainingSummary


CONFIG = ModelConfig(N=64, gridsize=2, probe_mask=True, architecture="fast", n_filters_scale=1)
"""A small real architecture: bundles hold its canonical weights."""


def make_model(backend: str = "numpy-test") -> TrainedModel:
    rng = np.random.default_rng(0)
    probe = (rng.standard_normal((64, 64)) + 1j * rng.standard_normal((64, 64))).astype(np.complex64)
    return TrainedModel(
        backend=backend,
        backend_version="0.1.0",
        model_config=CONFIG,
        training_config=TrainingConfig(epochs=3, nphotons=1e6, learning_rate=2e-4),
        normalisation=Normalisation(N=64, mean_counts=1234.5, amplitude_scale=0.25),
        probe=probe,
        weights={**init_weights(CONFIG, seed=0), LOG_SCALE: np.asarray(0.5, dtype=np.float32)},
        training_summary=TrainingSummary(
            epochs_run=3, history={"loss": (3.0, 2.0, 1.0), "val_loss": (float("nan"),) * 3}, wall_time_s=1.5,
            n_train_groups=10, n_validation_groups=0,
        ),
        metadata={"note": "test"},
    )


def rewrite(path: Path, out: Path, *, manifest=None, weights=None, extra=None) -> Path:  # type: ignore[no-untyped-def]
    """Copy a bundle, replacing members, as someone editing it by hand would."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    if weights is not None:
        members["weights.safetensors"] = weights
    members.update(extra or {})
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_bundle(make_model(), tmp_path / "model.ptychopinn.zip")


def test_round_trip_is_exact(bundle: Path) -> None:
    model = make_model()
    back = read_bundle(bundle)
    assert back.backend == "numpy-test" and back.backend_version == "0.1.0"
    assert back.model_config == model.model_config and back.training_config == model.training_config
    assert back.normalisation == model.normalisation
    assert back.probe.dtype == np.complex64
    np.testing.assert_array_equal(back.probe, model.probe)
    assert set(back.weights) == set(model.weights)
    for name, value in model.weights.items():
        assert back.weights[name].dtype == value.dtype and back.weights[name].shape == value.shape
        np.testing.assert_array_equal(back.weights[name], value)
    assert back.training_summary is not None and back.training_summary.history["loss"] == (3.0, 2.0, 1.0)
    assert np.isnan(back.training_summary.history["val_loss"][0])
    assert dict(back.metadata) == {"note": "test"}


def test_manifest_contents(bundle: Path) -> None:
    manifest = read_manifest(bundle)
    assert manifest["format"] == "ptychopinn-bundle" and manifest["format_version"] == FORMAT_VERSION
    assert manifest["backend"] == "numpy-test" and manifest["backend_version"] == "0.1.0"
    assert "backend_distribution" not in manifest and "source_backend" not in manifest  # no registry lookup
    from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION

    assert manifest["core_version"] and manifest["backend_api_version"] == list(BACKEND_API_VERSION)
    assert manifest["model_config"]["gridsize"] == 2 and manifest["normalisation"]["mean_counts"] == 1234.5
    assert manifest["tensors"]["probe"]["dtype"] == "complex64"
    assert set(manifest["checksums"]) == {"weights.safetensors"}
    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "weights.safetensors"]


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "m.ptychopinn.zip"
    write_bundle(make_model(), target)
    before = target.read_bytes()
    bad = make_model()
    object.__setattr__(bad, "weights", {**bad.weights, LOG_SCALE: np.array(object(), dtype=object)})
    with pytest.raises(BundleError, match="physics.log_scale has dtype object"):
        write_bundle(bad, target)
    assert target.read_bytes() == before  # the previous bundle is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.ptychopinn.zip"]


def test_one_byte_of_weights_changed_is_refused(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        weights = bytearray(zf.read("weights.safetensors"))
    weights[-5] ^= 0x01
    edited = rewrite(bundle, tmp_path / "edited.zip", weights=bytes(weights))
    with pytest.raises(BundleError, match="SHA-256") as info:
        read_bundle(edited)
    assert str(edited) in str(info.value)


def test_manifest_backend_renamed_is_refused(bundle: Path, tmp_path: Path) -> None:
    manifest = read_manifest(bundle)
    manifest["backend"] = "pytorch"
    edited = rewrite(bundle, tmp_path / "edited.zip", manifest=manifest)
    with pytest.raises(BundleError, match="manifest checksum mismatch") as info:
        read_manifest(edited)
    assert str(edited) in str(info.value)
    with pytest.raises(BundleError):
        read_bundle(edited)


def test_future_format_version_is_refused(bundle: Path, tmp_path: Path) -> None:
    manifest = read_manifest(bundle)
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest["manifest_sha256"] = manifest_digest(manifest)
    edited = rewrite(bundle, tmp_path / "future.zip", manifest=manifest)
    with pytest.raises(BundleError, match="from the future") as info:
        read_bundle(edited)
    assert "pip install -U ptychopinn-core" in str(info.value)


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_file_is_refused(bundle: Path, tmp_path: Path, keep: float) -> None:
    data = bundle.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(BundleError, match="truncated") as info:
        read_bundle(cut)
    assert str(cut) in str(info.value)


class _CreatesFile:
    """Unpickling this object creates a file: proof that something was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.path, "w"))


@pytest.mark.parametrize("where", ["extra_member", "as_weights", "as_manifest"])
def test_pickle_payload_is_never_unpickled(bundle: Path, tmp_path: Path, where: str) -> None:
    sentinel = tmp_path / "UNPICKLED"
    payload = pickle.dumps(_CreatesFile(str(sentinel)))
    control = tmp_path / "control"  # sanity: unpickling this payload really creates a file
    pickle.loads(pickle.dumps(_CreatesFile(str(control)))).close()
    assert control.exists()
    if where == "extra_member":
        edited = rewrite(bundle, tmp_path / "p.zip", extra={"model.pkl": payload})
    elif where == "as_weights":
        manifest = read_manifest(bundle)
        from ptychopinn.bundle.manifest import sha256_hex

        manifest["checksums"]["weights.safetensors"] = sha256_hex(payload)
        manifest["manifest_sha256"] = manifest_digest(manifest)
        edited = rewrite(bundle, tmp_path / "p.zip", manifest=manifest, weights=payload)
    else:
        with zipfile.ZipFile(bundle) as zf:
            weights = zf.read("weights.safetensors")
        edited = tmp_path / "p.zip"
        with zipfile.ZipFile(edited, "w") as zf:
            zf.writestr("manifest.json", payload)
            zf.writestr("weights.safetensors", weights)
    with pytest.raises(BundleError):
        read_bundle(edited)
    assert not sentinel.exists()


def test_published_ptychopinn_archive_is_refused_without_unpickling(tmp_path: Path) -> None:
    sentinel = tmp_path / "UNPICKLED"
    legacy = tmp_path / "wts.h5.zip"
    with zipfile.ZipFile(legacy, "w") as zf:
        zf.writestr("manifest.dill", pickle.dumps(_CreatesFile(str(sentinel))))
        zf.writestr("autoencoder/params.dill", b"x")
    with pytest.raises(BundleError, match="published PtychoPINN"):
        read_bundle(legacy)
    assert not sentinel.exists()


def test_unknown_member_missing_member_and_not_a_zip(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="unknown member"):
        read_bundle(rewrite(bundle, tmp_path / "x.zip", extra={"notes.txt": b"hi"}))
    only_manifest = tmp_path / "y.zip"
    with zipfile.ZipFile(only_manifest, "w") as zf:
        zf.writestr("manifest.json", json.dumps(read_manifest(bundle)))
    with pytest.raises(BundleError, match="missing member"):
        read_bundle(only_manifest)
    text = tmp_path / "z.ptychopinn.zip"
    text.write_text("hello")
    with pytest.raises(BundleError, match="not a model bundle"):
        read_bundle(text)
    with pytest.raises(BundleError, match="no such model bundle"):
        read_bundle(tmp_path / "missing.zip")


def test_manifest_with_unknown_config_key_is_refused(bundle: Path, tmp_path: Path) -> None:
    manifest = read_manifest(bundle)
    manifest["model_config"]["hidden_layers"] = 3
    manifest["manifest_sha256"] = manifest_digest(manifest)
    with pytest.raises(BundleError, match="hidden_layers"):
        read_bundle(rewrite(bundle, tmp_path / "k.zip", manifest=manifest))


def test_bundle_written_deterministically_apart_from_timestamp(tmp_path: Path) -> None:
    a = write_bundle(make_model(), tmp_path / "a.zip")
    b = write_bundle(make_model(), tmp_path / "b.zip")
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.read("weights.safetensors") == zb.read("weights.safetensors")
    assert os.path.getsize(a) == os.path.getsize(b)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["tensors"]["weights"][LOG_SCALE].update(shape=5),
        lambda m: m["tensors"]["weights"][LOG_SCALE].update(keys="weights/physics.log_scale"),
        lambda m: m["tensors"]["weights"][LOG_SCALE].update(shape=[2, 2]),
        lambda m: m["tensors"]["weights"].pop(LOG_SCALE),
        lambda m: m.update(training_summary=[1, 2]),
        lambda m: m.update(normalisation={"N": 64, "mean_counts": -1.0}),
        lambda m: m.update(backend=""),
    ],
)
def test_malformed_but_consistently_checksummed_manifest_is_a_bundle_error(bundle: Path, tmp_path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    manifest = read_manifest(bundle)
    edit(manifest)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    with pytest.raises(BundleError) as info:
        read_bundle(rewrite(bundle, tmp_path / "m.zip", manifest=manifest))
    assert str(tmp_path / "m.zip") in str(info.value)


def test_weights_that_do_not_fit_the_architecture_are_refused_on_write_and_read(bundle: Path, tmp_path: Path) -> None:
    bad = make_model()
    weights = dict(bad.weights)
    name = sorted(n for n in weights if n.endswith(".weight"))[0]
    weights[name] = weights[name][:, :, :1]
    object.__setattr__(bad, "weights", weights)
    with pytest.raises(BundleError, match=f"{name} has shape"):
        write_bundle(bad, tmp_path / "bad.ptychopinn.zip")
    assert not (tmp_path / "bad.ptychopinn.zip").exists()
    manifest = read_manifest(bundle)  # a bundle whose model_config names another architecture than its weights
    manifest["model_config"]["n_filters_scale"] = 2
    manifest["manifest_sha256"] = manifest_digest(manifest)
    with pytest.raises(BundleError, match="do not match the architecture"):
        read_bundle(rewrite(bundle, tmp_path / "other.zip", manifest=manifest))


def test_bundle_info_reads_the_manifest_only_and_names_the_trainer(bundle: Path, tmp_path: Path) -> None:
    info = read_bundle_info(bundle)
    assert info.backend == "numpy-test" and info.backend_version == "0.1.0" and info.model_config == CONFIG
    assert info.training_config.epochs == 3 and info.path == bundle
    manifest = read_manifest(bundle)  # a format-1 bundle relabelled by a cross-backend load + save (API 1.x)
    manifest.update(backend="numpy-test-alt", source_backend="pytorch")
    manifest["manifest_sha256"] = manifest_digest(manifest)
    old = rewrite(bundle, tmp_path / "old.zip", manifest=manifest)
    assert read_bundle_info(old).backend == "pytorch" and read_bundle(old).backend == "pytorch"
