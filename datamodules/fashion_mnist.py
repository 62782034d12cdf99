"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, https://arxiv.org/abs/1708.07747), the dataset of book 3.5 to 5.12.

60,000 training and 10,000 test images, 1x28x28 grey levels, 10 classes. The four gzip IDX files, their mirrors
and md5 checksums are torchvision's (``torchvision.datasets.FashionMNIST.mirrors``/``.resources``); they are fetched
by the zoo's verified downloader (cache folder, ``$ZOO_DATA_MIRROR``, clear offline error) into torchvision's own
layout, ``<cache>/FashionMNIST/raw/``, unpacked there, and parsed by torchvision. A folder that torchvision
downloaded itself works as it is.

Batches are uint8 and become float on the device; see `datamodules.images` for the fast path and the options.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch
from torchvision.datasets import FashionMNIST
from torchvision.datasets.utils import extract_archive

from datamodules.download import Resource, fetch
from datamodules.images import DecodedImageDataModule
from zoo.errors import DataError

__all__ = ["FashionMNISTDataModule", "fashion_mnist_resources"]

_PARSE_ERRORS = (RuntimeError, AssertionError, ValueError, KeyError, IndexError, OSError, EOFError)


def fashion_mnist_resources() -> list[Resource]:
    """The four gzip files as `Resource`s, from torchvision's class attributes (read at call time)."""
    return [Resource(name, tuple(mirror + name for mirror in FashionMNIST.mirrors), md5, "md5")
            for name, md5 in FashionMNIST.resources]


def _gunzip(archive: Path, target: Path) -> None:
    """Unpack ``archive`` (.gz) to ``target`` with torchvision, through a temporary folder and an atomic rename."""
    staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=target.parent))
    try:
        out = extract_archive(archive, staging)
        os.replace(Path(out), target)
    except (OSError, EOFError, RuntimeError) as exc:
        raise DataError(f"{archive} passed its checksum but cannot be unpacked ({exc}); delete it and run again") \
            from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class FashionMNISTDataModule(DecodedImageDataModule):
    """Fashion-MNIST as uint8 batches (B, 1, 28, 28) converted, resized and normalised on the device.

    Arguments: see `datamodules.images.DecodedImageDataModule` (``data_dir``, ``batch_size``, ``resize``, ``normalize``,
    ``mean``, ``std``, ``val_size``, ``seed``, ``num_workers``, ``transform_on``,
    ``augment``: training-batch augmentation presets of book 9.1, see `datamodules.augment`).
    """

    num_classes = 10
    in_channels = 1
    native_size = 28
    classes = list(FashionMNIST.classes)
    MEAN = (0.2860,)  # of the 60,000 training images, in [0, 1]
    STD = (0.3530,)
    folder = "FashionMNIST"

    @property
    def raw_folder(self) -> Path:
        return self.root / self.folder / "raw"

    def download(self) -> None:
        """Fetch each .gz unless its unpacked file is already there (and newer than the .gz), then unpack it."""
        raw = self.raw_folder
        for resource in fashion_mnist_resources():
            target = raw / resource.filename.removesuffix(".gz")
            archive = raw / resource.filename
            unpacked_is_current = target.is_file() and not (
                archive.is_file() and archive.stat().st_mtime_ns > target.stat().st_mtime_ns)
            if unpacked_is_current:
                continue
            _gunzip(fetch(resource, raw), target)

    def sources(self, train: bool) -> list[Path]:
        prefix = "train" if train else "t10k"
        return [self.raw_folder / f"{prefix}-images-idx3-ubyte", self.raw_folder / f"{prefix}-labels-idx1-ubyte"]

    def decode(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            dataset = FashionMNIST(str(self.root), train=train, download=False)
        except _PARSE_ERRORS as exc:
            files = " and ".join(str(p) for p in self.sources(train))
            raise DataError(f"cannot read {files} ({type(exc).__name__}: {exc}); they are corrupt or not IDX files. "
                            "Delete them and run again: they are unpacked again from the verified downloads") from exc
        images, labels = dataset.data, dataset.targets
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{self.raw_folder} has {images.shape[0]} images but {labels.shape[0]} labels for the "
                            f"{'train' if train else 'test'} split; delete the files and run again")
        return images.unsqueeze(1).contiguous(), labels.long()  # (N, 28, 28) -> (N, 1, 28, 28)
