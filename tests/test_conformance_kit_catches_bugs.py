"""The conformance kit must be able to fail: each deliberate bug of the ``kitbugs-test`` fixture
backend (tests/fixtures/testbackend-kitbugs, one bug per ``PTYCHOPINN_KITBUG``) fails exactly the
kit tests meant to catch it, with a message that says what is wrong.

Each case runs the kit in a pytest subprocess (the bug is chosen when the plugin is imported).
The same backend without a bug passes the whole kit (tests/test_testbackend_conformance.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KIT_MODULE = '''
from ptychopinn.testing import BackendConformance


class TestKitbugs(BackendConformance):
    backend_name = "kitbugs-test"
'''

PHYSICS = ("test_physics_forward_matches_oracle[1]", "test_physics_forward_matches_oracle[2]",
           "test_physics_forward_adjoint")
ADJOINT_MESSAGE = "the linear part (probe multiply + centred FFT) is not the adjoint of the oracle's"
REFINE = ("test_refine_gradients_match_reference", "test_refine_object_gradient_directional_derivative")
REFINE_MESSAGES = ("refinement gradients differ from NumpyRefinementOperator: max relative errors object",
                   "object gradient fails the directional-derivative test")
CONFIGS = ("published-gridsize1", "published-gridsize2", "fast-gridsize1", "fast-gridsize2")

# bug -> (-k selection, the tests that must fail (and no other), message fragments that must appear)
CASES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "mirrored-physics": ("physics_forward", PHYSICS, ("it equals the oracle mirrored rows", ADJOINT_MESSAGE)),
    "transposed-physics": ("physics_forward", PHYSICS, ("it equals the oracle transposed", ADJOINT_MESSAGE)),
    "conjugated-physics": ("physics_forward", PHYSICS,
                           ("physics_forward differs from ptychopinn.physics.forward_amplitude", ADJOINT_MESSAGE)),
    "conjugated-gradient": ("refine", REFINE, REFINE_MESSAGES),
    "doubled-gradient": ("refine", REFINE, REFINE_MESSAGES),
    "sign-gradient": ("refine", REFINE, REFINE_MESSAGES),
    "mirrored-gradient": ("refine", REFINE, REFINE_MESSAGES),
    "stale-cache": ("infer_no_stale or infer_same or infer_matches", ("test_infer_no_stale_predictor_cache",),
                    ("stale predictor: the second model", "equals the FIRST model's output")),
    "batch-memo": ("infer_batch or infer_matches", tuple(f"test_infer_batch_size_independent[{c}]" for c in CONFIGS),
                   ("predictor output depends on the batch",)),
    "missing-hook": ("contract", ("test_contract_capabilities_match_hooks", "test_contract_core_loads_it"),
                     ("declares capability 'export' but does not implement ptychopinn_export",
                      "declares capabilities it does not implement: export needs ptychopinn_export")),
    "undeclared-capability": ("contract", ("test_contract_capabilities_match_hooks",),
                              ("implements ptychopinn_physics_forward but does not declare capability "
                               "'physics_forward'",)),
}


def _env(bug: str) -> dict[str, str]:
    return {**os.environ, "PTYCHOPINN_KITBUG": bug, "OMP_NUM_THREADS": "1"}


def _failed(stdout: str) -> set[str]:
    return {line.split("::")[-1].split(" - ")[0].strip() for line in stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))}


@pytest.mark.parametrize("bug", sorted(CASES))
def test_kit_catches(bug: str, tmp_path: Path) -> None:
    selection, must_fail, messages = CASES[bug]
    module = tmp_path / "test_kit_on_kitbugs.py"
    module.write_text(KIT_MODULE)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--tb=short", str(module),
         "-k", f"({selection}) or test_contract_metadata"],
        capture_output=True, text=True, env=_env(bug), timeout=600, cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert _failed(proc.stdout) == set(must_fail), out
    assert " passed" in proc.stdout, f"the selection must also hold tests that pass:\n{out}"  # a discriminating kit
    for message in messages:
        assert message in out, f"missing {message!r} in:\n{out}"


def test_check_backend_reports_the_failing_tier() -> None:
    """``check_backend`` (the kit without pytest) reports a sign-flipped gradient in the refine tier only."""
    code = (
        "import json\n"
        "from ptychopinn.testing import check_backend\n"
        "report = check_backend('kitbugs-test', tiers=('contract', 'physics_forward', 'refine'))\n"
        "print(json.dumps([[r.tier, r.name, r.status, r.message] for r in report.results]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env("sign-gradient"),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {(tier, name) for tier, name, status, _ in results if status == "failed"}
    assert failed == {("refine", "gradients_match_reference"), ("refine", "object_gradient_directional_derivative")}
    assert {status for tier, _, status, _ in results if tier != "refine"} == {"passed"}, results


def test_unknown_bug_name_is_refused() -> None:
    """A typo in PTYCHOPINN_KITBUG must not silently give a correct backend (these tests would then pass vacuously)."""
    code = "from ptychopinn_testbackend_kitbugs.bugs import bug; bug()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env("no-such-bug"),
                          timeout=120)
    assert proc.returncode != 0 and "PTYCHOPINN_KITBUG='no-such-bug'" in proc.stderr, proc.stderr
