"""``PtychoPINNModule``: the Lightning module (network of any architecture + fixed physics + loss)."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from ptychopinn.config import ModelConfig, TrainingConfig
from ptychopinn_torch.losses import pinn_loss, supervised_loss
from ptychopinn_torch.network import build_network
from ptychopinn_torch.physics import predicted_amplitude

__all__ = ["PtychoPINNModule"]


class PtychoPINNModule(L.LightningModule):
    """Trains the network of ``model_config`` (:func:`~ptychopinn_torch.network.build_network`)
    through the differentiable physics.

    Parameters
    ----------
    model_config, training_config : frozen configs
    probe : (N, N) complex64
        The *normalised* probe (``ptychopinn.physics.normalise_probe``).
    input_scale : float
        ``Normalisation.input_scale`` (network units per sqrt(count)).
    seed : int
        Seed of the initial weights (core's ``init_weights``).
    """

    def __init__(
        self,
        model_config: ModelConfig,
        training_config: TrainingConfig,
        *,
        probe: np.ndarray,
        input_scale: float,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.model_config = model_config
        self.training_config = training_config
        self.input_scale = float(input_scale)
        self.net = build_network(model_config, seed=seed)
        if model_config.model_type != "pinn":
            self.net.physics.log_scale.requires_grad_(False)
        p = np.asarray(probe, dtype=np.complex64)
        # Real (2, N, N) buffer: DDP broadcasts buffers and not every backend handles complex.
        self.register_buffer("probe_ri", torch.from_numpy(np.stack([p.real, p.imag]).astype(np.float32)))

    @property
    def probe(self) -> torch.Tensor:
        """(N, N) complex64 normalised probe."""
        return torch.complex(self.probe_ri[0], self.probe_ri[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Network input (B, C, N, N) -> object patches (B, C', N, N) complex64."""
        return self.net(x)

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["x"]
        obj = self.net(x)
        cfg = self.model_config
        with torch.autocast(device_type=x.device.type, enabled=False):
            if cfg.model_type == "supervised":
                truth = batch["truth"]
                if not cfg.object_big and truth.shape[1] != obj.shape[1]:
                    truth = truth[:, :1]
                return supervised_loss(obj, truth)
            offsets = batch["offsets"] if x.shape[1] > 1 else None
            predicted = predicted_amplitude(
                obj, self.probe, offsets, object_big=cfg.object_big, log_scale=self.net.physics.log_scale
            )
            return pinn_loss(
                predicted,
                x.float(),
                input_scale=self.input_scale,
                nll_weight=self.training_config.nll_weight,
                mae_weight=self.training_config.mae_weight,
            )

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log(
            "loss", loss, on_step=False, on_epoch=True, prog_bar=True, sync_dist=True, batch_size=batch["x"].shape[0]
        )
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log(
            "val_loss",
            loss,
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            sync_dist=True,
            batch_size=batch["x"].shape[0],
        )
        return loss

    def on_train_epoch_end(self) -> None:
        lr = self.trainer.optimizers[0].param_groups[0]["lr"]
        self.log("learning_rate", float(lr), on_step=False, on_epoch=True, sync_dist=True)

    def configure_optimizers(self) -> dict:
        tc = self.training_config
        params = [p for p in self.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=tc.learning_rate)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt,
            mode="min",
            factor=tc.plateau_factor,
            patience=tc.plateau_patience,
            min_lr=tc.min_learning_rate,
            # Absolute, like Keras' min_delta: torch's default relative threshold is meaningless for a loss
            # near 0 and lenient (never fires) for a negative one.
            threshold=tc.plateau_min_delta,
            threshold_mode="abs",
        )
        monitor = "val_loss" if self._has_validation() else "loss"
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": monitor, "interval": "epoch"}}

    def _has_validation(self) -> bool:
        dm = getattr(self.trainer, "datamodule", None)
        return dm is not None and getattr(dm, "val_set", None) is not None
