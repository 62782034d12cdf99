"""Self-describing checkpoints: every zoo task records its class, so a checkpoint alone rebuilds the model."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from zoo.errors import ConfigError

__all__ = ["CLASS_KEY", "load_task", "record_class"]

CLASS_KEY = "zoo_class"


def record_class(checkpoint: dict[str, Any], module: object) -> None:
    """Store ``module``'s import path in ``checkpoint`` (called from each task's ``on_save_checkpoint``)."""
    cls = type(module)
    checkpoint[CLASS_KEY] = f"{cls.__module__}:{cls.__qualname__}"


def load_task(path: str | Path, map_location: str | torch.device = "cpu"):
    """Load any zoo checkpoint without knowing its class: ``load_task("last.ckpt").generate("分开", 50)``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} does not exist")
    try:
        header = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise ConfigError(f"{path} is not a readable checkpoint ({exc})") from exc
    if not isinstance(header, dict) or CLASS_KEY not in header:
        raise ConfigError(f"{path} was not written by a lightning-zoo model (no {CLASS_KEY!r} entry)")
    module_name, _, qualname = header[CLASS_KEY].partition(":")
    cls = getattr(importlib.import_module(module_name), qualname)
    return cls.load_from_checkpoint(path, map_location=map_location)
