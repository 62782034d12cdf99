"""What every classification task shares: the epoch's loss and accuracy per split, the split the validation loader
serves, the steps and epoch ends that use them (`ClassifierSteps`), and top-k predictions with class names.

Book ``train_ch3`` (3.6.7) and ``train_ch5`` (5.5.2) accumulate the training accuracy over the epoch while the model
learns and evaluate the held-out data at the end of it in evaluation mode; `EpochMetrics` keeps, per split, the mean
loss (``MeanMetric``, weighted by the batch size) and the fraction of correct examples (torchmetrics' micro-averaged
``MulticlassAccuracy``), updated every step and logged once per epoch as ``<split>/loss`` and ``<split>/acc``.
Logging once per epoch instead of calling ``self.log`` every step keeps a step's cost close to a plain loop's.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

__all__ = ["ClassifierSteps", "EpochMetrics", "evaluated_split", "top_k"]

SPLITS = ("train", "val", "test")


class EpochMetrics(nn.Module):
    """Mean loss and accuracy of each split over an epoch.

    Args:
        num_classes: classes of the task.
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        # keyed "<split>_set": a ModuleDict key may not shadow a Module method such as train()
        self.loss = nn.ModuleDict({f"{split}_set": MeanMetric() for split in SPLITS})
        self.acc = nn.ModuleDict({f"{split}_set": MulticlassAccuracy(num_classes, average="micro") for split in SPLITS})

    def update(self, split: str, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one batch: its mean loss (weighted by its size), its logits (B, C) and labels (B,)."""
        self.loss[f"{split}_set"].update(loss.detach(), weight=labels.shape[0])
        self.acc[f"{split}_set"].update(logits.detach(), labels)

    def log(self, module: L.LightningModule, split: str, prefix: str) -> None:
        """Log the split's epoch values as ``<prefix>/loss`` and ``<prefix>/acc`` and reset them."""
        mean_loss, accuracy = self.loss[f"{split}_set"], self.acc[f"{split}_set"]
        if not accuracy.update_called:  # e.g. no batches ran
            return
        module.log(f"{prefix}/loss", mean_loss.compute())
        module.log(f"{prefix}/acc", accuracy.compute(), prog_bar=True)
        mean_loss.reset()
        accuracy.reset()


def evaluated_split(module: L.LightningModule) -> str:
    """What the datamodule's validation loader serves: the first of its ``eval_sets`` (``"test"`` when it has no
    validation split and evaluates the official test split, as the book does), else ``"val"``."""
    datamodule = module._trainer.datamodule if module._trainer is not None else None
    return (getattr(datamodule, "eval_sets", None) or ("val",))[0]


def top_k(logits: torch.Tensor, names: Sequence[str], k: int = 1) -> list[list[tuple[str, float]]]:
    """The ``k`` most likely (class name, probability) pairs of each row of ``logits`` (N, C), best first."""
    probs = torch.softmax(logits.float(), dim=1)  # (N, C)
    best = probs.topk(min(k, probs.shape[1]), dim=1)
    return [[(names[i], p) for i, p in zip(idx.tolist(), val.tolist())] for val, idx in zip(best.values, best.indices)]


class ClassifierSteps:
    """The training, validation and test steps and epoch ends of a classification task, mixed into its task base
    before ``ZooTask``: each step calls the task's ``_step(batch, split)`` (which updates ``self.metrics``, an
    `EpochMetrics`, and returns the loss) and each epoch end logs the split's mean loss and accuracy. The validation
    loader's split is logged under its own name (``val/*``, or ``test/*`` when it serves the test split)."""

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test" if evaluated_split(self) == "test" else "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()  # ZooTask: marks the epoch's end for the checkpoint
        self.metrics.log(self, "train", "train")

    def on_validation_epoch_end(self) -> None:
        prefix = evaluated_split(self)
        self.metrics.log(self, "test" if prefix == "test" else "val", prefix)

    def on_test_epoch_end(self) -> None:
        self.metrics.log(self, "test", "test")
