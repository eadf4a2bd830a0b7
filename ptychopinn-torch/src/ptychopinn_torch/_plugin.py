"""Plugin of the PyTorch backend (entry point ``ptychopinn.backends: pytorch = ptychopinn_torch._plugin:PLUGIN``).

Backend API 2.0. The hooks follow core's conventional layout (:mod:`ptychopinn.plugins.conventional`):
``options.resolve_options``, ``training.train``, ``predictor.build_predictor``,
``refinement.build_refinement_operator`` and ``physics.forward_amplitude``, imported only when a hook
runs, so listing or selecting backends imports neither torch nor Lightning. Core owns bundles,
batching, grouping and stitching.
"""

from __future__ import annotations

from ptychopinn.plugins.conventional import conventional_plugin
from ptychopinn.plugins.info import BackendInfo
from ptychopinn_torch._version import __version__

NAME = "pytorch"
CAPABILITIES = frozenset({"train", "infer", "refine", "physics_forward"})
INFO = BackendInfo(name=NAME, api_version=(2, 0), version=__version__, capabilities=CAPABILITIES,
                   description="PyTorch + Lightning (DDP-capable)")
PLUGIN = conventional_plugin(INFO, package="ptychopinn_torch")
