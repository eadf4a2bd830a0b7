"""Conversions (bad pixels, probe modes, pixel grids, output placement) and the spawn runner's lifecycle."""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest
from helpers import PIXEL_M, make_product, metres_for_object_pixels
from ptychodus.api.geometry import PixelGeometry
from ptychodus.api.probe import ProbeSequence
from ptychodus.api.product import Product
from ptychodus.api.reconstruct import ReconstructInput

from ptychopinn.errors import ScanDataError
from ptychopinn_ptychodus.convert import product_with_object, scan_from_reconstruct_input
from ptychopinn_ptychodus.runner import run_in_child

N = 64
SHAPE = (128, 140)


def _input(*, probe=None, bad=None, counts=None) -> ReconstructInput:
    x_m, y_m = metres_for_object_pixels(np.array([50.0, 60.0, 70.0]), np.array([50.0, 55.0, 60.0]), SHAPE)
    probe = np.ones((N, N), complex) if probe is None else probe
    obj = np.exp(1j * np.linspace(0, 1, SHAPE[0] * SHAPE[1])).reshape(SHAPE)
    product = make_product(obj, probe, x_m, y_m, indexes=np.array([7, 8, 9]))
    counts = np.full((3, N, N), 9.0) if counts is None else counts
    bad = np.zeros((N, N), bool) if bad is None else bad
    return ReconstructInput(counts, bad, product)


def test_bad_pixels_are_inpainted_and_nothing_else_changes(caplog):
    counts = np.full((3, N, N), 9.0)
    bad = np.zeros((N, N), bool)
    bad[10, 12] = bad[30, 31] = True
    counts[:, bad] = 1e9  # hot pixels
    with caplog.at_level(logging.INFO, logger="ptychopinn_ptychodus"):
        scan = scan_from_reconstruct_input(_input(bad=bad, counts=counts))
    np.testing.assert_allclose(scan.diffraction, 3.0)
    assert "2 bad detector pixels are inpainted" in caplog.text
    np.testing.assert_array_equal(scan.scan_index, [7, 8, 9])


def test_dominant_probe_mode_with_a_warning(caplog):
    modes = np.stack([0.5 * np.ones((N, N)), 2.0 * np.ones((N, N))]).astype(complex)
    with caplog.at_level(logging.WARNING, logger="ptychopinn_ptychodus"):
        scan = scan_from_reconstruct_input(_input(probe=modes))
    np.testing.assert_allclose(scan.probe, 2.0)
    assert "2 incoherent modes" in caplog.text and "94.1%" in caplog.text


def test_probe_on_another_pixel_grid_is_refused():
    parameters = _input()
    p = parameters.product
    probes = ProbeSequence(p.probes.get_array(), None, PixelGeometry(2 * PIXEL_M, 2 * PIXEL_M))
    other = Product(p.metadata, p.probe_positions, probes, p.object_, [])
    with pytest.raises(ScanDataError, match="one pixel grid"):
        scan_from_reconstruct_input(ReconstructInput(parameters.diffraction_patterns, parameters.bad_pixels, other))


@pytest.mark.parametrize("origin", [(10.0, 20.0), (-5.0, -3.0), (130.0, 120.0)])
def test_output_object_lands_on_the_input_grid(origin, caplog):
    parameters = _input()
    h, w = 30, 40
    canvas = (np.arange(h * w).reshape(h, w) + 1j).astype(np.complex64)
    weight = np.ones((h, w), np.float32)
    with caplog.at_level(logging.WARNING, logger="ptychopinn_ptychodus"):
        product = product_with_object(parameters, canvas, weight, origin)
    out = product.object_.get_layer(0)
    obj_in = parameters.product.object_
    assert out.shape == SHAPE and product.object_.get_center() == obj_in.get_center()
    assert product.object_.get_pixel_geometry() == obj_in.get_pixel_geometry()
    x0, y0 = int(origin[0]), int(origin[1])
    for r, c in ((0, 0), (h - 1, w - 1), (12, 7)):
        if 0 <= y0 + r < SHAPE[0] and 0 <= x0 + c < SHAPE[1]:
            assert out[y0 + r, x0 + c] == canvas[r, c]
    untouched = np.ones(SHAPE, bool)
    untouched[max(0, y0) : max(0, y0 + h), max(0, x0) : max(0, x0 + w)] = False
    np.testing.assert_array_equal(out[untouched], obj_in.get_layer(0)[untouched].astype(np.complex64))
    cropped = x0 < 0 or y0 < 0 or x0 + w > SHAPE[1] or y0 + h > SHAPE[0]
    assert ("cropped" in caplog.text) == cropped


def test_fractional_canvas_origin_is_resampled_by_the_fraction():
    parameters = _input()
    canvas = np.zeros((20, 20), np.complex64)
    canvas[10, 10] = 1.0
    product = product_with_object(parameters, canvas, np.ones((20, 20), np.float32), (30.5, 40.0))
    out = product.object_.get_layer(0)
    # canvas pixel (10, 10) sits at object x = 40.5, y = 50: split between columns 40 and 41
    np.testing.assert_allclose([out[50, 40], out[50, 41]], [0.5, 0.5], atol=1e-6)


def test_runner_forwards_logs_and_terminates_the_child_when_the_caller_stops(caplog):
    with caplog.at_level(logging.WARNING):
        events = run_in_child("helpers:child_that_waits", "hello", log_level=logging.WARNING)
        tag, pid = next(events)
        assert tag == "pid" and pid != os.getpid()
        assert "child says hello" in caplog.text
        events.close()  # what Ptychodus's cancel does to the reconstructor's generator
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child {pid} still alive after the caller stopped")


def test_valid_threshold_keeps_barely_lit_rim_pixels_out_of_the_product():
    parameters = _input()
    canvas = np.full((20, 20), np.exp(1j * np.pi), np.complex64)  # rim pixels of phase pi
    weight = np.full((20, 20), 1.0, np.float32)
    weight[:, :3] = 0.01  # barely lit
    product = product_with_object(parameters, canvas, weight, (40.0, 50.0), valid_threshold=0.1)
    out = product.object_.get_layer(0)
    base = parameters.product.object_.get_layer(0).astype(np.complex64)
    np.testing.assert_array_equal(out[50:70, 40:43], base[50:70, 40:43])  # kept from the input object
    np.testing.assert_allclose(out[50:70, 43:60], canvas[:, 3:], atol=1e-6)
