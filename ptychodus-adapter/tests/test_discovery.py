"""The ``ptychodus.reconstructor_libraries`` entry point: contract checks and no framework in the parent."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from importlib.metadata import entry_points

from ptychodus.api.reconstruct import ReconstructorLibrary, TrainableReconstructor
from ptychodus.api.settings import SettingsRegistry

GROUP = "ptychodus.reconstructor_libraries"
BUILT_IN_NAMES = ["pty-chi", "PtychoNN", "PtychoPINN", "PtychoPINN-Torch", "PtychoFM"]
BUILT_IN_GROUPS = {
    "PtychoPINNModel",
    "PtychoPINNTraining",
    "PtychoPINNInference",
    "PtychoPINNTorchData",
    "PtychoPINNTorchModel",
    "PtychoPINNTorchTraining",
    "PtychoPINNTorchInference",
    "PtychoFM",
}


def discover(settings_registry: SettingsRegistry, is_developer_mode_enabled: bool, builtin_names: list[str]):
    """Construct the libraries of the entry-point group the way the upstream patch does (names checked).

    Ptychodus's own ModelCore, patched, is exercised in ``test_upstream_patch.py``; stock 1.7 in
    ``test_stock_ptychodus.py``. This keeps the fast checks of the entry point's contract.
    """
    libraries: list[ReconstructorLibrary] = []
    names = {name.casefold() for name in builtin_names}
    for ep in entry_points(group=GROUP):
        try:
            library = ep.load()(settings_registry, is_developer_mode_enabled)
        except Exception:
            logging.getLogger(__name__).exception("entry point %s failed", ep.value)
            continue
        if (
            isinstance(library, ReconstructorLibrary)
            and "_" not in library.name
            and library.name.casefold() not in names
        ):
            libraries.append(library)
            names.add(library.name.casefold())
    return libraries


def test_entry_point_is_discovered_and_accepted():
    registry = SettingsRegistry()
    libraries = discover(registry, False, BUILT_IN_NAMES)
    ours = [lib for lib in libraries if lib.name == "PtychoPINN-Next"]
    assert len(ours) == 1
    library = ours[0]
    reconstructors = list(library)
    assert [r.name for r in reconstructors] == ["PINN", "Supervised"]
    assert all(isinstance(r, TrainableReconstructor) for r in reconstructors)
    # Ptychodus's algorithm keys split on the first "_"
    keys = [f"{library.name.casefold()}_{r.name.casefold()}" for r in reconstructors]
    assert keys == ["ptychopinn-next_pinn", "ptychopinn-next_supervised"]
    assert all(key.split("_", 1)[0] == library.name.casefold() for key in keys)
    groups = set(registry)
    assert {"PtychoPINNNextModel", "PtychoPINNNextTraining", "PtychoPINNNextInference"} <= groups
    assert not groups & BUILT_IN_GROUPS


def test_constructing_twice_on_one_registry_is_rejected_not_silently_merged():
    registry = SettingsRegistry()
    assert len(discover(registry, False, BUILT_IN_NAMES)) == 1
    assert discover(registry, False, BUILT_IN_NAMES) == []  # duplicate settings groups -> skipped with a log


def test_discovery_and_parent_side_work_import_no_framework(tmp_path):
    """In a fresh interpreter: discover, read settings into configs, export training data -> no framework."""
    script = f"""
import json, sys
import numpy as np
sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
from helpers import make_product, metres_for_object_pixels
from ptychodus.api.reconstruct import ReconstructInput
from ptychodus.api.settings import SettingsRegistry
from test_discovery import discover, BUILT_IN_NAMES
library = discover(SettingsRegistry(), False, BUILT_IN_NAMES)[0]
pinn = list(library)[0]
library.settings.model_config(model_type="pinn", N=64)
library.settings.training_config()
library.settings.inference_config()
x_m, y_m = metres_for_object_pixels(np.array([40.0, 50.0]), np.array([40.0, 45.0]), (100, 100))
product = make_product(np.ones((100, 100), complex), np.ones((64, 64), complex), x_m, y_m)
pinn.export_training_data({str(tmp_path / "export.npz")!r},
    ReconstructInput(np.ones((2, 64, 64)), np.zeros((64, 64), bool), product))
heavy = [m for m in ("torch", "tensorflow", "keras", "lightning", "jax", "ptychopinn_torch", "ptychopinn_tf")
         if m in sys.modules]
print(json.dumps({{"heavy": heavy, "ptychodus_model": "ptychodus.model" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"heavy": [], "ptychodus_model": False}
    assert (tmp_path / "export.npz").is_file()
