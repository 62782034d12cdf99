"""The split rule the classification datamodules share, and their loaders.

A datamodule with ``val_size`` holds ``train_set``, ``val_set`` (a seeded held-out part of the training data) and
``test_set`` (the official test split, never re-split). With ``val_size > 0`` the validation loader serves
``val_set``; with ``val_size=0`` (the book's setting) it serves the test split, and the task logs it honestly as
``test/*``: `SplitLoaders.eval_sets` says which. Each loader comes from the datamodule's own
``_loader(dataset, training)``, where ``training`` marks the only loader that shuffles (and augments).
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import DataLoader

__all__ = ["SplitLoaders"]


class SplitLoaders:
    """Train, validation, test and predict loaders over ``train_set``/``val_set``/``test_set``; mix into a
    ``LightningDataModule`` that defines ``_loader(dataset, training)`` and a ``val_size`` hyperparameter."""

    hparams: Any

    @property
    def eval_sets(self) -> tuple[str]:
        """What ``val_dataloader`` serves: ``("val",)`` (a held-out part of train) or ``("test",)`` (``val_size=0``)."""
        return ("val",) if self.hparams.val_size else ("test",)

    def _loader(self, dataset: Any, training: bool) -> DataLoader:
        raise NotImplementedError(f"{type(self).__name__} must implement _loader(dataset, training)")

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, training=True)

    def val_dataloader(self) -> DataLoader:
        """The validation split, or the test split when ``val_size=0`` (see `eval_sets`)."""
        return self._loader(self.val_set if self.hparams.val_size else self.test_set, training=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, training=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, training=False)
