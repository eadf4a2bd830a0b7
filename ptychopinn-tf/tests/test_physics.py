"""The TensorFlow physics twin agrees with core's numpy oracle (float32, rel <= 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
from ptychopinn import physics as oracle

from ptychopinn_tf import physics as tf_physics

RTOL = 1e-5


def _rel(got: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def _inputs(rng, B, C, N=64, spread=5.0):
    obj = (rng.uniform(0.2, 1.0, (B, C, N, N)) * np.exp(1j * rng.uniform(-2, 2, (B, C, N, N)))).astype(np.complex64)
    off = rng.normal(scale=spread, size=(B, C, 2))
    off -= off.mean(axis=1, keepdims=True)
    probe_raw = oracle.probe_disk_mask(N, radius=N / 3) * np.exp(1j * rng.normal(size=(N, N)) * 0.3)
    probe = oracle.normalise_probe(probe_raw, reference_transmission=0.6)
    return obj, off, probe


@pytest.mark.parametrize("gridsize", [1, 2, 3])
@pytest.mark.parametrize("object_big", [True, False])
@pytest.mark.parametrize("log_scale", [0.0, 0.7])
def test_forward_amplitude_matches_oracle(rng, gridsize, object_big, log_scale):
    C = gridsize * gridsize
    obj, off, probe = _inputs(rng, 3, C)
    if not object_big:
        obj = obj[:, :1]
    offsets = off if C > 1 else None
    got = tf_physics.forward_amplitude(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
    ref = oracle.forward_amplitude(obj, probe, offsets, object_big=object_big, log_scale=log_scale)
    assert got.shape == ref.shape == (3, C, 64, 64)
    assert _rel(got, ref) <= RTOL


def test_sub_pixel_offsets_are_not_trivially_integer(rng):
    """Guard: the offsets of the comparisons above are genuinely sub-pixel and reach far."""
    _, off, _ = _inputs(rng, 3, 4)
    frac = off - np.floor(off)
    assert np.all((frac > 1e-3) & (frac < 1 - 1e-3))
    assert np.max(np.abs(off)) > 2


def test_static_canvas_is_core_s_canvas_rounded_up(rng):
    _, off, _ = _inputs(rng, 3, 4)
    M0 = oracle.canvas_size_for(off, 64)
    M = tf_physics.static_canvas_size(off, 64)
    assert M >= M0 and (M - 64) % 8 == 0 and M - M0 < 8
    assert tf_physics.static_canvas_size(np.zeros((2, 1, 2)), 64) == 64


def test_merge_and_extract_match_oracle_on_any_large_canvas(rng):
    import tensorflow as tf

    from ptychopinn_tf import physics

    obj, off, _ = _inputs(rng, 2, 4)
    M0 = oracle.canvas_size_for(off, 64)
    ref_canvas, _ = oracle.merge_patches(obj, off, canvas_size=M0)
    ref_patches = oracle.extract_patches(ref_canvas, off, N=64)
    for M in (M0, M0 + 8):
        canvas = physics.merge_patches(tf.constant(obj), tf.constant(off, tf.float32), canvas_size=M).numpy()
        lo = (M - M0) // 2
        assert _rel(canvas[:, lo : lo + M0, lo : lo + M0], ref_canvas) <= RTOL
        assert np.all(canvas[:, :lo] == 0) and np.all(canvas[:, :, :lo] == 0)
        patches = physics.extract_patches(tf.constant(canvas), tf.constant(off, tf.float32), N=64).numpy()
        assert _rel(patches, ref_patches) <= RTOL


def test_translation_matches_oracle_and_moves_content_right_and_down(rng):
    import tensorflow as tf

    from ptychopinn_tf import physics

    img = rng.normal(size=(3, 20, 20)).astype(np.float32)
    shifts = np.array([[2.25, -1.5], [-3.75, 0.5], [0.0, 0.0]])
    ref = oracle.translate(img, shifts)
    got = physics.resample(tf.constant(img[..., None]), tf.constant(shifts, tf.float32), size_out=20, base=0)
    np.testing.assert_allclose(got.numpy()[..., 0], ref, rtol=1e-6, atol=1e-6)
    point = np.zeros((1, 9, 9, 1), np.float32)
    point[0, 4, 4, 0] = 1
    moved = physics.resample(tf.constant(point), tf.constant([[2.0, 1.0]], tf.float32), size_out=9, base=0).numpy()
    assert moved[0, 5, 6, 0] == 1.0  # dx=2 -> column +2, dy=1 -> row +1


def test_far_field_is_orthonormal_and_dc_centred(rng):
    import tensorflow as tf

    from ptychopinn_tf import physics

    psi = (rng.normal(size=(2, 64, 64)) + 1j * rng.normal(size=(2, 64, 64))).astype(np.complex64)
    amp = physics.far_field_amplitude(tf.constant(psi)).numpy()
    np.testing.assert_allclose(np.sum(amp**2, axis=(1, 2)), np.sum(np.abs(psi) ** 2, axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(amp, oracle.far_field_amplitude(psi), rtol=1e-5, atol=1e-5 * amp.max())
    flat = physics.far_field_amplitude(tf.ones((1, 64, 64), tf.complex64)).numpy()
    assert np.argmax(flat[0]) == 32 * 64 + 32


def test_gradients_flow_through_merge_and_extract(rng):
    import tensorflow as tf

    from ptychopinn_tf import physics

    obj, off, probe = _inputs(rng, 2, 4)
    o = tf.Variable(obj)
    with tf.GradientTape() as tape:
        a = physics.predicted_amplitude(
            o, tf.constant(probe), tf.constant(off, tf.float32), object_big=True, log_scale=0.0, canvas_size=84
        )
        loss = tf.reduce_sum(a)
    grad = tape.gradient(loss, o).numpy()
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)
