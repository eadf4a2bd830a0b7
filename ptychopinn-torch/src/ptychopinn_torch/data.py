"""Datasets over core's ``GroupedScan`` and the Lightning data module.

Groups refer to rows of the (possibly memory-mapped) diffraction stack, so memory grows with
the batch, not with the scan.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ptychopinn.data import GroupedScan

__all__ = ["GroupDataset", "PtychoDataModule"]


class GroupDataset(Dataset):
    """One item per group, read with :class:`~ptychopinn.data.GroupedScan`'s batch methods.

    Item: ``{"x": (C, N, N) float32 network units, "offsets": (C, 2) float32 (dx, dy),
    ["truth": (C, N, N) complex64]}``. Core checked beforehand that a supervised model's groups
    carry ground truth (:func:`ptychopinn.config.compatibility.check_compatible`).
    """

    def __init__(self, grouped: GroupedScan, *, network_scale: float, with_truth: bool = False) -> None:
        self.grouped = grouped
        self.scale = np.float32(network_scale)
        self.with_truth = with_truth

    def __len__(self) -> int:
        return self.grouped.n_groups

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = self.grouped
        x = g.batch_diffraction(i, i + 1)[0] * self.scale
        item = {"x": torch.from_numpy(x), "offsets": torch.from_numpy(g.offsets[i].astype(np.float32))}
        if self.with_truth:
            item["truth"] = torch.from_numpy(g.batch_ground_truth(i, i + 1)[0])
        return item


class PtychoDataModule(L.LightningDataModule):
    """Training / validation loaders over grouped scans (shuffled training, seeded)."""

    def __init__(
        self,
        train: GroupedScan,
        validation: GroupedScan | None,
        *,
        network_scale: float,
        batch_size: int,
        num_workers: int = 0,
        with_truth: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.train_set = GroupDataset(train, network_scale=network_scale, with_truth=with_truth)
        self.val_set = (
            GroupDataset(validation, network_scale=network_scale, with_truth=with_truth)
            if validation is not None and validation.n_groups > 0
            else None
        )
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator()
        gen.manual_seed(self.seed)
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            generator=gen,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader | list:
        if self.val_set is None:
            return []
        return DataLoader(self.val_set, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers)
