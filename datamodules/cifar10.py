"""CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"), the dataset of book 9.1.

50,000 training and 10,000 test colour images, 3x32x32, 10 classes. The archive ``cifar-10-python.tar.gz``, its URL
and md5, and the md5 of every pickled batch inside are torchvision's (``torchvision.datasets.CIFAR10`` class
attributes). The archive is fetched by the zoo's verified downloader (cache folder, ``$ZOO_DATA_MIRROR``, clear
offline error) into the cache folder, unpacked safely to torchvision's layout (``<cache>/cifar-10-batches-py/``) and
parsed by torchvision, which checks every batch file's md5. A folder that torchvision downloaded itself works as it
is; one with a corrupt batch file is unpacked again from the verified archive.

Batches are uint8 and become float on the device; see `datamodules.images` for the fast path and the options.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from datamodules.download import Resource, ensure_extracted, fetch
from datamodules.images import DecodedImageDataModule
from zoo.errors import DataError

__all__ = ["CIFAR10DataModule", "cifar10_resource"]

#: Label names in label order, as ``batches.meta`` lists them (needed before the files are read).
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar10_resource() -> Resource:
    """The archive as a `Resource`, from torchvision's class attributes (read at call time)."""
    return Resource(CIFAR10.filename, (CIFAR10.url,), CIFAR10.tgz_md5, "md5")


def _checked_files() -> list[tuple[str, str]]:
    return [*CIFAR10.train_list, *CIFAR10.test_list, (CIFAR10.meta["filename"], CIFAR10.meta["md5"])]


class CIFAR10DataModule(DecodedImageDataModule):
    """CIFAR-10 as uint8 batches (B, 3, 32, 32) converted, resized and normalised on the device.

    Arguments: see `datamodules.images.DecodedImageDataModule` (``data_dir``, ``batch_size``, ``resize``, ``normalize``,
    ``mean``, ``std``, ``val_size``, ``seed``, ``num_workers``, ``transform_on``,
    ``augment``: training-batch augmentation presets of book 9.1, see `datamodules.augment`).
    """

    num_classes = 10
    in_channels = 3
    native_size = 32
    classes = CIFAR10_CLASSES
    MEAN = (0.4914, 0.4822, 0.4465)  # of the 50,000 training images, in [0, 1]
    STD = (0.2470, 0.2435, 0.2616)
    folder = CIFAR10.base_folder

    def bad_files(self) -> list[str]:
        """Names of the batch files that are missing or fail their md5 check."""
        folder = self.root / self.folder
        return [name for name, md5 in _checked_files() if not check_integrity(str(folder / name), md5)]

    def download(self) -> None:
        """Fetch and unpack the archive unless every batch file is present and intact."""
        if not self.bad_files():
            return
        archive = fetch(cifar10_resource(), self.root)
        folder = self.root / self.folder
        if folder.exists():  # incomplete or corrupt: unpack again from the verified archive
            shutil.rmtree(folder)
        ensure_extracted(archive, self.root, self.folder)
        bad = self.bad_files()
        if bad:
            raise DataError(f"{archive} passed its md5 check, but {', '.join(bad)} inside fail theirs; "
                            "is it the right file?")

    def sources(self, train: bool) -> list[Path]:
        names = [name for name, _ in (CIFAR10.train_list if train else CIFAR10.test_list)]
        return [self.root / self.folder / name for name in [*names, CIFAR10.meta["filename"]]]

    def decode(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            dataset = CIFAR10(str(self.root), train=train, download=False)
        except (RuntimeError, ValueError, KeyError, OSError, EOFError) as exc:
            bad = self.bad_files()
            detail = f"{', '.join(bad)} fail their md5 check" if bad else f"{type(exc).__name__}: {exc}"
            raise DataError(f"cannot read CIFAR-10 in {self.root / self.folder} ({detail}). Delete the folder and "
                            "run again: it is unpacked again from the verified archive") from exc
        if list(dataset.classes) != CIFAR10_CLASSES:
            raise DataError(f"{self.root / self.folder} lists the classes {dataset.classes}, expected "
                            f"{CIFAR10_CLASSES}; is it CIFAR-10?")
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()  # (N, 32, 32, 3) -> (N, 3, 32, 32)
        return images, torch.tensor(dataset.targets, dtype=torch.long)
