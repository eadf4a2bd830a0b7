"""Test sessions of the PtychoPINN monorepo: one environment per package set.

    nox                     # the default sessions (DEFAULT_SESSIONS below)
    nox -s core             # core + the test backends only (no ML framework installed)
    nox -s torch tf         # one backend each
    nox -s adapter parity   # Ptychodus adapter; both backends in one environment
    nox -s gui              # Ptychodus's GUI under Xvfb (not a default session; needs Debian's xvfb)
    nox -s onnx             # core + the ONNX Runtime backend only (no TensorFlow, no torch)
    nox -s lint types       # ruff; mypy on core and the ONNX backend

Every install uses ``constraints/cpu.txt`` (torch==2.13.0, the only torch wheel on the CPU
machines). ``NOX_SESSIONS``/``nox -s`` choose what runs; ``.ci/run`` passes ``$CI_SESSIONS``.
A session whose pytest collects no test fails (pytest exit code 5 is not a success here):
an empty backend test folder is a configuration error, not a pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CONSTRAINTS = str(ROOT / "constraints" / "cpu.txt")
FIXTURES = ROOT / "tests" / "fixtures"
TEST_BACKEND_DISTRIBUTIONS = ("ptychopinn-testbackend", "ptychopinn-testbackend-broken", "ptychopinn-testbackend-dup",
                              "ptychopinn-testbackend-hostile", "ptychopinn-testbackend-kitbugs")
TEST_BACKENDS = [str(FIXTURES / name) for name in ("testbackend", "testbackend-broken", "testbackend-dup",
                                                   "testbackend-hostile", "testbackend-kitbugs")]

DEFAULT_SESSIONS = ["lint", "types", "core", "torch", "tf", "adapter", "parity", "onnx"]
nox.options.sessions = DEFAULT_SESSIONS
nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"
BACKEND_TEST_DIRS = ("parity", "ddp", "fixtures")
"""Folders of tests/ that need a real backend (run by the torch/parity sessions, not by core)."""
FRAMEWORKS = ("tensorflow", "keras", "torch", "lightning")
ONNX_CROSS_DIR = ROOT / ".nox" / "onnx-cross-backend"
"""Bundles trained by both backends and their reconstructions (written by ``parity``, checked by ``onnx``)."""

_NO_FRAMEWORK_CHECK = f"""
import sys
import ptychopinn
from ptychopinn.errors import BackendNotInstalledError
rows = ptychopinn.list_backends()
loaded = sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)
assert not loaded, f"import ptychopinn / list_backends() imported {{loaded}}"
for name, command in (("pytorch", "pip install ptychopinn-torch"), ("tensorflow", "pip install ptychopinn-tf")):
    try:
        ptychopinn.get_backend(name)
    except BackendNotInstalledError as exc:
        assert command in str(exc), str(exc)
    else:
        raise AssertionError(f"{{name}} unexpectedly available in the core-only environment")
loaded = sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)
assert not loaded, f"asking for a missing backend imported {{loaded}}"
print("core-only checks passed:", ", ".join(r.name + "=" + r.status for r in rows))
"""


def _install(session: nox.Session, *args: str) -> None:
    session.install("-c", CONSTRAINTS, *args)


def _pytest(session: nox.Session, *paths: str) -> None:
    """Run pytest; exit code 5 (no tests collected) fails the session deliberately."""
    session.env.setdefault("OMP_NUM_THREADS", "1")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *paths, *session.posargs)


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """ptychopinn-core alone (no backend: fail-fast checks), then + the fixture backends (the core tests)."""
    _install(session, "./ptychopinn-core[test]")
    session.run("python", "-m", "pip", "uninstall", "--yes", "--quiet", *TEST_BACKEND_DISTRIBUTIONS)  # reused venv
    # 1. Only ptychopinn-core installed: no framework imported, nothing installed, fail fast with the command.
    session.run("python", "-c", _NO_FRAMEWORK_CHECK)
    listing = session.run("ptychopinn", "backends", silent=True)
    if "No backend is installed" not in str(listing):
        session.error(f"core-only 'ptychopinn backends' did not say that nothing is installed: {listing}")
    for backend, command in (("pytorch", "pip install ptychopinn-torch"), ("tensorflow", "pip install ptychopinn-tf")):
        out = session.run("ptychopinn", "train", "missing.npz", "--backend", backend, success_codes=[2], silent=True)
        if command not in str(out) or "Traceback" in str(out):
            session.error(f"'ptychopinn train --backend {backend}' did not fail with '{command}': {out}")
    # 2. With the fixture backend distributions installed for real: the core and cross-package tests.
    _install(session, *TEST_BACKENDS)
    session.run("python", "-c", _NO_FRAMEWORK_CHECK)
    session.run("ptychopinn", "backends")
    _pytest(session, "ptychopinn-core/tests", "tests", *(f"--ignore=tests/{d}" for d in BACKEND_TEST_DIRS))


@nox.session(python=PYTHON)
def torch(session: nox.Session) -> None:
    """ptychopinn-core + ptychopinn-torch; runs ptychopinn-torch/tests."""
    _install(session, "./ptychopinn-core[test]", "./ptychopinn-torch[test]")
    _pytest(session, "ptychopinn-torch/tests", *(["tests/ddp"] if (ROOT / "tests" / "ddp").is_dir() else []))


@nox.session(python=PYTHON)
def tf(session: nox.Session) -> None:
    """ptychopinn-core + ptychopinn-tf[cpu]; runs ptychopinn-tf/tests."""
    _install(session, "./ptychopinn-core[test]", "./ptychopinn-tf[cpu,test]")
    _pytest(session, "ptychopinn-tf/tests")


@nox.session(python=PYTHON)
def adapter(session: nox.Session) -> None:
    """ptychopinn-core + ptychopinn-ptychodus (real ptychodus) + both backends; runs ptychodus-adapter/tests."""
    _install(
        session, "./ptychopinn-core[test]", "./ptychopinn-torch", "./ptychopinn-tf[cpu]", "./ptychodus-adapter[test]"
    )
    _pytest(session, "ptychodus-adapter/tests")


@nox.session(python=PYTHON)
def gui(session: nox.Session) -> None:
    """Ptychodus's real GUI (ptychodus[gui]) under Xvfb shows the PtychoPINN-Next panel; not a default session."""
    if shutil.which("Xvfb") is None:
        session.skip(
            "Xvfb not found: the gui session starts Ptychodus on a virtual X display. "
            "Debian/Ubuntu: apt-get update && apt-get install -y xvfb"
        )
    _install(session, "./ptychopinn-core[test]", "./ptychopinn-torch", "./ptychodus-adapter[test,gui]")
    _pytest(session, "ptychodus-adapter/tests_gui")


@nox.session(python=PYTHON)
def parity(session: nox.Session) -> None:
    """Both backends in one environment; runs tests/parity (cross-backend bundles and numerics)."""
    _install(session, "./ptychopinn-core[test]", "./ptychopinn-torch[test]", "./ptychopinn-tf[cpu,test]")
    _pytest(session, "tests/parity")
    # Train tiny bundles with both backends for the onnx session's cross-backend check (must-show of #11).
    shutil.rmtree(ONNX_CROSS_DIR, ignore_errors=True)
    session.run("python", "ptychopinn-onnx/tests/cross_backend_check.py", "make", "--dir", str(ONNX_CROSS_DIR),
                env={"OMP_NUM_THREADS": "1"})


@nox.session(python=PYTHON)
def onnx(session: nox.Session) -> None:
    """ptychopinn-core + ptychopinn-onnx only: no framework may be installed; bundles of both backends reconstruct."""
    _install(session, "./ptychopinn-core[test]", "./ptychopinn-onnx[test]")
    frozen = str(session.run("python", "-m", "pip", "list", "--format=freeze", silent=True))
    names = {line.split("==")[0].strip().lower() for line in frozen.splitlines() if "==" in line}
    bad = sorted(names & {"torch", "tensorflow", "tensorflow-cpu", "keras", "tf-keras", "lightning", "jax"})
    if bad:
        session.error(f"the onnx session must not contain an ML framework, found {bad}")
    if (ONNX_CROSS_DIR / "cases.json").is_file():
        session.env["PTYCHOPINN_ONNX_CROSS_DIR"] = str(ONNX_CROSS_DIR)
    _pytest(session, "ptychopinn-onnx/tests")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the whole repository (configuration: ruff.toml)."""
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def types(session: nox.Session) -> None:
    """mypy on the core sources (configuration: ptychopinn-core/mypy.ini)."""
    _install(session, "./ptychopinn-core", "./ptychopinn-onnx", "mypy", "types-PyYAML", "pytest")
    session.run("mypy", "--config-file", "ptychopinn-core/mypy.ini")
    session.run("mypy", "--strict", "--ignore-missing-imports", "ptychopinn-onnx/src/ptychopinn_onnx")
