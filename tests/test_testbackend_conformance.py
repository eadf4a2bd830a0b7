"""The conformance kit run end to end on the installed numpy test backend (a real distribution)."""

from ptychopinn.testing import BackendConformance


class TestNumpyTestBackendConformance(BackendConformance):
    backend_name = "numpy-test"
