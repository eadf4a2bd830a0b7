"""Shared helpers of the plugin-system tests (imported by the test modules; not a conftest).

These tests need the fixture distributions under ``tests/fixtures`` installed for real
(``nox -s core`` does it): ``pip install tests/fixtures/testbackend tests/fixtures/testbackend-broken
tests/fixtures/testbackend-dup``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata

import pytest

from ptychopinn.plugins.registry import refresh_backends

FIXTURE_DISTRIBUTIONS = ("ptychopinn-testbackend", "ptychopinn-testbackend-broken", "ptychopinn-testbackend-dup")
FRAMEWORKS = ("tensorflow", "keras", "torch", "lightning")


def require_fixture_distributions() -> None:
    missing = []
    for dist in FIXTURE_DISTRIBUTIONS:
        try:
            metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            missing.append(dist)
    if missing:
        pytest.fail(
            f"test backend distribution(s) {missing} are not installed; run 'nox -s core' or "
            f"pip install tests/fixtures/testbackend tests/fixtures/testbackend-broken tests/fixtures/testbackend-dup"
        )


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh registry cache, without selection environment variables; refreshed again afterwards."""
    require_fixture_distributions()
    for var in ("PTYCHOPINN_BACKEND", "PTYCHOPINN_DISABLE_BACKENDS", "PTYCHOPINN_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    refresh_backends()
    yield
    refresh_backends()


def run_python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (so sys.modules starts empty)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ptychopinn ARGS`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "ptychopinn", *args], capture_output=True, text=True, timeout=600,
                          env=env, cwd=cwd)
