"""The plugin module: small, hooks only, no framework import, capabilities that match its hooks."""

from __future__ import annotations

import inspect
import subprocess
import sys

from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, CAPABILITY_HOOKS
from ptychopinn_torch import _plugin


def test_plugin_module_is_at_most_80_lines() -> None:
    lines = inspect.getsource(_plugin).splitlines()
    assert len(lines) <= 80, len(lines)


def test_plugin_module_imports_no_framework() -> None:
    code = (
        "import sys, ptychopinn_torch._plugin as p; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'pytorch_lightning', "
        "'tensorflow', 'keras')); "
        "assert not bad, bad; info = p.PLUGIN.ptychopinn_backend_info(); assert info.name == 'pytorch'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


def test_capabilities_match_the_hooks() -> None:
    info = _plugin.PLUGIN.ptychopinn_backend_info()
    assert info.api_version == BACKEND_API_VERSION == (2, 0)
    assert info.capabilities == {"train", "infer", "refine", "physics_forward"}
    hooks = {name for name in dir(_plugin.PLUGIN) if name.startswith("ptychopinn_")}
    want = {CAPABILITY_HOOKS[c] for c in info.capabilities} | {"ptychopinn_backend_info", "ptychopinn_resolve_options"}
    assert hooks == want


def test_entry_point_is_discovered_by_core() -> None:
    from ptychopinn.api import get_backend

    handle = get_backend("pytorch")
    assert handle.name == "pytorch" and handle.capabilities == _plugin.CAPABILITIES
    assert get_backend("torch").name == "pytorch"
