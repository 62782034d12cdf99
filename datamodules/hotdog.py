"""Hotdog, the fine-tuning dataset of book 9.2: photos of hot dogs and of other food, scraped from the web.

1,400 images of each class; 1,000 of each for training and the rest for testing (book 9.2.1.1, L9818), i.e. 2,000
train and 800 test images. ``hotdog.zip`` (sha1-verified, fetched by the zoo's downloader: cache folder,
``$ZOO_DATA_MIRROR``, the d2l URL, then MXNet's copy) unpacks to ``hotdog/train`` and ``hotdog/test``, each with the
class folders ``hotdog`` and ``not-hotdog``, read with torchvision's ``ImageFolder`` (classes sorted by folder name:
0 = hotdog, 1 = not-hotdog). The images are JPEG/PNG files of varying size, so each one is decoded and cropped on its
own in the loader (``num_workers`` processes; the book uses 4).

Transforms, as the book (9.2.1.1): training images get a random resized crop to 224 and a random horizontal flip;
test images are resized so the shorter side is 256 and centre-cropped to 224; both are normalised with the ImageNet
channel statistics. ``weights`` names the torchvision weights the model starts from (``"IMAGENET1K_V1"`` for
ResNet-18, or a full name such as ``"ResNet50_Weights.IMAGENET1K_V2"``); the resize and crop sizes and the mean and
std are then read from that weights entry's ``transforms()`` (its pretraining preprocessing) instead of being
restated here. Without ``weights`` the book's numbers are used (also for the book's from-scratch run, E9.2b).
The recipe sets ``weights`` next to the model's ``pretrained``; the model warns at the start of fit if the
datamodule's normalisation differs from what its weights expect.

Batches leave the workers as uint8 (B, 3, 224, 224) and become normalised floats on the device, or in the loader
under a CPU Trainer (``transform_on``); splits, loaders and that conversion are `datamodules.images.ImageDataModule`'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from lightning.pytorch.utilities import rank_zero_info
from PIL import Image
from torch.utils.data import default_collate
from torchvision import transforms as T
from torchvision.datasets import ImageFolder

from datamodules.download import Resource, checksum_note, ensure_extracted, fetch
from datamodules.images import BatchTransform, ImageDataModule, to_float_batch, weights_preprocess
from zoo.errors import ConfigError, DataError

__all__ = ["BOOK_PREPROCESS", "HOTDOG", "HOTDOG_CLASSES", "HotdogDataModule"]

HOTDOG = Resource("hotdog.zip", ("http://d2l-data.s3-accelerate.amazonaws.com/hotdog.zip",
                                 "https://apache-mxnet.s3-accelerate.amazonaws.com/gluon/dataset/hotdog.zip"),
                  "fba480ffa8aa7e0febbb511d181409f899b9baa5", "sha1")
HOTDOG_CLASSES = ["hotdog", "not-hotdog"]  # ImageFolder's order: sorted folder names
#: The book's preprocessing without pretrained weights (9.2.1.1, L9853-L9866): Resize(256), CenterCrop(224) and
#: Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]).
BOOK_PREPROCESS: dict[str, Any] = {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406],
                                   "std": [0.229, 0.224, 0.225], "channels": 3}
SPLITS = ("train", "test")


def open_rgb(path: str) -> Image.Image:
    """``ImageFolder``'s loader: the file as an RGB PIL image, or a `DataError` naming the file."""
    try:
        with open(path, "rb") as f:
            image = Image.open(f)
            return image.convert("RGB")
    except (OSError, ValueError) as exc:  # UnidentifiedImageError is an OSError
        raise DataError(f"cannot read the image {path} ({type(exc).__name__}: {exc}); the extracted dataset is "
                        "damaged: delete its folder and run again to unpack it afresh") from exc


class HotdogDataModule(ImageDataModule):
    """Hotdog (book 9.2) as uint8 batches (B, 3, crop, crop), normalised on the device.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        batch_size: images per batch (the book: 128).
        weights: torchvision weights whose preprocessing to use (see the module docstring); ``None``: the book's.
        resize_size, crop_size: override the test resize (shorter side) and the crop side (train and test); default
            the weights' (or the book's) 256 and 224. Smaller values train faster on a CPU.
        val_size: training images held out, by a seeded split, for validation (preprocessed like test images);
            0 (the book) evaluates on the test split during training, logged as ``test/*``. The test split is never
            split.
        seed: seed of the validation split.
        num_workers: DataLoader worker processes that decode and crop the images (the book: 4).
        transform_on: where uint8 batches become normalised floats: ``"device"``, ``"loader"`` or ``"auto"``
            (the loader under a CPU Trainer, else the device).
    """

    num_classes: ClassVar[int] = 2
    in_channels: ClassVar[int] = 3
    classes: ClassVar[list[str]] = HOTDOG_CLASSES
    folder: ClassVar[str] = "hotdog"

    def __init__(self, data_dir: str | None = None, batch_size: int = 128, weights: str | None = None,
                 resize_size: int | None = None, crop_size: int | None = None, val_size: int = 0, seed: int = 0,
                 num_workers: int = 0, transform_on: Literal["auto", "device", "loader"] = "auto") -> None:
        super().__init__(data_dir, batch_size, val_size, seed, num_workers, transform_on)
        base, source = weights_preprocess(weights) if weights else (dict(BOOK_PREPROCESS), "the book (9.2.1.1)")
        self.preprocess = {**base, "resize": resize_size or base["resize"], "crop": crop_size or base["crop"]}
        if min(self.preprocess["resize"], self.preprocess["crop"]) < 1:
            raise ConfigError(f"{type(self).__name__}: resize_size and crop_size must be positive, got {resize_size}, "
                              f"{crop_size}")
        self.source = source
        self.save_hyperparameters()

    # ------------------------------------------------------------- what the CLI links into the model
    @property
    def image_size(self) -> int:
        """Side of the square images the model sees (the crop)."""
        return self.preprocess["crop"]

    # ------------------------------------------------------------- files
    @property
    def data_folder(self) -> Path:
        return self.root / self.folder

    def _missing_folders(self) -> list[str]:
        return [f"{split}/{cls}" for split in SPLITS for cls in HOTDOG_CLASSES
                if not (self.data_folder / split / cls).is_dir()]

    def download(self) -> None:
        """Fetch (sha1-verified) and unpack ``hotdog.zip`` unless every class folder is there."""
        if not self._missing_folders():
            return
        archive = fetch(HOTDOG, self.root)
        if self.data_folder.exists():  # incomplete: unpack again from the verified archive
            shutil.rmtree(self.data_folder)
        ensure_extracted(archive, self.root, self.folder)
        missing = self._missing_folders()
        if missing:
            raise DataError(f"{archive} {checksum_note(archive, HOTDOG)}, but lacks the folders {', '.join(missing)} "
                            f"under {self.folder}/; is it the right file?")

    def split_dataset(self, split: str, training: bool) -> ImageFolder:
        """The images of ``split`` as an ``ImageFolder``, with the training or the evaluation transform."""
        return self._image_folder(split, self.train_transform() if training else self.eval_transform())

    def _image_folder(self, split: str, transform: T.Compose) -> ImageFolder:
        folder = self.data_folder / split
        if self._missing_folders():
            raise DataError(f"{self.data_folder} lacks {', '.join(self._missing_folders())}; call prepare_data() first "
                            f"(Trainer.fit does) or unpack hotdog.zip under {self.root}")
        try:
            dataset = ImageFolder(str(folder), transform=transform, loader=open_rgb)
        except (FileNotFoundError, OSError) as exc:
            raise DataError(f"cannot list the images in {folder} ({exc})") from exc
        if dataset.classes != HOTDOG_CLASSES:
            raise DataError(f"{folder} has the class folders {dataset.classes}, expected {HOTDOG_CLASSES}")
        return dataset

    # ------------------------------------------------------------- transforms (per image, in the workers)
    def train_transform(self) -> T.Compose:
        """Random resized crop (default scale 0.08-1, aspect 3/4-4/3) and a random flip; uint8 (3, crop, crop) out."""
        return T.Compose([T.RandomResizedCrop(self.preprocess["crop"]), T.RandomHorizontalFlip(), T.PILToTensor()])

    def eval_transform(self) -> T.Compose:
        """Resize the shorter side, then centre-crop; uint8 (3, crop, crop) out."""
        pre = self.preprocess
        return T.Compose([T.Resize(pre["resize"]), T.CenterCrop(pre["crop"]), T.PILToTensor()])

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, 3, H, W) -> float in [0, 1], normalised with ``preprocess``'s mean and std."""
        return to_float_batch(images, None, self.preprocess["mean"], self.preprocess["std"])

    def collate(self, training: bool, in_loader: bool) -> tuple[Any, int]:
        """Images are decoded and cropped one by one in the workers, so every loader uses them."""
        pre = self.preprocess
        collate = BatchTransform(None, pre["mean"], pre["std"], collate=default_collate) if in_loader \
            else default_collate
        return collate, self.hparams.num_workers

    def setup(self, stage: str | None = None) -> None:
        super().setup(stage)
        if not getattr(self, "_announced", False):
            pre, self._announced = self.preprocess, True
            rank_zero_info(f"{type(self).__name__}: preprocessing of {self.source}: train random-resized-crop "
                           f"{pre['crop']} + flip; test resize {pre['resize']}, centre-crop {pre['crop']}; "
                           f"mean {pre['mean']}, std {pre['std']}")
