"""Stitching: exact reproduction of a known object (integer and sub-pixel positions), streaming, weights."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.config import InferenceConfig
from ptychopinn.physics.patches import extract_object_patches
from ptychopinn.results import CanvasSpec
from ptychopinn.stitching import Stitcher, default_canvas, patch_weight, reassemble

N = 32


def _object(H: int = 110, W: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.5, 1.5, (H, W)) * np.exp(1j * rng.uniform(-2, 2, (H, W)))).astype(np.complex64)


def _probe() -> np.ndarray:
    yy, xx = np.indices((N, N))
    return np.exp(-((yy - N // 2) ** 2 + (xx - N // 2) ** 2) / (2 * 5.0**2)).astype(np.complex64)


def _positions(subpixel: bool, seed: int = 0) -> np.ndarray:
    g = np.arange(24.0, 90.0, 4.0)
    X, Y = np.meshgrid(g, g)
    pos = np.stack([X.ravel(), Y.ravel()], axis=1)
    if subpixel:
        pos = pos + np.random.default_rng(seed).uniform(-1.5, 1.5, pos.shape)
    return pos


def _rel_error(st, obj) -> float:
    v = st.valid
    return float(np.linalg.norm((st.object - obj)[v]) / np.linalg.norm(obj[v]))


@pytest.mark.parametrize("subpixel", [False, True], ids=["integer", "subpixel"])
def test_reproduces_known_object_in_lit_region(subpixel):
    obj = _object()
    pos = _positions(subpixel)
    patches = extract_object_patches(obj, pos, N)
    st = reassemble(patches, pos, _probe(), canvas=CanvasSpec(shape=obj.shape))
    assert st.valid.sum() > 3000
    assert _rel_error(st, obj) <= 1e-5


def test_window_weights_integer_positions_exact():
    obj = _object()
    pos = _positions(False)
    st = reassemble(
        extract_object_patches(obj, pos, N),
        pos,
        _probe(),
        canvas=CanvasSpec(shape=obj.shape),
        config=InferenceConfig(stitch_weight="window"),
    )
    assert _rel_error(st, obj) <= 1e-6


def test_average_method_is_exact_for_integer_positions_only():
    obj = _object()
    for subpixel, bound in ((False, 1e-6), (True, None)):
        pos = _positions(subpixel)
        st = reassemble(
            extract_object_patches(obj, pos, N), pos, _probe(), canvas=CanvasSpec(shape=obj.shape), method="average"
        )
        err = _rel_error(st, obj)
        if bound is not None:
            assert err <= bound
        else:
            assert err > 1e-3  # bilinear placement blurs: why "lsq" is the default


def test_default_canvas_origin_maps_positions():
    obj = _object()
    pos = _positions(True)
    st = reassemble(extract_object_patches(obj, pos, N), pos, _probe())
    x0, y0 = (int(v) for v in st.canvas.origin)
    H, W = st.object.shape
    assert st.canvas == default_canvas(pos, N)
    assert x0 >= 0 and y0 >= 0 and x0 + W <= obj.shape[1] and y0 + H <= obj.shape[0]
    sub = obj[y0 : y0 + H, x0 : x0 + W]
    assert np.linalg.norm((st.object - sub)[st.valid]) / np.linalg.norm(sub[st.valid]) <= 1e-5


def test_streaming_equals_one_shot_and_memory_is_canvas_sized():
    obj = _object()
    pos = _positions(True, seed=3)
    patches = extract_object_patches(obj, pos, N)
    one = reassemble(patches, pos, _probe(), batch_size=10_000)
    st = Stitcher(patch_weight(_probe()), default_canvas(pos, N))
    for start in range(0, len(pos), 7):
        st.add(patches[start : start + 7], pos[start : start + 7])
    many = st.result()
    np.testing.assert_allclose(many.object, one.object, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(many.valid, one.valid)
    held = sum(a.nbytes for a in vars(st).values() if isinstance(a, np.ndarray))
    assert held <= 12 * 8 * (one.object.shape[0] + 2) * (one.object.shape[1] + 2) + patches[0].nbytes * 4


def test_unlit_region_is_zero_and_never_amplified():
    obj = _object()
    pos = _positions(True)
    patches = extract_object_patches(obj, pos, N)
    st = reassemble(patches, pos, _probe(), canvas=CanvasSpec(shape=obj.shape))
    assert np.all(st.object[st.weight == 0] == 0)
    assert np.abs(st.object).max() <= 1.1 * np.abs(obj).max()  # no 1/eps blow-up in weakly lit pixels
    avg = reassemble(patches, pos, _probe(), canvas=CanvasSpec(shape=obj.shape), method="average")
    assert np.abs(avg.object).max() <= np.abs(patches).max() + 1e-5  # convex combination


def test_valid_mask_follows_threshold():
    obj = _object()
    pos = _positions(False)
    patches = extract_object_patches(obj, pos, N)
    probe = _probe()
    for thr in (0.05, 0.5):
        st = reassemble(patches, pos, probe, config=InferenceConfig(valid_threshold=thr))
        median = np.median(st.weight[st.weight > 0])
        np.testing.assert_array_equal(st.valid, st.weight >= thr * median)
    loose = reassemble(patches, pos, probe, config=InferenceConfig(valid_threshold=0.05)).valid.sum()
    tight = reassemble(patches, pos, probe, config=InferenceConfig(valid_threshold=0.5)).valid.sum()
    assert loose > tight


def test_patch_weight_probe_and_window():
    probe = _probe() * 3
    w = patch_weight(probe)
    assert w.dtype == np.float32 and w.max() == pytest.approx(1.0)
    assert np.unravel_index(np.argmax(w), w.shape) == (N // 2, N // 2)
    win = patch_weight(probe, InferenceConfig(stitch_weight="window", stitch_window_px=8))
    assert win.sum() == 64 and win[N // 2, N // 2] == 1 and win[0, 0] == 0


def test_errors():
    pos = _positions(False)
    patches = np.ones((len(pos), N, N), np.complex64)
    with pytest.raises(ValueError, match="outside"):
        reassemble(patches, pos, _probe(), canvas=CanvasSpec(shape=(50, 50)))
    with pytest.raises(ValueError, match="positions"):
        reassemble(patches, pos[:-1], _probe())
    with pytest.raises(ValueError, match="integer"):
        Stitcher(patch_weight(_probe()), CanvasSpec(shape=(10, 10), origin=(0.5, 0.0)))


def test_stencil_operator_equals_dense_normal_matrix():
    """The stored (symmetric, five-map) stencil applies exactly ``A = sum_b E_b^T w E_b``."""
    n, H, W = 4, 12, 13
    rng = np.random.default_rng(3)
    pos = rng.uniform(3.0, 9.0, (5, 2))
    canvas = CanvasSpec(shape=(H, W))
    w = rng.uniform(0.1, 1.0, (n, n))
    st = Stitcher(w, canvas)
    st.add(np.zeros((len(pos), n, n), np.complex64), pos)
    # Dense E_b: column j = the patch cut from the j-th unit image.
    E = np.stack(
        [extract_object_patches(np.eye(H * W)[j].reshape(H, W), pos, n).reshape(len(pos), -1) for j in range(H * W)],
        axis=-1,
    ).real  # (B, n*n, H*W)
    A = np.einsum("bpi,p,bpj->ij", E, w.ravel(), E)
    x = rng.normal(size=(H, W)) + 1j * rng.normal(size=(H, W))
    xp = np.zeros((H + 2, W + 2), complex)
    xp[1:-1, 1:-1] = x
    got = st._apply(xp)[1:-1, 1:-1]
    np.testing.assert_allclose(got.ravel(), A @ x.ravel(), rtol=1e-5, atol=1e-6)  # E is float32
