"""The proposed upstream change (``upstream/ptychodus-1.7.0-reconstructor-entry-points.patch``) works.

The patch is applied to a scratch copy of the *installed* Ptychodus package; its real ModelCore
is then constructed in a fresh interpreter with the copy first on ``sys.path``. Without this
distribution's plugin module the library is found through the entry point alone; with it, the
library is still listed once (the plugin sees it is there and steps aside).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PATCH = Path(__file__).parents[1] / "upstream" / "ptychodus-1.7.0-reconstructor-entry-points.patch"

_PROBE = """
import json, logging
import ptychodus
from ptychodus.model import ModelCore
model = ModelCore(None, log_level=logging.INFO)
keys = list(model.processing_core.processing_api.available_reconstructors())
print(json.dumps({"file": ptychodus.__file__, "keys": keys}))
"""


def _apply(target: Path) -> None:
    if shutil.which("patch"):
        command = ["patch", "-p2", "--batch", "--forward", "-d", str(target), "-i", str(PATCH)]
    elif shutil.which("git"):
        command = ["git", "apply", "-p2", f"--directory={target}", "--unsafe-paths", str(PATCH)]
    else:
        pytest.skip("neither patch nor git is installed")
    out = subprocess.run(command, capture_output=True, text=True, cwd=target)
    assert out.returncode == 0, (
        f"the upstream patch does not apply to the installed Ptychodus:\n{out.stdout}{out.stderr}"
    )


def _probe(scratch: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(scratch)}
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["file"].startswith(str(scratch)), result["file"]
    result["log"] = out.stdout + out.stderr
    return result


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    import ptychodus

    scratch = tmp_path_factory.mktemp("ptychodus-patched")
    shutil.copytree(
        Path(ptychodus.__file__).parent, scratch / "ptychodus", ignore=shutil.ignore_patterns("__pycache__")
    )
    _apply(scratch)
    return scratch


def test_patched_model_core_lists_the_library_through_the_entry_point_alone(patched):
    plugin = patched / "ptychodus" / "plugins" / "ptychopinn_next.py"
    saved = plugin.read_bytes()
    plugin.unlink()
    try:
        result = _probe(patched)
    finally:
        plugin.write_bytes(saved)
    ours = [k for k in result["keys"] if k.startswith("ptychopinn-next")]
    assert ours == ["ptychopinn-next_pinn", "ptychopinn-next_supervised"], result["keys"]
    assert 'Reconstructor library "PtychoPINN-Next" from ptychopinn_ptychodus.library' in result["log"]


def test_patched_model_core_with_the_plugin_lists_it_once(patched):
    result = _probe(patched)
    ours = [k for k in result["keys"] if k.startswith("ptychopinn-next")]
    assert ours == ["ptychopinn-next_pinn", "ptychopinn-next_supervised"], result["keys"]
    assert "Group already exists" not in result["log"] and "Skipping" not in result["log"]
