"""TensorFlow/Keras import rules of ``_env.tf_keras`` (fresh interpreters): Keras on another
backend is refused, Keras is put on TensorFlow. (Plugin import rules: test_plugin.py.)"""

from __future__ import annotations

import subprocess
import sys

def _run(code: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


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
