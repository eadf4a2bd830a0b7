"""Core's conformance kit on the ONNX backend (contract, infer and export tiers; train/refine/physics skipped)."""

from __future__ import annotations

from ptychopinn.testing import BackendConformance


class TestOnnxConformance(BackendConformance):
    backend_name = "onnx"
