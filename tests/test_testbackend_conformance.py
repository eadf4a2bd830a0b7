"""The conformance kit run end to end on installed numpy fixture backends (real distributions).

``numpy-test`` (tests/fixtures/testbackend) is the reference fixture; ``kitbugs-test``
(tests/fixtures/testbackend-kitbugs) without ``PTYCHOPINN_KITBUG`` is the bug-free control of
tests/test_conformance_kit_catches_bugs.py: every check that fails there passes here.
"""

from __future__ import annotations

import os

import pytest

from ptychopinn.testing import BackendConformance, check_backend


class TestNumpyTestBackendConformance(BackendConformance):
    backend_name = "numpy-test"


@pytest.mark.skipif(bool(os.environ.get("PTYCHOPINN_KITBUG")), reason="PTYCHOPINN_KITBUG selects a broken backend")
class TestKitbugsControlConformance(BackendConformance):
    backend_name = "kitbugs-test"


@pytest.mark.skipif(bool(os.environ.get("PTYCHOPINN_KITBUG")), reason="PTYCHOPINN_KITBUG selects a broken backend")
def test_check_backend_passes_the_control() -> None:
    report = check_backend("kitbugs-test", tiers=("contract", "infer", "physics_forward", "refine", "export"))
    assert report.ok, report.summary()
    assert report.capabilities == {"infer", "physics_forward", "refine", "export"}
    skipped = {r.tier for r in report.results if r.status == "skipped"}
    assert skipped == set(), report.summary()
    assert {r.tier for r in report.results} == {"contract", "infer", "physics_forward", "refine", "export"}
