"""``reconstruction.npz``: core's writer and reader agree, and the reader refuses what is broken, naming the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ptychopinn.data.npz import write_npz
from ptychopinn.data.reconstruction_file import read_reconstruction, write_reconstruction
from ptychopinn.errors import ScanDataError


def _result():  # type: ignore[no-untyped-def]
    from ptychopinn.api import Reconstruction
    from ptychopinn.physics.normalisation import Normalisation
    from ptychopinn.refinement.consistency import DataConsistency
    from ptychopinn.results import CanvasSpec, StitchedObject

    rng = np.random.default_rng(0)
    obj = (rng.random((40, 50)) * np.exp(1j * rng.random((40, 50)))).astype(np.complex64)
    stitched = StitchedObject(object=obj, weight=rng.random((40, 50)).astype(np.float32),
                              valid=rng.random((40, 50)) > 0.3, canvas=CanvasSpec(shape=(40, 50), origin=(3.0, -2.0)))
    consistency = DataConsistency(poisson_deviance=rng.random(7), amplitude_error=rng.random(7))
    return Reconstruction(object=stitched, backend="numpy-test-alt", model_backend="numpy-test",
                          normalisation=Normalisation(N=64, mean_counts=1e4), n_groups=7, wall_time_s=0.1,
                          refined_positions=rng.random((7, 2)) * 10, consistency={"network": consistency})


def test_round_trip(tmp_path: Path) -> None:
    result = _result()
    back = read_reconstruction(write_reconstruction(tmp_path / "reconstruction.npz", result))
    np.testing.assert_array_equal(back.object, result.object.object)
    np.testing.assert_array_equal(back.weight, result.object.weight)
    np.testing.assert_array_equal(back.valid, result.object.valid)
    assert back.canvas_origin == (3.0, -2.0)
    assert back.backend == "numpy-test-alt" and back.model_backend == "numpy-test"
    np.testing.assert_array_equal(back.positions, result.refined_positions)
    np.testing.assert_array_equal(back.pattern_deviance, result.consistency["network"].poisson_deviance)
    assert back.probe is None and back.network_object is None
    assert back.stitched().canvas.origin == (3.0, -2.0)


@pytest.mark.parametrize(("edit", "key"), [
    (lambda a: a.pop("object"), "'object'"),
    (lambda a: a.update(weight=np.ones((3, 3), np.float32)), "'weight'"),
    (lambda a: a["positions"].__setitem__((0, 0), np.nan), "'positions'"),
    (lambda a: a.update(canvas_origin=np.zeros(3)), "'canvas_origin'"),
    (lambda a: a.update(object=np.ones(5, np.complex64)), "'object'"),
])
def test_broken_files_are_refused_naming_the_key(tmp_path: Path, edit, key: str) -> None:  # type: ignore[no-untyped-def]
    good = write_reconstruction(tmp_path / "good.npz", _result())
    with np.load(good) as npz:
        arrays = {k: np.array(npz[k]) for k in npz.files}
    edit(arrays)
    write_npz(tmp_path / "bad.npz", arrays)
    with pytest.raises(ScanDataError, match=key) as info:
        read_reconstruction(tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value)
