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


# A numpy-test backend with a broken refinement operator: the real fixture plugin registered with a
# plugin manager of its own, plus one hookimpl object returning the reference operator with one bug.
_BROKEN_REFINEMENT_MODULE = '''
import dataclasses

import numpy as np
import pluggy
import pytest

from ptychopinn.plugins import hookimpl
from ptychopinn.plugins.backend import Backend
from ptychopinn.plugins.hookspecs import PROJECT_NAME, BackendSpec
from ptychopinn.plugins.registry import get_backend
from ptychopinn.refinement import NumpyRefinementOperator
from ptychopinn.testing import BackendConformance

BUGS = {
    "correct": lambda g: g,
    "conjugated": lambda g: dataclasses.replace(g, object_gradient=np.conj(g.object_gradient)),
    "mirrored": lambda g: dataclasses.replace(g, object_gradient=g.object_gradient[::-1]),
    "autograd_convention": lambda g: dataclasses.replace(g, probe_gradient=2 * g.probe_gradient),
    "position_sign": lambda g: dataclasses.replace(g, position_gradient=-g.position_gradient),
}


def backend_with(bug):
    class Operator(NumpyRefinementOperator):
        name = "numpy-test"

        def gradients(self, state, indices, *, probe=False, positions=False):
            return BUGS[bug](super().gradients(state, indices, probe=probe, positions=positions))

    class Hook:
        @hookimpl
        def ptychopinn_refinement_operator(self, problem, options):
            return Operator(problem)

    real = get_backend("numpy-test")
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(BackendSpec)
    pm.register(real.plugin)
    pm.register(Hook())
    return Backend(info=real.info, plugin=real.plugin, plugin_manager=pm, distribution=real.distribution,
                   version=real.version, entry_point=real.entry_point)


def conformance_for(bug):
    class Test(BackendConformance):
        backend_name = "numpy-test"

        @pytest.fixture(scope="class")
        def backend(self):
            return backend_with(bug)

    Test.__name__ = f"Test_{bug}"
    return Test


for _bug in BUGS:
    globals()[f"Test_{_bug}"] = conformance_for(_bug)
'''


def test_kit_fails_on_broken_refinement_operators(tmp_path: Path) -> None:
    """Conjugated, mirrored, doubled (autograd convention not undone) and sign-flipped gradients
    fail the refinement check; the same backend with the correct operator passes it."""
    module = tmp_path / "test_broken_refinement.py"
    module.write_text(_BROKEN_REFINEMENT_MODULE)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module), "-k", "test_numerics_refinement",
         "-rf"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "4 failed, 1 passed" in proc.stdout, out
    for bug in ("conjugated", "mirrored", "autograd_convention", "position_sign"):
        assert f"Test_{bug}::test_numerics_refinement_gradients_match_reference" in proc.stdout, out
