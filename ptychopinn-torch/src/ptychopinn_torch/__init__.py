"""PtychoPINN backend on PyTorch + Lightning (``docs/torch-backend.md``).

Importing this package does not import torch; the heavy modules are imported on use.
"""

from ptychopinn_torch._version import __version__
from ptychopinn_torch.options import TorchOptions

__all__ = ["TorchOptions", "__version__"]
