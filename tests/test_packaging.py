"""The monorepo's packaging agrees with core's registry (names, distributions, entry points, layout)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ptychopinn.plugins.names import ENTRY_POINT_GROUP, KNOWN_BACKENDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "ptychopinn-core": "ptychopinn",
    "ptychopinn-tf": "ptychopinn_tf",
    "ptychopinn-torch": "ptychopinn_torch",
    "ptychopinn-onnx": "ptychopinn_onnx",
    "ptychodus-adapter": "ptychopinn_ptychodus",
}


def _pyproject(folder: str) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text())


@pytest.mark.parametrize(("folder", "package"), sorted(PACKAGES.items()))
def test_each_distribution_has_its_own_pyproject_src_and_tests(folder: str, package: str) -> None:
    assert (ROOT / folder / "pyproject.toml").is_file()
    assert (ROOT / folder / "src" / package / "__init__.py").is_file()
    assert (ROOT / folder / "tests").is_dir()


@pytest.mark.parametrize(("backend", "distribution"), sorted(KNOWN_BACKENDS.items()))
def test_known_backends_match_the_backend_distributions(backend: str, distribution: str) -> None:
    folder = distribution  # each backend distribution lives in the folder of its name
    project = _pyproject(folder)["project"]
    assert project["name"] == distribution
    entry_points = project["entry-points"][ENTRY_POINT_GROUP]
    assert list(entry_points) == [backend], entry_points
    module = entry_points[backend].split(":")[0]
    assert (ROOT / folder / "src" / Path(*module.split("."))).with_suffix(".py").is_file()
    assert any(dep.startswith("ptychopinn-core") for dep in project["dependencies"])


def test_the_adapter_distribution_name() -> None:
    assert _pyproject("ptychodus-adapter")["project"]["name"] == "ptychopinn-ptychodus"


def test_core_declares_the_console_script_and_no_framework_dependency() -> None:
    project = _pyproject("ptychopinn-core")["project"]
    assert project["scripts"]["ptychopinn"] == "ptychopinn.cli.main:main"
    deps = " ".join(project["dependencies"]).lower()
    for framework in ("tensorflow", "keras", "torch", "lightning"):
        assert framework not in deps
