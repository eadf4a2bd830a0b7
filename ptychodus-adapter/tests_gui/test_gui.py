"""Ptychodus's real GUI (its ``main()``: ModelCore, ViewCore, ControllerCore) under Xvfb shows the PtychoPINN panel.

Run by ``nox -s gui`` (needs Debian's ``xvfb`` and ``ptychodus[gui]``). The Ptychodus process is
started with a settings file selecting ``ptychopinn-next_pinn``; once its event loop runs, the
Reconstructor page is opened, the algorithm's panel is inspected (it must be our settings form,
not Ptychodus's "<library> not found!" placeholder) and the window is saved as a PNG. With
``PTYCHOPINN_GUI_SCREENSHOT=path`` the PNG is also copied there (``docs/figures/``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PyQt5.QtWidgets", reason="the GUI needs ptychodus[gui] (PyQt5)")
if shutil.which("Xvfb") is None:
    pytest.skip(
        "Xvfb not found (Debian: apt-get install -y xvfb); the GUI test needs a virtual display",
        allow_module_level=True,
    )

_SCRIPT = r"""
import json, sys
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QLabel, QStackedWidget
import ptychodus.__main__ as entry

png, settings = sys.argv[1], sys.argv[2]
original_exec = QApplication.exec
report = {}

def shoot(app):
    from ptychodus.view import ViewCore
    try:
        view = next(w for w in app.topLevelWidgets() if isinstance(w, ViewCore))
        view.resize(1400, 900)
        view.processing_action.trigger()
        app.processEvents()
        stack = view.processing_view.findChildren(QStackedWidget)[0]
        page = stack.currentWidget()
        labels = [label.text() for label in page.findChildren(QLabel)]
        report.update(placeholder=isinstance(page, QLabel) and "not found" in page.text(), labels=labels,
                      pages=stack.count())
        app.processEvents()
        report["saved"] = view.grab().save(png)
    except Exception as exc:
        report["error"] = repr(exc)
    print("REPORT " + json.dumps(report), flush=True)
    app.quit()

def exec_with_screenshot(app):
    QTimer.singleShot(2500, lambda: shoot(app))
    return original_exec()

QApplication.exec = exec_with_screenshot
sys.argv = ["ptychodus", "-s", settings]
sys.exit(entry.main())
"""


@pytest.fixture()
def display():
    number = 90 + os.getpid() % 9
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    if server.poll() is not None:
        pytest.fail(f"Xvfb :{number} did not start (exit code {server.returncode})")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def test_gui_shows_the_ptychopinn_settings_panel(display, tmp_path):
    settings = tmp_path / "settings.ini"
    settings.write_text("[Processing]\nAlgorithm = ptychopinn-next_pinn\n")
    png = tmp_path / "ptychodus-ptychopinn-next.png"
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(png), str(settings)], capture_output=True, text=True, timeout=180, env=env
    )
    if "Could not load the Qt platform plugin" in out.stderr:
        pytest.fail(
            "Qt's xcb platform plugin cannot load: install the X client libraries it needs (Debian: apt-get install "
            "-y libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxkbcommon-x11-0 libxcb-image0 libxcb-render-util0 "
            "libxcb-randr0 libxcb-shape0 libxcb-xfixes0)"
        )
    lines = [line for line in out.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, f"no report (exit code {out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    report = json.loads(lines[-1][len("REPORT ") :])
    assert "error" not in report, report
    assert not report["placeholder"], "Ptychodus shows its 'not found' placeholder for PtychoPINN-Next"
    assert "Backend (training):" in report["labels"] and "Grid Size:" in report["labels"], report["labels"]
    assert "PtychoPINN-Next not found!" not in out.stdout + out.stderr
    assert report["saved"] and png.stat().st_size > 10_000
    target = os.environ.get("PTYCHOPINN_GUI_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, target)
