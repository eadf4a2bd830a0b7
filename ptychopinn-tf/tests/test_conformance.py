"""Core's backend conformance kit, every tier, against the installed ``tensorflow`` backend."""

from __future__ import annotations

from ptychopinn.testing import BackendConformance

from ptychopinn_tf.options import TFOptions


class TestTensorFlowConformance(BackendConformance):
    backend_name = "tensorflow"
    backend_options = TFOptions(verbose=0)
