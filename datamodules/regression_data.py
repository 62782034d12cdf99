"""`RegressionDataModule`: what the regression datamodules share (airfoil, the synthetic data of chapter 3).

A subclass fills ``train_features``/``train_labels`` (and, when it has a test set, ``test_features``/
``test_labels``) in `make_data`; this base serves shuffled minibatches for training and, as the book's training loops
do, evaluates whole sets after every epoch: ``val_dataloader()`` is the full training set and, if there is one, the
full test set, named in ``eval_sets`` (`zoo.tasks.regression` logs ``train/full_loss`` and ``test/loss`` from them).
"""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from zoo.errors import ConfigError
from zoo.validation import positive_int

__all__ = ["RegressionDataModule", "check_batch_size", "full_loader", "minibatches"]


def check_batch_size(batch_size: int, owner: str | None = None) -> None:
    """`ConfigError` unless ``batch_size`` is an integer >= 1 (`zoo.validation.positive_int`)."""
    positive_int(batch_size, "batch_size", owner)


def minibatches(features: torch.Tensor, labels: torch.Tensor, batch_size: int, shuffle: bool) -> DataLoader:
    """(X (B, F), y (B,)) batches; shuffled with the global torch RNG (seeded by ``seed_everything``), like the book's
    ``DataLoader(..., shuffle=True)``. The last batch may be smaller (the book keeps it too)."""
    return DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=shuffle)


def full_loader(features: torch.Tensor, labels: torch.Tensor) -> DataLoader:
    """One batch holding every example, in order: the whole-set loss the book prints after training."""
    return DataLoader(TensorDataset(features, labels), batch_size=max(len(labels), 1), shuffle=False)


class RegressionDataModule(L.LightningDataModule):
    """Base of the regression datamodules (see the module docstring); a subclass implements `make_data`.

    Args:
        batch_size: minibatch size.
        shuffle: reshuffle the training set every epoch (the book: yes).
    """

    has_test_set: bool = False  # a subclass with a test split sets it, and fills test_features/test_labels

    def __init__(self, batch_size: int, shuffle: bool = True) -> None:
        super().__init__()
        check_batch_size(batch_size, type(self).__name__)
        self.batch_size, self.shuffle = batch_size, shuffle

    @property
    def eval_sets(self) -> tuple[str, ...]:
        """Names of the loaders of ``val_dataloader()``, in order."""
        return ("train", "test") if self.has_test_set else ("train",)

    def make_data(self) -> None:
        """Set ``train_features`` (N, F), ``train_labels`` (N,) and, with a test set, ``test_features``/``labels``."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        self.make_data()

    def train_dataloader(self) -> DataLoader:
        return minibatches(self.train_features, self.train_labels, self.batch_size, self.shuffle)

    def val_dataloader(self) -> DataLoader | list[DataLoader]:
        train = full_loader(self.train_features, self.train_labels)
        return [train, self.test_dataloader()] if self.has_test_set else train

    def test_dataloader(self) -> DataLoader:
        if not self.has_test_set:
            raise ConfigError(f"{type(self).__name__} has no test set (the book evaluates on the training set)")
        return full_loader(self.test_features, self.test_labels)
