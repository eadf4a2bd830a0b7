"""The ``train`` hook's implementation: Lightning ``Trainer.fit`` and conversion to a ``TrainedModel``."""

from __future__ import annotations

import csv
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping
from lightning.pytorch.loggers import CSVLogger

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn.physics import normalise_probe
from ptychopinn.plugins.training_result import trained_model
from ptychopinn.results import TrainedModel, TrainingData
from ptychopinn_torch._version import __version__
from ptychopinn_torch.data import PtychoDataModule
from ptychopinn_torch.predictor import torch_threads
from ptychopinn_torch.training_model import PtychoPINNModule
from ptychopinn_torch.options import TorchOptions
from ptychopinn_torch.weights import network_weights

__all__ = ["train"]


def _read_history(metrics_csv: Path) -> dict[str, tuple[float, ...]]:
    """Per-epoch series from Lightning's CSV log (one value per epoch and metric)."""
    if not metrics_csv.exists():
        return {}
    per_epoch: dict[int, dict[str, float]] = {}
    with metrics_csv.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if not row.get("epoch"):
                continue
            epoch = int(float(row["epoch"]))
            for key, value in row.items():
                if key in ("epoch", "step") or value in ("", None):
                    continue
                per_epoch.setdefault(epoch, {})[key] = float(value)
    keys = sorted({k for d in per_epoch.values() for k in d})
    epochs = sorted(per_epoch)
    return {k: tuple(per_epoch[e].get(k, math.nan) for e in epochs) for k in keys}


def train(
    data: TrainingData,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    options: TorchOptions,
    *,
    extra_callbacks: Sequence[Callback] = (),
) -> TrainedModel:
    """Train the network of ``model_config`` (any architecture) with Lightning.

    Core has checked ``data`` against the configs (``Backend.train``). The weights start from
    core's initialisation with ``training_config.seed``. Under a multi-process strategy
    (``ddp``) every rank returns the same model and only rank 0 writes logs; saving the bundle
    (once) is the caller's business. ``extra_callbacks`` are added to the Lightning callbacks
    (benchmarks, monitoring). ``options.num_threads`` applies during training only.

    Returns
    -------
    TrainedModel
        ``backend="pytorch"``, canonical float32 weights, the training summary.
    """
    with torch_threads(options.num_threads):
        return _train(data, model_config, training_config, options, extra_callbacks)


def _train(
    data: TrainingData,
    model_config: ModelConfig,
    training_config: TrainingConfig,
    options: TorchOptions,
    extra_callbacks: Sequence[Callback],
) -> TrainedModel:
    tc = training_config
    L.seed_everything(tc.seed, workers=True, verbose=False)
    probe = normalise_probe(
        data.probe, reference_transmission=model_config.reference_transmission, mask=model_config.probe_mask
    )
    norm = data.normalisation
    module = PtychoPINNModule(model_config, tc, probe=probe, input_scale=norm.input_scale, seed=tc.seed)
    dm = PtychoDataModule(
        data.train,
        data.validation,
        network_scale=norm.network_scale,
        batch_size=tc.batch_size,
        num_workers=options.num_workers,
        with_truth=model_config.model_type == "supervised",
        seed=tc.seed,
    )
    has_val = dm.val_set is not None
    callbacks: list[Callback] = list(extra_callbacks)
    early = None
    if tc.early_stopping_patience is not None:
        monitor = "val_loss" if has_val else "loss"
        early = EarlyStopping(
            monitor=monitor, patience=tc.early_stopping_patience, mode="min", min_delta=tc.plateau_min_delta
        )
        callbacks.append(early)
    tmp = None
    if options.log_dir is None:
        tmp = tempfile.mkdtemp(prefix="ptychopinn-torch-")
        log_root = tmp
    else:
        log_root = options.log_dir
    logger = CSVLogger(log_root, name="ptychopinn", flush_logs_every_n_steps=1_000_000)
    n_batches = max(1, math.ceil(data.train.n_groups / tc.batch_size))
    trainer = L.Trainer(
        max_epochs=tc.epochs,
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=min(50, n_batches),
        limit_val_batches=None if has_val else 0,
        **options.trainer_kwargs(),
    )
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*number of training batches.*")
            trainer.fit(module, datamodule=dm)
        wall = time.perf_counter() - t0
        history = _read_history(Path(logger.log_dir) / "metrics.csv") if trainer.is_global_zero else {}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return trained_model(
        data, model_config, training_config, backend="pytorch", backend_version=__version__,
        weights=network_weights(module.net), epochs_run=trainer.current_epoch, history=history,
        wall_time_s=wall, stopped_early=early is not None and early.stopped_epoch > 0,
        metadata={
            "torch_version": torch.__version__,
            "lightning_version": L.__version__,
            "world_size": str(trainer.world_size),
            "precision": str(options.precision),
        },
    )
