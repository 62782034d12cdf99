"""Loaders shared by the regression datamodules (airfoil, synthetic): minibatches and whole-set evaluation."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from zoo.errors import ConfigError

__all__ = ["check_batch_size", "full_loader", "minibatches"]


def check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")


def minibatches(features: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool) -> DataLoader:
    """(X (B, F), y (B,)) batches; shuffled with the global torch RNG (seeded by ``seed_everything``), like the book's
    ``DataLoader(..., shuffle=True)``. The last batch may be smaller (the book keeps it too)."""
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=shuffle)


def full_loader(features: torch.Tensor, labels: torch.Tensor) -> DataLoader:
    """One batch holding every example, in order: the whole-set loss the book prints after training."""
    return DataLoader(TensorDataset(features, labels), batch_size=max(len(labels), 1), shuffle=False)
