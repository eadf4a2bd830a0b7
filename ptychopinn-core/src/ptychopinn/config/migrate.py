"""Convert a configuration written for the published PtychoPINN into this schema.

The published code read flat or nested (``model:``) YAML whose keys were dataclass field
names (``nepochs``, ``n_images``, ``gridsize``...) or the dotted names of its global
parameter dictionary (``object.big``, ``probe.trainable``...). :func:`migrate_mapping`
maps each key to a field of ``[model]``/``[training]``/top-level ``backend``, or drops it
with a reason, and reports every decision. ``ptychopinn config migrate`` wraps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ptychopinn._safety import short_repr
from ptychopinn.config.files import RunConfig, config_from_mapping
from ptychopinn.errors import ConfigError

__all__ = ["MigrationReport", "migrate_mapping"]


@dataclass(frozen=True)
class Change:
    """One decision of the migration."""

    legacy_key: str
    """Key in the old file (dotted path for nested keys)."""

    action: str
    """``renamed``, ``kept``, ``converted`` or ``dropped``."""

    new_key: str | None
    """``section.field`` written, or None when dropped."""

    note: str
    """Why, in one sentence."""

    def __str__(self) -> str:
        target = f" -> {self.new_key}" if self.new_key else ""
        return f"{self.action:9s} {self.legacy_key}{target}: {self.note}" if self.note else (
            f"{self.action:9s} {self.legacy_key}{target}"
        )


@dataclass(frozen=True)
class MigrationReport:
    """Result of a migration: the new configuration and what happened to every key."""

    config: RunConfig
    changes: tuple[Change, ...]

    def lines(self) -> list[str]:
        """Human-readable report, one line per legacy key."""
        return [str(c) for c in self.changes]


def _same(v: Any) -> Any:
    return v


def _activation(v: Any) -> Any:
    return {"silu": "swish"}.get(v, v) if isinstance(v, str) else v


def _model_type(v: Any) -> Any:
    return {"Unsupervised": "pinn", "Supervised": "supervised"}.get(v, v) if isinstance(v, str) else v


# legacy key -> (section, field, converter, note)
_MAPPED: dict[str, tuple[str, str, Callable[[Any], Any], str]] = {
    "N": ("model", "N", _same, ""),
    "gridsize": ("model", "gridsize", _same, ""),
    "n_filters_scale": ("model", "n_filters_scale", _same, ""),
    "model_type": ("model", "model_type", _model_type, ""),
    "mode": ("model", "model_type", _model_type, "torch 'mode' name"),
    "amp_activation": ("model", "amp_activation", _activation, "'silu' is called 'swish' here"),
    "object.big": ("model", "object_big", _same, ""),
    "object_big": ("model", "object_big", _same, ""),
    "probe.big": ("model", "probe_big", _same, ""),
    "probe_big": ("model", "probe_big", _same, ""),
    "probe.mask": ("model", "probe_mask", _same, ""),
    "probe_mask": ("model", "probe_mask", _same, ""),
    "pad_object": ("model", "pad_object", _same, ""),
    "intensity_scale.trainable": ("model", "intensity_scale_trainable", _same, ""),
    "intensity_scale_trainable": ("model", "intensity_scale_trainable", _same, ""),
    "nepochs": ("training", "epochs", _same, ""),
    "epochs": ("training", "epochs", _same, ""),
    "max_epochs": ("training", "epochs", _same, ""),
    "batch_size": ("training", "batch_size", _same, ""),
    "learning_rate": ("training", "learning_rate", _same, ""),
    "mae_weight": ("training", "mae_weight", _same, ""),
    "nll_weight": ("training", "nll_weight", _same, ""),
    "n_groups": ("training", "n_groups", _same, ""),
    "n_images": ("training", "n_groups", _same, "deprecated alias of n_groups"),
    "neighbor_count": ("training", "neighbor_count", _same, ""),
    "K": ("training", "neighbor_count", _same, "torch 'K' name"),
    "nphotons": (
        "training", "nphotons", float,
        "means: the stored amplitudes are in arbitrary units and are rescaled to this many photons per pattern; "
        "remove it if your NPZ holds sqrt(counts)",
    ),
    "plateau_factor": ("training", "plateau_factor", _same, ""),
    "plateau_patience": ("training", "plateau_patience", _same, ""),
    "plateau_min_lr": ("training", "min_learning_rate", _same, ""),
    "npseed": ("training", "seed", _same, ""),
    "seed": ("training", "seed", _same, ""),
}

_DROPPED: dict[str, str] = {
    "probe.trainable": "the probe is fixed during training in this version",
    "probe_trainable": "the probe is fixed during training in this version",
    "probe_scale": "replaced by model.reference_transmission (the probe is normalised once, in core)",
    "default_probe_scale": "replaced by model.reference_transmission",
    "positions.provided": "positions always come from the scan file",
    "positions_provided": "positions always come from the scan file",
    "train_data_file": "data files are command-line arguments now (ptychopinn train DATA)",
    "train_data_file_path": "data files are command-line arguments now",
    "test_data_file": "data files are command-line arguments now (ptychopinn reconstruct MODEL DATA)",
    "test_data_file_path": "data files are command-line arguments now",
    "output_dir": "use --output-dir",
    "output_prefix": "use --output-dir",
    "model_path": "the model bundle is a command-line argument now",
    "architecture": "only the 'cnn' architecture exists here",
    "offset": "group canvases are sized from the actual neighbour offsets",
    "max_position_jitter": "group canvases are sized from the actual neighbour offsets",
    "bigN": "derived automatically",
    "size": "object size comes from the data",
    "outer_offset_train": "not used (simulation setting of the published code)",
    "outer_offset_test": "not used (simulation setting of the published code)",
    "big_gridsize": "not used",
    "nimgs_train": "not used (simulation setting of the published code)",
    "nimgs_test": "not used (simulation setting of the published code)",
    "sim_jitter_scale": "use ptychopinn simulate options",
    "data_source": "not used",
    "set_phi": "not used",
    "label": "not used",
    "h5_path": "bundles replace wts.h5",
    "debug": "not used",
    "use_xla_translate": "no XLA switch: one translation convention for every backend",
    "gaussian_smoothing_sigma": "not supported",
    "tv_weight": "not supported",
    "realspace_weight": "not supported",
    "realspace_mae_weight": "not supported",
    "n_subsample": "not supported; subsample the scan file instead",
    "subsample_seed": "not supported",
    "enable_oversampling": "not supported",
    "neighbor_pool_size": "not supported",
    "sequential_sampling": "not supported",
    "intensity_scale": "computed from the data (normalisation constants are stored in the bundle)",
    "timestamp": "not used",
    "probe": "the probe comes from the scan file",
    "torch_loss_mode": "the loss is set by training.nll_weight / training.mae_weight",
    "optimizer": "Adam is used by every backend",
    "scheduler": "the plateau schedule is used by every backend",
    "momentum": "Adam is used by every backend",
    "weight_decay": "not supported",
    "adam_beta1": "not supported",
    "adam_beta2": "not supported",
    "lr_warmup_epochs": "not supported",
    "lr_min_ratio": "use training.min_learning_rate",
    "plateau_threshold": "use training.plateau_min_delta (absolute)",
    "gradient_clip_val": "backend execution option: set it in [backend_options] if the backend supports it",
    "gradient_clip_algorithm": "backend execution option: set it in [backend_options] if the backend supports it",
}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    """(path, key, value) leaves; nested ``model:`` sections of the old YAML are flattened."""
    out: list[tuple[str, str, Any]] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and str(key) in ("model", "training", "inference", "data"):
            out.extend(_flatten(value, f"{path}."))
        else:
            out.append((path, str(key), value))
    return out


def migrate_mapping(data: Mapping[str, Any], *, source: str | None = None) -> MigrationReport:
    """Map a legacy configuration (parsed YAML/TOML) to a validated :class:`RunConfig`.

    Raises
    ------
    ConfigError
        A mapped value is invalid in the new schema (the message names the legacy key), or
        two legacy keys set one field to different values.
    """
    where = f"{source}: " if source else ""
    sections: dict[str, dict[str, Any]] = {"model": {}, "training": {}}
    origin: dict[str, str] = {}
    changes: list[Change] = []
    backend: str | None = None
    for path, key, value in _flatten(data):
        if key == "backend":
            backend = str(value) if value is not None else None
            changes.append(Change(path, "kept", "backend", "top-level backend (a config field of the selection rule)"))
        elif key in _MAPPED:
            section, name, convert, note = _MAPPED[key]
            target = f"{section}.{name}"
            if value is None:
                changes.append(Change(path, "dropped", None, "null value: the default applies"))
                continue
            new_value = convert(value)
            if target in origin and sections[section][name] != new_value:
                raise ConfigError(
                    f"{where}'{origin[target]}' and '{path}' both set {target} to different values "
                    f"({sections[section][name]!r} and {new_value!r}); keep one"
                )
            sections[section][name] = new_value
            origin[target] = path
            action = "kept" if name == key and not note else ("converted" if new_value != value else "renamed")
            changes.append(Change(path, action, target, note))
        elif key in _DROPPED:
            changes.append(Change(path, "dropped", None, f"{_DROPPED[key]} (value was {short_repr(value)})"))
        elif key.startswith("torch_") or key.startswith("torch-"):
            changes.append(Change(path, "dropped", None, f"torch execution flag: set it in [backend_options] (value "
                                                        f"was {short_repr(value)})"))
        else:
            changes.append(Change(path, "dropped", None, f"unknown to this version (value was {short_repr(value)})"))
    mapping: dict[str, Any] = {k: v for k, v in sections.items() if v}
    if backend:
        mapping["backend"] = backend
    try:
        config = config_from_mapping(mapping, source=source)
    except ConfigError as exc:
        blamed = [f"'{o}'" for t, o in origin.items() if t.split(".")[1] in str(exc)]
        hint = f" (from legacy key {', '.join(blamed)})" if blamed else ""
        raise ConfigError(f"{exc}{hint}") from exc
    return MigrationReport(config=config, changes=tuple(changes))
