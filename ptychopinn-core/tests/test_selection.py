"""The backend selection rule: explicit -> config -> environment -> only installed -> tensorflow -> error."""

from __future__ import annotations

import pytest
from _plugin_helpers import registry  # noqa: F401  (fixture)

from ptychopinn.errors import BackendError, BackendNotInstalledError
from ptychopinn.plugins.registry import refresh_backends
from ptychopinn.plugins.selection import select_backend_name

pytestmark = pytest.mark.usefixtures("registry")


def test_explicit_beats_config_and_environment() -> None:
    env = {"PTYCHOPINN_BACKEND": "tensorflow"}
    assert select_backend_name("torch", config_backend="numpy-test", env=env) == "pytorch"


def test_config_beats_environment() -> None:
    assert select_backend_name(None, config_backend="tf", env={"PTYCHOPINN_BACKEND": "numpy-test"}) == "tensorflow"


def test_environment_beats_installed() -> None:
    assert select_backend_name(None, env={"PTYCHOPINN_BACKEND": "Torch"}, installed=["numpy-test"]) == "pytorch"


def test_only_installed_backend_is_used() -> None:
    assert select_backend_name(None, env={}, installed=["numpy-test"]) == "numpy-test"


def test_tensorflow_when_several_are_installed() -> None:
    assert select_backend_name(None, env={}, installed=["pytorch", "tensorflow"]) == "tensorflow"


def test_several_installed_without_tensorflow_is_an_error() -> None:
    with pytest.raises(BackendError, match="Several backends are installed") as info:
        select_backend_name(None, env={}, installed=["numpy-test", "pytorch"])
    assert "numpy-test, pytorch" in str(info.value)


def test_nothing_installed_lists_what_to_install() -> None:
    with pytest.raises(BackendNotInstalledError) as info:
        select_backend_name(None, env={}, installed=[])
    message = str(info.value)
    assert "pip install ptychopinn-tf" in message and "pip install ptychopinn-torch" in message


def test_installed_list_comes_from_metadata_and_respects_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    from ptychopinn.plugins.registry import installed_backends

    others = ",".join(name for name in installed_backends() if name != "numpy-test")  # every other fixture backend
    monkeypatch.setenv("PTYCHOPINN_DISABLE_BACKENDS", others)
    refresh_backends()
    assert select_backend_name(None, env={}) == "numpy-test"
    monkeypatch.setenv("PTYCHOPINN_DISABLE_BACKENDS", "broken-test")
    refresh_backends()
    with pytest.raises(BackendError, match="none is selected"):
        select_backend_name(None, env={})
