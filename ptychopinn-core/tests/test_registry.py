"""Discovery, loading and the typed errors of the backend registry, on real installed distributions."""

from __future__ import annotations

import json

import pytest
from _plugin_helpers import registry, run_python  # noqa: F401  (fixture)

from ptychopinn.errors import (
    BackendError,
    BackendIncompatibleError,
    BackendLoadError,
    BackendNotInstalledError,
    DuplicateBackendError,
    PtychoPINNError,
    UnknownBackendError,
)
from ptychopinn.plugins import BACKEND_API_VERSION, BackendInfo
from ptychopinn.plugins.registry import get_backend, list_backends, refresh_backends

pytestmark = pytest.mark.usefixtures("registry")


def _status(name: str):  # type: ignore[no-untyped-def]
    return {s.name: s for s in list_backends()}[name]


def test_listing_reads_metadata_only_and_imports_no_plugin() -> None:
    proc = run_python(
        "import json, sys, ptychopinn\n"
        "rows = ptychopinn.list_backends()\n"
        "print(json.dumps({'names': [r.name for r in rows], 'statuses': {r.name: r.status for r in rows},\n"
        "  'plugins': sorted(m for m in sys.modules if m.startswith('ptychopinn_testbackend')),\n"
        "  'frameworks': sorted(m for m in ('tensorflow','keras','torch','lightning') if m in sys.modules)}))\n"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"numpy-test", "numpy-test-alt", "broken-test", "dup-test", "tensorflow", "pytorch"} <= set(out["names"])
    assert out["plugins"] == []  # nothing imported, not even the broken plugin
    assert out["frameworks"] == []
    assert out["statuses"]["numpy-test"] == "available"
    assert out["statuses"]["pytorch"] == "not installed"
    assert out["statuses"]["dup-test"] == "duplicate"


def test_test_backend_is_discovered_through_its_entry_point_and_loads() -> None:
    row = _status("numpy-test")
    assert row.installed and row.distribution == "ptychopinn-testbackend" and row.version == "0.1.0"
    assert row.entry_point == "ptychopinn_testbackend.plugin"
    backend = get_backend("numpy-test")
    assert backend.name == "numpy-test" and isinstance(backend.info, BackendInfo)
    assert backend.info.api_version == BACKEND_API_VERSION
    assert backend.distribution == "ptychopinn-testbackend"
    assert get_backend("NUMPY-TEST ") is backend  # normalised name, cached handle
    assert _status("numpy-test").status == "loaded" and _status("numpy-test").api_version == BACKEND_API_VERSION


def test_object_plugin_registered_by_attribute_loads() -> None:
    backend = get_backend("numpy-test-alt")
    assert backend.entry_point == "ptychopinn_testbackend.alt:PLUGIN"
    assert backend.capabilities == {"infer", "export"} and backend.supports("infer") and not backend.supports("train")
    assert backend.implements("ptychopinn_build_predictor") and not backend.implements("ptychopinn_train")
    assert get_backend("numpy-test").capabilities == {"train", "infer", "physics_forward"}


def test_refresh_backends_forgets_loaded_handles() -> None:
    first = get_backend("numpy-test")
    refresh_backends()
    assert _status("numpy-test").status == "available"
    assert get_backend("numpy-test") is not first


@pytest.mark.parametrize(
    ("requested", "canonical", "command"),
    [("pytorch", "pytorch", "pip install ptychopinn-torch"), ("torch", "pytorch", "pip install ptychopinn-torch"),
     ("tensorflow", "tensorflow", "pip install ptychopinn-tf"), ("TF", "tensorflow", "pip install ptychopinn-tf")],
)
def test_known_but_not_installed(requested: str, canonical: str, command: str) -> None:
    with pytest.raises(BackendNotInstalledError) as info:
        get_backend(requested)
    err = info.value
    assert isinstance(err, RuntimeError) and isinstance(err, PtychoPINNError)
    message = str(err)
    assert f"backend '{canonical}' selected" in message
    assert command in message
    assert err.backend == canonical and err.install_command == command
    assert "numpy-test" in message  # lists what is installed


def test_unknown_name_lists_known_and_installed_with_did_you_mean() -> None:
    with pytest.raises(UnknownBackendError) as info:
        get_backend("pytoch")
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "Unknown backend 'pytoch'" in message
    assert "Did you mean 'pytorch'?" in message
    assert "tensorflow (ptychopinn-tf)" in message and "pytorch (ptychopinn-torch)" in message
    assert "numpy-test" in message  # installed
    with pytest.raises(UnknownBackendError, match="Did you mean 'numpy-test'"):
        get_backend("numpy-tset")
    with pytest.raises(UnknownBackendError):
        get_backend("")


def test_broken_plugin_names_distribution_version_and_chains_cause() -> None:
    with pytest.raises(BackendLoadError) as info:
        get_backend("broken-test")
    err = info.value
    assert isinstance(err, ImportError)
    message = str(err)
    assert "ptychopinn-testbackend-broken 0.0.1" in message
    assert "failed to import" in message and "ptychopinn_missing_native_dependency" in message
    assert isinstance(err.__cause__, ModuleNotFoundError)
    row = _status("broken-test")
    assert row.status == "error" and "ptychopinn_missing_native_dependency" in (row.error or "")


def test_broken_plugin_never_breaks_listing_or_other_backends() -> None:
    with pytest.raises(BackendLoadError):
        get_backend("broken-test")
    assert get_backend("numpy-test").name == "numpy-test"
    names = {s.name for s in list_backends()}
    assert {"numpy-test", "broken-test", "dup-test"} <= names


def test_duplicate_names_name_both_distributions() -> None:
    with pytest.raises(DuplicateBackendError) as info:
        get_backend("dup-test")
    message = str(info.value)
    assert "ptychopinn-testbackend-dup 0.0.2" in message and "ptychopinn-testbackend-broken 0.0.1" in message
    row = _status("dup-test")
    assert row.status == "duplicate" and "ptychopinn-testbackend-dup" in (row.distribution or "")


def test_incompatible_api_version_names_both_versions_and_upgrade_command() -> None:
    with pytest.raises(BackendIncompatibleError) as info:
        get_backend("future-api-test")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "backend API 3.0" in message
    assert f"{BACKEND_API_VERSION[0]}.{BACKEND_API_VERSION[1]}" in message
    assert "pip install -U ptychopinn-core" in message


def test_a_backend_api_1_plugin_is_refused_with_both_versions_and_its_upgrade_command() -> None:
    with pytest.raises(BackendIncompatibleError) as info:
        get_backend("old-api-test")
    message = str(info.value)
    assert "implements backend API 1.1" in message and "backend API 2.0 to 2.0" in message
    assert "pip install -U ptychopinn-testbackend-broken" in message


def test_unknown_capability_is_refused_naming_it() -> None:
    with pytest.raises(BackendIncompatibleError, match="unknown capability teleport"):
        get_backend("unknown-capability-test")


def test_hook_signature_mismatch_is_rejected_by_pluggy() -> None:
    with pytest.raises(BackendIncompatibleError, match="hook specification") as info:
        get_backend("badsig-test")
    assert "device" in str(info.value)
    import pluggy

    assert isinstance(info.value.__cause__, pluggy.PluginValidationError)


def test_declared_capability_without_its_hook() -> None:
    with pytest.raises(BackendIncompatibleError, match="infer needs ptychopinn_build_predictor"):
        get_backend("incomplete-test")


def test_entry_point_name_must_equal_backend_info_name() -> None:
    with pytest.raises(BackendLoadError, match="describes itself as 'something-else'"):
        get_backend("misnamed-test")


def test_disable_backends_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTYCHOPINN_DISABLE_BACKENDS", "numpy-test, broken-test")
    refresh_backends()
    assert _status("numpy-test").status == "disabled"
    with pytest.raises(BackendLoadError, match="PTYCHOPINN_DISABLE_BACKENDS"):
        get_backend("numpy-test")
    assert get_backend("numpy-test-alt").name == "numpy-test-alt"


def test_strict_mode_raises_on_duplicates_during_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTYCHOPINN_STRICT_PLUGINS", "1")
    refresh_backends()
    with pytest.raises(DuplicateBackendError):
        list_backends()


def test_all_backend_errors_share_the_base_class() -> None:
    for cls in (UnknownBackendError, BackendNotInstalledError, BackendLoadError, BackendIncompatibleError,
                DuplicateBackendError):
        assert issubclass(cls, BackendError) and issubclass(cls, PtychoPINNError)
