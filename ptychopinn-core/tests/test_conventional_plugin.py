"""``conventional_plugin``: hooks of the declared capabilities only, validated by pluggy, lazy imports."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pluggy
import pytest

from ptychopinn.plugins.conventional import conventional_plugin
from ptychopinn.plugins.hookspecs import BACKEND_API_VERSION, PROJECT_NAME, BackendSpec
from ptychopinn.plugins.info import BackendInfo


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "conv_backend_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "options.py").write_text(textwrap.dedent("""
        def resolve_options(options):
            return {"resolved": options}
    """))
    (root / "predictor.py").write_text(textwrap.dedent("""
        def build_predictor(model, options):
            return ("predictor", model, options)
    """))
    (root / "physics.py").write_text(textwrap.dedent("""
        def forward_amplitude(patches, probe, offsets, *, object_big, log_scale):
            return patches * log_scale
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "conv_backend_pkg"
    for name in [m for m in sys.modules if m.startswith("conv_backend_pkg")]:
        del sys.modules[name]


def _info(*capabilities: str) -> BackendInfo:
    return BackendInfo(name="conv", api_version=BACKEND_API_VERSION, version="1", capabilities=frozenset(capabilities))


def test_only_declared_hooks_exist_and_pluggy_accepts_them(package: str) -> None:
    plugin = conventional_plugin(_info("infer", "physics_forward"), package=package)
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(BackendSpec)
    pm.register(plugin, name="conv")
    pm.check_pending()
    implemented = {name for name in dir(pm.hook) if not name.startswith("_") and getattr(pm.hook, name).get_hookimpls()}
    assert implemented == {"ptychopinn_backend_info", "ptychopinn_resolve_options", "ptychopinn_build_predictor",
                           "ptychopinn_physics_forward"}
    assert f"{package}.predictor" not in sys.modules  # nothing imported until a hook runs
    assert pm.hook.ptychopinn_backend_info().name == "conv"  # firstresult hooks
    assert pm.hook.ptychopinn_build_predictor(model="m", options=3) == ("predictor", "m", {"resolved": 3})
    out = pm.hook.ptychopinn_physics_forward(object_patches=np.ones(2), probe=None, offsets=None, object_big=True,
                                             log_scale=2.0)
    np.testing.assert_array_equal(out, [2.0, 2.0])


def test_without_options_module_and_unknown_capability(package: str) -> None:
    plugin = conventional_plugin(_info("infer"), package=package, options=False)
    assert not hasattr(plugin, "ptychopinn_resolve_options")
    assert plugin.ptychopinn_build_predictor(model="m", options=None) == ("predictor", "m", None)
    with pytest.raises(ValueError, match="unknown capabilities \\['teleport'\\]"):
        conventional_plugin(_info("teleport"), package=package)
