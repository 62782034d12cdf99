"""`ZooTask`: what every task base shares, which is how a zoo model is saved and restored.

A task base (classification, language model, regression, ...) subclasses `ZooTask` instead of
``L.LightningModule``; architectures subclass a task base. `ZooTask` adds no step, loss or metric: only

* ``on_save_checkpoint``: the checkpoint records the model's class (`zoo.tasks.checkpoint.record_class`), so
  ``zoo.load_task(path)`` rebuilds it without the recipe;
* ``load_from_checkpoint``: Lightning's, except that pretrained weights are not fetched (the checkpoint supplies
  every tensor, so a fine-tuned checkpoint loads on a machine without the ImageNet file) and that a checkpoint
  written by LightningCLI loads even if its ``_class_path`` names a module that has moved since (for example
  ``zoo.image_classifiers``, before the layout of DESIGN.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

from zoo.tasks.checkpoint import read_header, record_class
from zoo.weights import weights_from_checkpoint

__all__ = ["ZooTask"]


class ZooTask(L.LightningModule):
    """The common root of the task bases (see the module docstring)."""

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        """``LightningModule.load_from_checkpoint``, robust to moved modules and without fetching pretrained weights."""
        if isinstance(checkpoint_path, (str, Path)) and "_class_path" not in kwargs:
            hparams = read_header(checkpoint_path).get("hyper_parameters") or {}
            if "_class_path" in hparams:  # LightningCLI wrote it; Lightning checks that the path resolves to cls
                kwargs["_class_path"] = f"{cls.__module__}.{cls.__qualname__}"
        with weights_from_checkpoint():
            return super().load_from_checkpoint(checkpoint_path, *args, **kwargs)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        record_class(checkpoint, self)
