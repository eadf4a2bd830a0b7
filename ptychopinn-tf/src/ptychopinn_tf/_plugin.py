"""Plugin of the TensorFlow backend (entry point ``ptychopinn.backends: tensorflow = ptychopinn_tf._plugin:PLUGIN``).

Backend API 2.0. The hooks follow core's conventional layout (:mod:`ptychopinn.plugins.conventional`):
``options.resolve_options``, ``training.train``, ``predictor.build_predictor``,
``refinement.build_refinement_operator`` and ``physics.forward_amplitude``, imported only when a hook
runs, so listing or selecting backends imports neither TensorFlow nor Keras. Importing this module
fails with a :class:`~ptychopinn.errors.BackendLoadError` naming ``pip install "ptychopinn-tf[cpu]"``
when TensorFlow itself is not installed. Core owns bundles, batching, grouping and stitching.
"""

from __future__ import annotations

from ptychopinn.plugins.conventional import conventional_plugin
from ptychopinn.plugins.info import BackendInfo

from ptychopinn_tf._env import check_tensorflow_installed
from ptychopinn_tf._version import __version__

check_tensorflow_installed()

NAME = "tensorflow"
CAPABILITIES = frozenset({"train", "infer", "refine", "physics_forward"})
INFO = BackendInfo(name=NAME, api_version=(2, 0), version=__version__, capabilities=CAPABILITIES,
                   description="TensorFlow / Keras 3 (tf.distribute)")
PLUGIN = conventional_plugin(INFO, package="ptychopinn_tf")
