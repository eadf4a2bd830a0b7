"""Framework import rules: the plugin module is framework-free; clear errors for a missing
TensorFlow and for Keras on another backend (fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys

_HIDE_TF = """
import importlib.abc, sys
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, _Hide())
"""


def _run(code: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def test_plugin_module_imports_no_framework():
    code = (
        "import json, sys, ptychopinn_tf._plugin\n"
        "print(json.dumps([m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules]))"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_missing_tensorflow_names_the_install_command():
    code = _HIDE_TF + (
        "from ptychopinn.errors import BackendLoadError\n"
        "try:\n    import ptychopinn_tf._plugin\nexcept BackendLoadError as e:\n    print('ERR', e)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert "ERR" in proc.stdout and 'pip install "ptychopinn-tf[cpu]"' in proc.stdout


def test_keras_on_another_backend_is_refused():
    import importlib.util

    import pytest

    if importlib.util.find_spec("torch") is None:
        pytest.skip("needs a second Keras backend installed (torch; present in the parity environment)")
    code = (
        "import os\nos.environ['KERAS_BACKEND'] = 'torch'\nimport keras\n"
        "from ptychopinn.errors import BackendLoadError\n"
        "from ptychopinn_tf._env import tf_keras\n"
        "try:\n    tf_keras()\nexcept BackendLoadError as e:\n    print('ERR', e)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert "ERR" in proc.stdout and "'torch' backend" in proc.stdout and "KERAS_BACKEND=tensorflow" in proc.stdout


def test_conflicting_keras_backend_variable_is_refused():
    code = (
        "from ptychopinn.errors import BackendLoadError\nfrom ptychopinn_tf._env import tf_keras\n"
        "try:\n    tf_keras()\nexcept BackendLoadError as e:\n    print('ERR', e)\n"
    )
    proc = _run(code, KERAS_BACKEND="jax")
    assert proc.returncode == 0, proc.stderr
    assert "ERR" in proc.stdout and "KERAS_BACKEND='jax'" in proc.stdout


def test_keras_is_put_on_tensorflow():
    code = "from ptychopinn_tf._env import tf_keras\ntf, keras = tf_keras()\nprint(keras.backend.backend())"
    env = {"KERAS_BACKEND": "tensorflow"}
    proc = _run(code, **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "tensorflow"
