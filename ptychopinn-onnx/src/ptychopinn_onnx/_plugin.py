"""Plugin of the ONNX Runtime backend (entry point ``ptychopinn.backends: onnx = ptychopinn_onnx._plugin:PLUGIN``).

Backend API 2.0, inference only (capabilities ``infer`` and ``export``): core names the backends
that can train when ``train`` is requested. The hooks follow core's conventional layout
(:mod:`ptychopinn.plugins.conventional`): ``options.resolve_options``, ``predictor.build_predictor``
(one ONNX Runtime session on the model's network, built in memory from its canonical weights) and
``export.export`` (the physics-free inference network as ``.onnx``, atomically, with metadata).
Neither ``onnx`` nor ``onnxruntime`` is imported until a hook runs.
"""

from __future__ import annotations

from ptychopinn.plugins.conventional import conventional_plugin
from ptychopinn.plugins.info import BackendInfo
from ptychopinn_onnx._version import __version__

NAME = "onnx"
CAPABILITIES = frozenset({"infer", "export"})
INFO = BackendInfo(
    name=NAME,
    api_version=(2, 0),
    version=__version__,
    description="ONNX Runtime (inference and ONNX export only; no TensorFlow or torch needed)",
    capabilities=CAPABILITIES,
)
PLUGIN = conventional_plugin(INFO, package="ptychopinn_onnx")
