"""A PtychoPINN scan file opens in Ptychodus (its plugin registry) with its positions, probe and geometry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers import write_tiny_scan
from ptychodus.api.plugins import PluginRegistry
from ptychodus.api.reconstruct import prepare_reconstruct_input

from ptychopinn.data.ptychodus_import import positions_to_ptychodus_pixels
from ptychopinn.errors import ScanDataError
from ptychopinn_ptychodus.convert import scan_from_reconstruct_input
from ptychopinn_ptychodus.npz_reader import (
    DEFAULT_PIXEL_SIZE_M,
    DISPLAY_NAME,
    SIMPLE_NAME,
    read_for_ptychodus,
    register_file_readers,
)


@pytest.fixture(scope="module")
def scan_file(tmp_path_factory):
    return write_tiny_scan(tmp_path_factory.mktemp("scan") / "scan.npz")


def test_ptychodus_plugin_registry_lists_the_readers():
    """Ptychodus's own load_plugins imports the installed ptychodus/plugins/ptychopinn_next.py."""
    registry = PluginRegistry.load_plugins()
    for chooser in (registry.diffraction_file_readers, registry.product_file_readers, registry.probe_file_readers):
        plugin = chooser.find_plugin(SIMPLE_NAME)
        assert plugin is not None and plugin.display_name == DISPLAY_NAME


def test_reader_round_trip_keeps_positions_probe_and_counts(scan_file):
    path, scan = scan_file
    registry = PluginRegistry()
    register_file_readers(registry)
    dataset = registry.diffraction_file_readers.get_strategy_by_name(SIMPLE_NAME).read(path)
    product = registry.product_file_readers.get_strategy_by_name(SIMPLE_NAME).read(path)
    patterns = np.concatenate([array.get_patterns() for array in dataset])
    np.testing.assert_allclose(patterns, np.asarray(scan.diffraction, np.float64) ** 2, rtol=1e-6)
    obj = product.object_
    assert obj.get_array().shape[-2:] == scan.object.shape
    np.testing.assert_array_equal(obj.get_layer(0), 1.0)  # a blank start, never the ground truth
    assert obj.get_pixel_geometry().width_m == DEFAULT_PIXEL_SIZE_M
    np.testing.assert_allclose(product.probes.get_probe_no_opr().get_array()[0], scan.probe, rtol=1e-6)
    # Ptychodus's own pixel mapping of the product's positions = core positions - 0.5 (the half pixel, once)
    geometry = obj.get_geometry()
    x_px = geometry.map_probe_positions_to_object_x_px(product.probe_positions)
    expected_x, expected_y = positions_to_ptychodus_pixels(scan.positions)
    np.testing.assert_allclose(x_px, expected_x, atol=1e-6)
    np.testing.assert_allclose(
        geometry.map_probe_positions_to_object_y_px(product.probe_positions), expected_y, atol=1e-6
    )


def test_file_to_ptychodus_to_adapter_gives_back_the_scan(scan_file):
    """Reader -> Ptychodus's prepare_reconstruct_input -> the adapter's conversion: the same scan."""
    path, scan = scan_file
    diffraction, product, _ = read_for_ptychodus(path)
    parameters = prepare_reconstruct_input(diffraction, product)
    back = scan_from_reconstruct_input(parameters, with_object=False)
    np.testing.assert_allclose(back.positions, scan.positions, atol=1e-6)
    np.testing.assert_allclose(back.diffraction, scan.diffraction, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.probe, scan.probe, rtol=1e-6)


def test_geometry_keys_override_the_defaults(scan_file, tmp_path):
    path, scan = scan_file
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "s.npz", **arrays, pixel_size_m=np.float64(5e-9), photon_energy_eV=np.float64(8000.0))
    _, product, _ = read_for_ptychodus(tmp_path / "s.npz")
    assert product.object_.get_pixel_geometry().width_m == 5e-9
    assert product.metadata.photon_energy_eV == 8000.0
    np.savez(tmp_path / "bad.npz", **arrays, pixel_size_m=np.float64(-1.0))
    with pytest.raises(ScanDataError, match="bad.npz.*pixel_size_m.*positive"):
        read_for_ptychodus(tmp_path / "bad.npz")


def test_batch_input_command_refuses_a_bad_file_and_writes_nothing(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip")
    out = subprocess.run(
        [sys.executable, "-m", "ptychopinn_ptychodus.batch_input", str(bad), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out
    assert "broken.npz" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()
