"""TensorFlow and PyTorch backends: same weights -> same patches; bundles cross over; stitching.

Tolerance: max |TF - torch| <= 1e-4 (float32, absolute) on the inferred complex patches.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import ptychopinn
from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig

ATOL = 1e-4
QUICK = TrainingConfig(epochs=2, batch_size=4, validation_fraction=0.0, early_stopping_patience=None)
OPTIONS = {"tensorflow": {"verbose": 0}, "pytorch": {"enable_progress_bar": False}}
REPORT = Path(os.environ["PTYCHOPINN_PARITY_REPORT"]) if os.environ.get("PTYCHOPINN_PARITY_REPORT") else None


def _record(key: str, value: float) -> None:
    """Keep the measured differences (``PTYCHOPINN_PARITY_REPORT=file.json``); never affects the result."""
    if REPORT is None:
        return
    try:
        data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    except (OSError, ValueError):
        data = {}
    data[key] = value
    try:
        REPORT.write_text(json.dumps(data, indent=2, sort_keys=True))
    except OSError:
        pass


def _train(scan, backend: str, cfg: ModelConfig):
    return ptychopinn.train(scan, backend=backend, model_config=cfg, training_config=QUICK, options=OPTIONS[backend])


def _infer(model, scan, backend: str, gridsize: int):
    from ptychopinn.grouping import make_grouped_scan

    grouped = make_grouped_scan(scan, gridsize=gridsize, seed=0)
    handle = ptychopinn.get_backend(backend)
    return handle.infer(model, grouped, InferenceConfig(batch_size=7), OPTIONS[backend])


def test_both_backends_are_listed():
    names = {row.name: row for row in ptychopinn.list_backends()}
    assert names["tensorflow"].installed and names["pytorch"].installed


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(N=64, gridsize=1, n_filters_scale=1),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1),
        ModelConfig(N=64, gridsize=2, n_filters_scale=1, object_big=False, probe_big=False),
        ModelConfig(N=64, gridsize=1, n_filters_scale=1, pad_object=False, amp_activation="swish"),
        ModelConfig(N=64, gridsize=1, n_filters_scale=2, architecture="fast"),
        ModelConfig(N=64, gridsize=2, n_filters_scale=2, architecture="fast"),
    ],
    ids=["gs1", "gs2", "gs2-single-patch", "full-head-swish", "fast-gs1", "fast-gs2"],
)
def test_same_weights_same_patches(scan, cfg):
    """A torch-trained model's canonical weights give the same patches in TF (same batch)."""
    model = _train(scan, "pytorch", cfg)
    torch_pred = _infer(model, scan, "pytorch", cfg.gridsize)
    tf_pred = _infer(model, scan, "tensorflow", cfg.gridsize)  # API 2.0: any backend runs any model, no relabel
    diff = float(np.max(np.abs(tf_pred.patches - torch_pred.patches)))
    _record(f"same_weights_max_abs_{cfg.architecture}_{cfg.gridsize}_{cfg.object_big}_{cfg.pad_object}", diff)
    assert np.max(np.abs(torch_pred.patches)) > 0.05  # a non-trivial output
    assert diff <= ATOL, diff
    np.testing.assert_array_equal(tf_pred.positions, torch_pred.positions)


@pytest.mark.parametrize("gridsize", [1, 2])
def test_physics_forward_parity(gridsize):
    """Both physics twins (optional conformance hook) agree with each other on the same input."""
    from ptychopinn.grouping import group_neighbours
    from ptychopinn.physics import normalise_probe
    from ptychopinn.testing.synthetic import synthetic_scan

    s = synthetic_scan(N=64, n_side=3, step_px=5, seed=2)
    groups = group_neighbours(s.positions, gridsize=gridsize, seed=0)
    B, C = groups.indices.shape
    rng = np.random.default_rng(0)
    obj = (rng.uniform(0.2, 1, (B, C, 64, 64)) * np.exp(1j * rng.uniform(-2, 2, (B, C, 64, 64)))).astype(np.complex64)
    probe = normalise_probe(s.probe, reference_transmission=0.6)
    offsets = groups.offsets if C > 1 else None
    a = ptychopinn.get_backend("tensorflow").physics_forward(obj, probe, offsets, object_big=True, log_scale=0.2)
    b = ptychopinn.get_backend("pytorch").physics_forward(obj, probe, offsets, object_big=True, log_scale=0.2)
    rel = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
    _record(f"physics_forward_rel_gs{gridsize}", rel)
    assert rel <= 2e-5


@pytest.mark.parametrize("architecture", ["published", "fast"])
@pytest.mark.parametrize("writer,reader", [("pytorch", "tensorflow"), ("tensorflow", "pytorch")])
def test_bundle_trained_in_one_backend_reconstructs_in_the_other(scan, tmp_path, writer, reader, architecture):
    cfg = ModelConfig(N=64, gridsize=2, n_filters_scale=1, architecture=architecture)
    model = _train(scan, writer, cfg)
    path = ptychopinn.save_model(model, tmp_path / f"{writer}.ptychopinn.zip")
    loaded = ptychopinn.load_model(path)  # API 2.0: core reads bundles, no backend involved
    assert loaded.backend == writer  # the training backend, never relabelled
    config = InferenceConfig(batch_size=8)
    a = ptychopinn.reconstruct(loaded, scan, config=config, backend=writer, options=OPTIONS[writer])
    b = ptychopinn.reconstruct(loaded, scan, config=config, backend=reader, options=OPTIONS[reader])
    assert a.backend == writer and b.backend == reader
    assert a.object.canvas == b.object.canvas
    np.testing.assert_array_equal(a.object.valid, b.object.valid)
    diff = float(np.max(np.abs(a.object.object - b.object.object)[a.object.valid]))
    _record(f"bundle_{architecture}_{writer}_to_{reader}_object_max_abs", diff)
    assert diff <= ATOL, diff


def test_stitching_of_both_backends_agrees_with_core(scan):
    """Core's stitching of each backend's patches (API 2.0: stitching is core's, no backend hook) agrees."""
    from ptychopinn.stitching import reassemble

    cfg = ModelConfig(N=64, gridsize=1, n_filters_scale=1)
    model = _train(scan, "tensorflow", cfg)
    objects = {}
    for backend in ("tensorflow", "pytorch"):
        pred = _infer(model, scan, backend, 1)
        objects[backend] = reassemble(pred.patches, pred.positions, scan.probe, config=InferenceConfig())
    np.testing.assert_array_equal(objects["tensorflow"].valid, objects["pytorch"].valid)
    diff = float(np.max(np.abs(objects["tensorflow"].object - objects["pytorch"].object)))
    _record("stitched_tf_vs_torch_max_abs", diff)
    assert diff <= ATOL
