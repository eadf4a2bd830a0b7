"""The one compatibility check of a scan, a model and a training configuration.

Used by the Python API, the command line, the Ptychodus adapter and :class:`ptychopinn.plugins.Backend`
(before a predictor runs): every mismatch is reported here, once, in the configuration's terms and with
one exception type per condition (:mod:`ptychopinn.errors`), before any framework is involved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptychopinn.errors import (
    GroupSizeMismatchError,
    MissingGroundTruthError,
    NoTrainingGroupsError,
    PatternSizeMismatchError,
)

if TYPE_CHECKING:  # pragma: no cover
    from ptychopinn.config.model import ModelConfig
    from ptychopinn.config.training import TrainingConfig
    from ptychopinn.data.grouped import GroupedScan
    from ptychopinn.data.scan import ScanData

__all__ = ["check_compatible", "check_groups_fit"]


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def check_compatible(
    model_config: ModelConfig,
    *,
    scan: ScanData | None = None,
    groups: GroupedScan | None = None,
    training_config: TrainingConfig | None = None,
    source: str | None = None,
) -> None:
    """Raise unless ``scan`` / ``groups`` fit ``model_config`` (and ``training_config`` when training).

    Parameters
    ----------
    model_config : ModelConfig
        The model to train or to run.
    scan : ScanData, optional
        The scan: its pattern side must be ``model_config.N``; when ``training_config`` is given
        and ``model_config.model_type == "supervised"`` it must hold the ground-truth object.
    groups : GroupedScan, optional
        Grouped patterns: (B, C, N, N) with ``C = gridsize**2``; when ``training_config`` is
        given they must not be empty.
    training_config : TrainingConfig, optional
        Given when the check is for training (ground truth, at least one group).
    source : str, optional
        File the data came from, for the message (default: ``scan.source``).

    Raises
    ------
    PatternSizeMismatchError
        Patterns are not ``N x N``.
    GroupSizeMismatchError
        Groups hold another number of patterns than ``gridsize**2``.
    MissingGroundTruthError
        Supervised training on a scan without ``objectGuess``.
    NoTrainingGroupsError
        Training on zero groups.
    """
    where = _where(source if source is not None else (scan.source if scan is not None else None))
    N = model_config.N
    if scan is not None and scan.N != N:
        raise PatternSizeMismatchError(
            f"{where}ModelConfig.N is {N} but the diffraction patterns are {scan.N} x {scan.N}; set model.N = {scan.N} "
            f"(or use a model trained on {scan.N} x {scan.N} patterns)"
        )
    if (
        scan is not None
        and training_config is not None
        and model_config.model_type == "supervised"
        and scan.object is None
    ):
        raise MissingGroundTruthError(
            f"{where}supervised training (model.model_type = 'supervised') needs the ground-truth object, key "
            f"'objectGuess', which the scan lacks; add it or train with model_type = 'pinn'"
        )
    if groups is not None:
        check_groups_fit(model_config, groups, source=source)
        if training_config is not None and groups.n_groups == 0:
            raise NoTrainingGroupsError(
                f"{where}no training groups: the scan is too small for the requested split (validation_fraction = "
                f"{training_config.validation_fraction}, n_groups = {training_config.n_groups})"
            )


def check_groups_fit(model_config: ModelConfig, groups: GroupedScan, *, source: str | None = None) -> None:
    """Raise :class:`PatternSizeMismatchError` / :class:`GroupSizeMismatchError` unless ``groups`` fit the model."""
    where = _where(source)
    N, C = model_config.N, model_config.channels
    if groups.N != N:
        raise PatternSizeMismatchError(
            f"{where}the model expects {N} x {N} diffraction patterns (ModelConfig.N), the groups hold "
            f"{groups.N} x {groups.N}"
        )
    if groups.channels != C:
        raise GroupSizeMismatchError(
            f"{where}the model has gridsize {model_config.gridsize} ({C} patterns per group), the groups hold "
            f"{groups.channels}"
        )
