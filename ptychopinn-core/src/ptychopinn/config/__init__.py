"""Frozen configuration dataclasses shared by every backend.

``ModelConfig`` (architecture and physics), ``TrainingConfig`` and ``InferenceConfig`` (with its
``RefinementConfig``).
Backend execution options (device, precision, strategy) are owned by each backend and
passed through core untouched. Loading from TOML/YAML lives in :mod:`ptychopinn.config.files`.
"""

from ptychopinn.config.inference import InferenceConfig
from ptychopinn.config.model import ModelConfig
from ptychopinn.config.refinement import RefinementConfig
from ptychopinn.config.training import TrainingConfig

__all__ = ["InferenceConfig", "ModelConfig", "RefinementConfig", "TrainingConfig"]
