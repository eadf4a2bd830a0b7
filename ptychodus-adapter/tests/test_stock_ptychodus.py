"""Stock Ptychodus 1.7 (no file of it modified) finds the PtychoPINN-Next reconstructors after a pip install.

Ptychodus's real ``ModelCore`` is constructed; discovery goes through the module this
distribution installs into Ptychodus's ``ptychodus.plugins`` namespace package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
from helpers import ptychodus_settings

KEYS = ["ptychopinn-next_pinn", "ptychopinn-next_supervised"]


def _model_core(settings_file: Path | None = None):
    from ptychodus.model import ModelCore

    return ModelCore(settings_file, log_level=logging.WARNING)


def test_no_file_of_ptychodus_is_modified_and_the_plugin_module_is_ours():
    """Every file Ptychodus installed still has its RECORD hash; the plugin module belongs to this distribution."""
    ptychodus = distribution("ptychodus")
    checked = 0
    for file in ptychodus.files or []:
        if file.hash is None or file.hash.mode != "sha256":
            continue
        data = Path(file.locate()).read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == file.hash.value, f"Ptychodus file {file} was modified"
        checked += 1
    assert checked > 100
    ours = {str(f) for f in distribution("ptychopinn-ptychodus").files or []}
    assert "ptychodus/plugins/ptychopinn_next.py" in ours


def test_real_model_core_lists_the_reconstructors():
    model = _model_core()
    api = model.processing_core.processing_api
    available = list(api.available_reconstructors())
    assert [k for k in available if k.startswith("ptychopinn-next")] == KEYS
    groups = set(model.settings_registry)
    assert {"PtychoPINNNextModel", "PtychoPINNNextTraining", "PtychoPINNNextInference"} <= groups
    api.set_reconstructor_if_provided("ptychopinn-next_pinn")
    assert api.is_reconstructor_trainable()
    assert api.get_model_file_extension() == ".ptychopinn.zip"
    assert model.plugin_registry.product_file_readers.find_plugin("PtychoPINNScan") is not None


def test_algorithm_setting_selects_our_reconstructor_and_an_unknown_one_fails_loudly(tmp_path, caplog):
    from ptychopinn_ptychodus.integration import UnknownAlgorithmError

    ptychodus_settings(tmp_path / "ok.ini", "PtychoPINN-Next_Supervised")
    model = _model_core(tmp_path / "ok.ini")
    assert model.processing_core.algorithm_parameter.get_value() == "ptychopinn-next_supervised"

    ptychodus_settings(tmp_path / "typo.ini", "ptychopinn-next_pinnn")
    with caplog.at_level(logging.ERROR):
        model = _model_core(tmp_path / "typo.ini")
    assert "[Processing] Algorithm = 'ptychopinn-next_pinnn'" in caplog.text
    with pytest.raises(UnknownAlgorithmError, match="Did you mean 'ptychopinn-next_pinn'") as info:
        model.processing_core.processing_api.train(tmp_path, tmp_path, product_index=0)
    assert "ptychopinn-next_supervised" in str(info.value)
    # choosing a valid algorithm (as the GUI's combo box does) clears it
    model.processing_core.algorithm_parameter.set_value("ptychopinn-next_pinn")
    with pytest.raises(RuntimeError, match="no associated diffraction dataset"):  # past the check: no data loaded
        model.processing_core.processing_api.train(tmp_path, tmp_path, product_index=0)


_UNSUPPORTED = """
import json, logging, sys
import ptychopinn_ptychodus.integration as integration
integration.SUPPORTED_PTYCHODUS = ((9, 9),)
from ptychodus.model import ModelCore
model = ModelCore(None, log_level=logging.WARNING)
keys = list(model.processing_core.processing_api.available_reconstructors())
print(json.dumps({"keys": keys}))
"""


def test_an_unrecognised_ptychodus_version_gets_a_warning_not_a_crash():
    out = subprocess.run([sys.executable, "-c", _UNSUPPORTED], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "not a version this adapter recognises" in out.stdout + out.stderr
    assert "ptychopinn-next_pinn" not in json.loads(out.stdout.strip().splitlines()[-1])["keys"]


def test_a_failed_training_reaches_the_log_ptychodus_shows_in_its_processing_view(tmp_path):
    """The GUI's processing view prints the task monitor's log handler; the error must be there."""
    from helpers import write_tiny_scan

    from ptychopinn_ptychodus.batch_input import write_batch_inputs

    scan_file, _ = write_tiny_scan(tmp_path / "scan.npz", n_patterns=16)
    paths = write_batch_inputs(scan_file, tmp_path / "data")
    ptychodus_settings(
        paths["settings"],
        "ptychopinn-next_pinn",
        PtychoPINNNextModel={"GridSize": 2},
        PtychoPINNNextTraining={"NumNeighbors": 1},
    )
    with _model_core(paths["settings"]) as model:
        diffraction = model.workflow_api.load_assembled_diffraction_data(paths["diffraction"])
        product = model.workflow_api.load_product(paths["product"], diffraction=diffraction)
        api = model.processing_core.processing_api
        shown = list(api.task_monitor.get_log_handler().messages())  # drain what start-up logged
        with pytest.raises(Exception, match="NumNeighbors = 1"):
            api.train(tmp_path / "data", tmp_path / "data", product_index=product.get_product_index(), block=True)
        shown = list(api.task_monitor.get_log_handler().messages())
    assert any("[PtychoPINNNextTraining] NumNeighbors = 1" in line and "[ERROR]" in line for line in shown), shown
