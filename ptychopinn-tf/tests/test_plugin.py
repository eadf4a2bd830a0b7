"""The plugin module: small, hooks only, framework-free, capabilities = implemented hooks (API 2.0)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest
import ptychopinn
from ptychopinn.errors import ConfigError
from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, CAPABILITY_HOOKS

from ptychopinn_tf import _plugin
from ptychopinn_tf.options import TFOptions


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def test_plugin_module_is_at_most_80_lines():
    assert len(inspect.getsource(_plugin).splitlines()) <= 80


def test_capabilities_are_exactly_the_implemented_hooks():
    info = _plugin.PLUGIN.ptychopinn_backend_info()
    assert info.name == "tensorflow" and info.api_version == BACKEND_API_VERSION == (2, 0)
    assert info.capabilities == {"train", "infer", "refine", "physics_forward"}
    hooks = {name for name in dir(_plugin.PLUGIN) if name.startswith("ptychopinn_")}
    assert hooks == {CAPABILITY_HOOKS[c] for c in info.capabilities} | {
        "ptychopinn_backend_info",
        "ptychopinn_resolve_options",
    }
    backend = ptychopinn.get_backend("tensorflow")
    assert backend.capabilities == info.capabilities


def test_resolve_options_hook_accepts_mappings_and_names_unknown_keys():
    resolved = _plugin.PLUGIN.ptychopinn_resolve_options({"precision": "mixed_bfloat16"})
    assert resolved == TFOptions(precision="mixed_bfloat16")
    assert _plugin.PLUGIN.ptychopinn_resolve_options(None) == TFOptions()
    with pytest.raises(ConfigError, match="'precison'"):
        _plugin.PLUGIN.ptychopinn_resolve_options({"precison": "float32"})


def test_plugin_module_imports_no_framework():
    code = (
        "import json, sys, ptychopinn_tf._plugin, ptychopinn\n"
        "ptychopinn.get_backend('tensorflow')\n"
        "print(json.dumps([m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules]))"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_missing_tensorflow_names_the_install_command():
    hide = (
        "import importlib.abc, sys\n"
        "class _Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tensorflow' or name.startswith('tensorflow.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    code = hide + (
        "from ptychopinn.errors import BackendLoadError\n"
        "try:\n    import ptychopinn_tf._plugin\nexcept BackendLoadError as e:\n    print('ERR', e)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert "ERR" in proc.stdout and 'pip install "ptychopinn-tf[cpu]"' in proc.stdout


def test_physics_forward_hook_returns_float32_amplitudes(rng):
    import numpy as np
    from ptychopinn import physics

    obj = np.exp(1j * rng.normal(size=(2, 1, 64, 64))).astype(np.complex64)
    probe = physics.normalise_probe(physics.probe_disk_mask(64), reference_transmission=0.6)
    got = _plugin.PLUGIN.ptychopinn_physics_forward(obj, probe, None, True, 0.3)
    ref = physics.forward_amplitude(obj, probe, None, log_scale=0.3)
    assert got.dtype == np.float32 and got.shape == (2, 1, 64, 64)
    assert np.max(np.abs(got - ref)) <= 1e-5 * np.max(ref)
