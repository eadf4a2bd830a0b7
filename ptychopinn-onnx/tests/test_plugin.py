"""The plugin module: small, hooks only, no onnx/onnxruntime (or any framework) at import; registered as 'onnx'."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import ptychopinn_onnx._plugin as plugin
from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, CAPABILITY_HOOKS


def test_plugin_module_is_at_most_80_lines() -> None:
    lines = Path(plugin.__file__).read_text().splitlines()
    assert len(lines) <= 80, f"_plugin.py has {len(lines)} lines"


def test_plugin_imports_no_runtime_or_framework() -> None:
    code = (
        "import sys, ptychopinn_onnx._plugin as p; p.PLUGIN.ptychopinn_backend_info(); "
        "p.PLUGIN.ptychopinn_resolve_options({'opset': 18}); "
        "print(','.join(m for m in ('onnx', 'onnxruntime', 'torch', 'tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_entry_point_names_the_plugin_module() -> None:
    (ep,) = [ep for ep in entry_points(group="ptychopinn.backends") if ep.name == "onnx"]
    assert ep.value == "ptychopinn_onnx._plugin:PLUGIN"
    assert ep.dist is not None and ep.dist.name == "ptychopinn-onnx"


def test_backend_info_declares_inference_and_export_only() -> None:
    info = plugin.PLUGIN.ptychopinn_backend_info()
    assert info.name == "onnx"
    assert info.api_version == (2, 0) and info.api_version[0] == BACKEND_API_VERSION[0]
    assert info.capabilities == frozenset({"infer", "export"})
    for capability in info.capabilities:  # every declared capability has its hook
        assert hasattr(plugin.PLUGIN, CAPABILITY_HOOKS[capability])
    assert not hasattr(plugin.PLUGIN, CAPABILITY_HOOKS["train"])
