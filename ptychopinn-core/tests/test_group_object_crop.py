"""``group_object`` merges on an N x N canvas: exactly the centre of the full group canvas."""

from __future__ import annotations

import numpy as np
import pytest

from ptychopinn.physics import group_object
from ptychopinn.physics.overlap import canvas_size_for, crop_center, merge_patches


@pytest.mark.parametrize("reach", [0.3, 7.5, 40.0])
def test_group_object_is_the_centre_of_the_full_merge(reach: float) -> None:
    rng = np.random.default_rng(3)
    patches = (rng.standard_normal((6, 4, 32, 32)) + 1j * rng.standard_normal((6, 4, 32, 32))).astype(np.complex64)
    offsets = rng.uniform(-reach, reach, (6, 4, 2))
    full, _ = merge_patches(patches, offsets, canvas_size=canvas_size_for(offsets, 32) + 8)
    np.testing.assert_allclose(group_object(patches, offsets), crop_center(full, 32), atol=1e-6)
    single = group_object(patches[:, :1], offsets, object_big=False)
    np.testing.assert_array_equal(single, patches[:, 0])
