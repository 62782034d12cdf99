"""Self-describing checkpoints: every zoo task records its class, so a checkpoint alone rebuilds the model.

Checkpoints name classes in two places: the zoo's own ``zoo_class`` entry (``"zoo.convnets:ResNet18"``) and, when
LightningCLI wrote them, Lightning's ``_class_path`` hyperparameter. Both may name a module that has since moved
(checkpoints written before the layout of DESIGN.md say ``zoo.image_classifiers``, ``zoo.regression``, ...).
`load_task` therefore finds the class by its name in ``zoo.ARCHITECTURES`` first, and every task's
``load_from_checkpoint`` (`zoo.tasks.base.ZooTask`) points ``_class_path`` at the class being loaded, so old and new
checkpoints load alike.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from zoo.errors import ConfigError

__all__ = ["CLASS_KEY", "load_task", "read_header", "record_class"]

CLASS_KEY = "zoo_class"


def record_class(checkpoint: dict[str, Any], module: object) -> None:
    """Store ``module``'s import path in ``checkpoint`` (called from each task's ``on_save_checkpoint``)."""
    cls = type(module)
    checkpoint[CLASS_KEY] = f"{cls.__module__}:{cls.__qualname__}"


def read_header(path: str | Path) -> dict[str, Any]:
    """The checkpoint's dict, memory-mapped (tensors are not read); `ConfigError` for a missing or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} does not exist")
    try:
        header = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise ConfigError(f"{path} is not a readable checkpoint ({exc})") from exc
    if not isinstance(header, dict):
        raise ConfigError(f"{path} is not a Lightning checkpoint (it holds a {type(header).__name__})")
    return header


def _class_of(recorded: str) -> type:
    """The class a ``zoo_class`` entry names: by name in the registry, else by its recorded import path."""
    import zoo

    module_name, _, qualname = recorded.partition(":")
    if qualname in zoo.ARCHITECTURES:
        return zoo.ARCHITECTURES.load(qualname)
    try:
        return getattr(importlib.import_module(module_name), qualname)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"the checkpoint was written by {recorded}, which this version of the zoo does not have "
                          f"({exc})") from exc


def load_task(path: str | Path, map_location: str | torch.device = "cpu"):
    """Load any zoo checkpoint without knowing its class: ``load_task("last.ckpt").generate("分开", 50)``."""
    header = read_header(path)
    if CLASS_KEY not in header:
        raise ConfigError(f"{path} was not written by a lightning-zoo model (no {CLASS_KEY!r} entry)")
    return _class_of(header[CLASS_KEY]).load_from_checkpoint(path, map_location=map_location)
