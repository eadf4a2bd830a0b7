"""The conformance kit must be able to fail: a backend with a mirrored physics convention is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_kit_fails_on_a_mirrored_forward_model() -> None:
    env = {**os.environ, "PTYCHOPINN_TESTBACKEND_MIRRORED_PHYSICS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / "test_testbackend_conformance.py"),
         "-k", "physics_forward"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed" in proc.stdout, proc.stdout
