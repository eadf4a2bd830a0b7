"""Gridsize 2: groups stay independent at any batch size, and nothing is mirrored."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import asymmetric_object, group

from ptychopinn.config import InferenceConfig, ModelConfig, TrainingConfig
from ptychopinn.physics import estimate_normalisation, far_field_amplitude, normalise_probe, probe_disk_mask
from ptychopinn.results import TrainedModel
from ptychopinn_torch import physics as tp
from ptychopinn_torch.inference import infer
from ptychopinn_torch.network import PtychoPINNNet
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.weights import state_to_weights

N = 64


def _true_groups(grid: int = 7, step: int = 6):
    """True object patches of a raster scan over an asymmetric object, grouped 2x2."""
    size = N + (grid - 1) * step + 8
    obj = asymmetric_object(size, size, seed=3)
    pos, patches = [], []
    for gy in range(grid):
        for gx in range(grid):
            x, y = N // 2 + 4 + gx * step, N // 2 + 4 + gy * step
            pos.append((x, y))
            patches.append(obj[y - N // 2 : y + N // 2, x - N // 2 : x + N // 2])
    pos = np.asarray(pos, dtype=np.float64)
    patches = np.asarray(patches)
    g = group(np.zeros((len(pos), N, N), np.float32), pos, 2, grid=grid)
    return obj, patches, g


def test_consistent_patches_reproduce_their_diffraction_and_centre() -> None:
    """True member patches merged at +offset and re-extracted give back the true physics.

    With the merge sign mirrored (or offsets in (row, col) order), the canvas would mix
    inconsistent content and both checks below fail.
    """
    obj, patches, g = _true_groups()
    probe = normalise_probe(probe_disk_mask(N, radius=N / 4 - 1).astype(np.complex64), reference_transmission=0.6)
    obj_p = torch.from_numpy(patches[g.indices])  # (B, 4, N, N)
    off = torch.from_numpy(g.offsets)
    want = far_field_amplitude(probe * patches[g.indices])
    got = tp.forward_amplitude(obj_p, torch.from_numpy(probe), off).numpy()
    assert np.max(np.abs(got - want)) / np.max(want) < 1e-4
    centre = tp.group_object(obj_p, off).numpy()
    lo, hi = N // 4 + 4, 3 * N // 4 - 4  # covered by the members' central windows
    for b, (cx, cy) in enumerate(g.centres):
        x0, y0 = int(round(cx)) - N // 2, int(round(cy)) - N // 2
        truth = obj[y0 : y0 + N, x0 : x0 + N]
        # group centres are at half pixels: compare against the truth moved by half a pixel
        sub = tp.translate(torch.from_numpy(truth[None]), torch.tensor([[round(cx) - cx, round(cy) - cy]])).numpy()[0]
        err = np.abs(centre[b, lo:hi, lo:hi] - sub[lo:hi, lo:hi]).max()
        mirrored = np.abs(centre[b, lo:hi, lo:hi] - sub[lo:hi, lo:hi][::-1, ::-1]).max()
        assert err < 1e-4, err
        assert mirrored > 0.1


def test_mirrored_offsets_would_be_detected() -> None:
    """The check above can fail: flipping the offset sign breaks it."""
    obj, patches, g = _true_groups()
    probe = normalise_probe(probe_disk_mask(N, radius=N / 4 - 1).astype(np.complex64), reference_transmission=0.6)
    want = far_field_amplitude(probe * patches[g.indices])
    got = tp.forward_amplitude(
        torch.from_numpy(patches[g.indices]), torch.from_numpy(probe), torch.from_numpy(-g.offsets)
    ).numpy()
    assert np.max(np.abs(got - want)) / np.max(want) > 1e-2


@pytest.mark.parametrize("batch", [1, 3, 16, 40])
def test_groups_independent_at_any_batch_size_in_physics(batch: int) -> None:
    rng = np.random.default_rng(0)
    B = 40  # 40 x 4 = 160 >= 64: the size at which the published code merged a whole minibatch
    shape = (B, 4, N, N)
    obj_p = torch.from_numpy((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64))
    off = torch.from_numpy(rng.uniform(-5, 5, (B, 4, 2)).astype(np.float32))
    probe = torch.from_numpy(normalise_probe(np.ones((N, N), np.complex64), reference_transmission=0.6))
    single = torch.cat([tp.forward_amplitude(obj_p[i : i + 1], probe, off[i : i + 1]) for i in range(B)])
    batched = torch.cat(
        [tp.forward_amplitude(obj_p[i : i + batch], probe, off[i : i + batch]) for i in range(0, B, batch)]
    )
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)
    # and group 0's output does not depend on the other groups' content
    O2 = obj_p.clone()
    O2[1:] = 0
    torch.testing.assert_close(tp.forward_amplitude(O2, probe, off)[0], single[0], rtol=1e-5, atol=1e-5)


def test_infer_groups_independent_of_batch_size(small_scan) -> None:
    diff, pos, probe, _ = small_scan
    g = group(diff, pos, 2, grid=6)
    cfg = ModelConfig(gridsize=2, n_filters_scale=1)
    torch.manual_seed(0)
    model = TrainedModel(
        backend="pytorch",
        backend_version="test",
        model_config=cfg,
        training_config=TrainingConfig(),
        normalisation=estimate_normalisation(diff),
        probe=probe,
        weights=state_to_weights(PtychoPINNNet(cfg)),
    )
    opts = TorchOptions(num_threads=1)
    one = infer(model, g, InferenceConfig(batch_size=1), opts).patches
    many = infer(model, g, InferenceConfig(batch_size=64), opts).patches
    assert g.n_groups * 4 >= 64
    np.testing.assert_allclose(many, one, rtol=1e-4, atol=1e-5)
    assert not np.allclose(one[0], one[1])


def test_gridsize2_reconstruction_pipeline_is_not_mirrored() -> None:
    """Group objects (torch) at the group centres, stitched by core, give the asymmetric truth back.

    This is the inference path of a perfect gridsize-2 network: infer's group_object + the
    positions it reports + core's stitcher. A mirrored merge, swapped (x, y) or a sign error
    in the offsets makes the stitched object disagree with the truth.
    """
    from ptychopinn.results import CanvasSpec
    from ptychopinn.stitching import reassemble

    obj, patches, g = _true_groups()
    probe = probe_disk_mask(N, radius=N / 4 - 1).astype(np.complex64)
    member = torch.from_numpy(patches[g.indices])
    centre = tp.group_object(member, torch.from_numpy(g.offsets)).numpy()
    stitched = reassemble(centre, g.centres, probe, canvas=CanvasSpec(shape=obj.shape))
    v = stitched.valid
    assert v.sum() > 500
    err = np.abs(stitched.object - obj)[v]
    assert float(err.max()) < 2e-2, float(err.max())
    mirrored = np.abs(stitched.object - obj[::-1, ::-1])[v]
    transposed = np.abs(stitched.object - obj.T)[v]
    assert float(mirrored.mean()) > 0.1 and float(transposed.mean()) > 0.05
    # negative control: the same pipeline with a mirrored merge (offsets negated) is far off
    bad = tp.group_object(member, torch.from_numpy(-g.offsets)).numpy()
    wrong = reassemble(bad, g.centres, probe, canvas=CanvasSpec(shape=obj.shape))
    assert float(np.abs(wrong.object - obj)[v].max()) > 10 * float(err.max())
