"""`import ptychopinn` stays cheap and framework-free; listing backends imports no plugin or framework."""

from __future__ import annotations

import json

from _plugin_helpers import run_python

FRAMEWORKS = ["tensorflow", "keras", "torch", "lightning", "jax"]


def test_import_ptychopinn_loads_no_framework_and_nothing_heavy() -> None:
    proc = run_python(
        "import json, sys, ptychopinn\n"
        f"print(json.dumps(sorted(m for m in {FRAMEWORKS + ['numpy', 'scipy', 'matplotlib', 'pluggy']!r} "
        "if m in sys.modules)))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_list_backends_and_missing_backend_error_load_no_framework() -> None:
    proc = run_python(
        "import json, sys, ptychopinn\n"
        "ptychopinn.list_backends()\n"
        "try:\n    ptychopinn.get_backend('pytorch')\nexcept ptychopinn.PtychoPINNError as e:\n    msg = str(e)\n"
        f"print(json.dumps([msg, sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)]))\n"
    )
    assert proc.returncode == 0, proc.stderr
    msg, loaded = json.loads(proc.stdout)
    assert loaded == [] and "pip install ptychopinn-torch" in msg


def test_public_names_resolve_lazily() -> None:
    import ptychopinn

    for name in ptychopinn.__all__:
        assert getattr(ptychopinn, name) is not None, name
