"""Plugin module, discovery through the installed entry point, and options."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ptychopinn.errors import ConfigError
from ptychopinn_torch.options import TorchOptions, resolve_options


def test_plugin_module_imports_no_framework() -> None:
    code = (
        "import sys, ptychopinn_torch._plugin as p; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'pytorch_lightning', "
        "'tensorflow', 'keras')); "
        "assert not bad, bad; info = p.ptychopinn_backend_info(); assert info.name == 'pytorch'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


def test_entry_point_is_discovered_by_core() -> None:
    from ptychopinn.api import get_backend

    handle = get_backend("pytorch")
    assert handle.name == "pytorch"
    assert get_backend("torch").name == "pytorch"


def test_options_from_mapping_and_unknown_key() -> None:
    opts = resolve_options({"accelerator": "cpu", "devices": 2, "strategy": "ddp", "num_threads": 1})
    assert opts == TorchOptions(accelerator="cpu", devices=2, strategy="ddp", num_threads=1)
    assert opts.trainer_kwargs()["strategy"] == "ddp"
    with pytest.raises(ConfigError, match="'acclerator'"):
        resolve_options({"acclerator": "gpu"})
    with pytest.raises(ConfigError, match="num_workers"):
        TorchOptions(num_workers=-1)
    with pytest.raises(ConfigError):
        resolve_options(42)
    assert resolve_options(None) == TorchOptions()
