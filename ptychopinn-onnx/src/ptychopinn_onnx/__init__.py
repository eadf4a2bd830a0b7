"""PtychoPINN inference backend on ONNX Runtime (``docs/onnx-backend.md``).

Importing this package imports neither ``onnx`` nor ``onnxruntime``; the modules that need
them (:mod:`ptychopinn_onnx.graph`, :mod:`ptychopinn_onnx.predictor`,
:mod:`ptychopinn_onnx.export`) are imported on use.
"""

from ptychopinn_onnx._version import __version__
from ptychopinn_onnx.options import OnnxOptions

__all__ = ["OnnxOptions", "__version__"]
