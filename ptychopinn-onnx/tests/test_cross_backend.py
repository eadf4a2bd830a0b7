"""Bundles trained by the PyTorch and TensorFlow backends reconstruct on ONNX Runtime within 1e-4.

Needs the data of ``cross_backend_check.py make`` (run where torch and TensorFlow are installed);
skipped cleanly without it. Runs only where neither framework is installed (the check refuses otherwise).
"""

from __future__ import annotations

import pytest

import cross_backend_check as cbc

ROOT = cbc.case_dir()


@pytest.mark.skipif(not (ROOT / "cases.json").exists(), reason=f"no cross-backend bundles in {ROOT} (run "
                    "cross_backend_check.py make in an environment with ptychopinn-torch and ptychopinn-tf)")
@pytest.mark.skipif(bool(cbc.frameworks_installed()), reason="torch/TensorFlow installed: the check needs an "
                    "environment with only ptychopinn-core + ptychopinn-onnx")
def test_bundles_of_other_backends_reconstruct_identically_without_frameworks() -> None:
    report = cbc.check(ROOT)
    assert report["cases"], "cases.json lists no case"
    assert report["frameworks_imported_after_reconstruct"] == []
    for row in report["cases"]:
        for via in ("cli", "api"):
            result = row[via]
            assert "error" not in result, f"{row['name']} ({via}): {result.get('error')}"
            assert result["backend"] == "onnx" and result["model_backend"] == row["backend"]
            assert result["max_abs_diff"] <= cbc.TOLERANCE, f"{row['name']} ({via}): {result}"
            assert result["valid_equal"] and result["origin_equal"]
    assert report["ok"]
    assert {row["backend"] for row in report["cases"]} >= {"pytorch", "tensorflow"}
