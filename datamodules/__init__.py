"""One LightningDataModule per dataset of the books: ``from datamodules import JayChouLyricsDataModule``.

Names load lazily, so ``datamodules._download`` (the verified-download helpers) imports without Lightning.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Every datamodule, by class name -> defining module.
DATAMODULES: dict[str, str] = {
    "JayChouLyricsDataModule": "datamodules.jaychou_lyrics",
    "FashionMNISTDataModule": "datamodules.fashion_mnist",
    "CIFAR10DataModule": "datamodules.cifar10",
    "HotdogDataModule": "datamodules.hotdog",
    "AirfoilDataModule": "datamodules.airfoil",
    "LinearSyntheticDataModule": "datamodules.synthetic",
    "PolynomialSyntheticDataModule": "datamodules.synthetic",
    "HighDimSyntheticDataModule": "datamodules.synthetic",
}

__all__ = sorted([*DATAMODULES, "DATAMODULES"])


def __getattr__(name: str) -> Any:
    if name not in DATAMODULES:
        raise AttributeError(f"module 'datamodules' has no attribute {name!r}")
    return getattr(import_module(DATAMODULES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *DATAMODULES])
