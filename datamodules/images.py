"""The image datamodules' common ground: `ImageDataModule` (splits, loaders, conversion of uint8 batches), and
`DecodedImageDataModule`, the fast path of the datasets that fit in memory: whole splits as one uint8 tensor,
batches as tensor operations.

torchvision's datasets hand out one PIL image at a time, and ``Resize``/``ToTensor`` then run once per image in
the loader workers; on a CPU that per-image work dominates an epoch of small models. Here:

1. a split is decoded once (by torchvision's own parser) into ``images`` uint8 (N, C, H, W) and ``labels`` int64
   (N,), and cached beside the data as ``decoded-<split>.pt``. The cache remembers the name, size and modification
   time of every file it was decoded from and is rebuilt when any of them changes;
2. a batch is one indexing operation, ``images[idx]`` (`ImageTensorDataset.__getitems__`), and travels as uint8;
3. `to_float_batch` turns the whole batch into float in [0, 1] (``ToTensor``), resizes it (bilinear with
   antialiasing, like ``transforms.Resize``: equal to torchvision's PIL pipeline on the CPU, within one grey level
   on a GPU) and normalises it, for training, validation, test and predict alike. Where (``transform_on``): with
   an accelerator, on the device in ``on_after_batch_transfer`` (a quarter of the bytes cross the bus and the GPU
   does the arithmetic); on the CPU, in the DataLoader (`BatchTransform` as ``collate_fn``), so that workers, if
   any, convert whole batches in parallel with training instead of the main process competing with the model
   for cores.

Outside a Trainer, batches stay uint8 unless ``transform_on="loader"``: call ``datamodule.transform(images)``.

Augmentation (``augment``, book 9.1; `datamodules.augment`) runs in the same place as the conversion, on training
batches only, before it: flips and crops on the uint8 batch at its native size, colour jitter on floats in [0, 1].

A datamodule's ``preprocess`` describes its evaluation preprocessing as primitives (resize, crop, mean, std,
channels); the classifiers record it in their hyperparameters so that a checkpoint alone can classify image files
(`load_image_files`), which opens them with `open_image`: 16-bit and float images scaled to 8 bits rather than
clipped, an image too large to open (a decompression bomb) one clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset

from datamodules.augment import Preset, augment_batch, check_preset
from datamodules.cache import load_cached
from datamodules.download import cache_root
from datamodules.splits import SplitLoaders
from zoo.errors import ConfigError, DataError
from zoo.validation import non_negative_int, positive_int

__all__ = ["BatchTransform", "DecodedImageDataModule", "ImageDataModule", "ImageTensorDataset", "collate_batch",
           "convert_images", "image_loader", "load_decoded", "load_image_files", "loader_converts", "open_image",
           "resize_shape", "split_indices", "to_float_batch", "weights_preprocess"]


CACHE_FORMAT = 2  # bump when the layout of decoded-<split>.pt changes


class ImageTensorDataset(Dataset):
    """(image, label) pairs of uint8 images (N, C, H, W) and labels (N,), optionally restricted to ``indices``.

    ``__getitems__`` serves a whole batch with one indexing operation; use it with `collate_batch`.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
        self.images, self.labels, self.indices = images, labels, indices

    def __len__(self) -> int:
        return len(self.indices) if self.indices is not None else self.labels.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        j = int(self.indices[i]) if self.indices is not None else i
        return self.images[j], self.labels[j]

    def __getitems__(self, batch: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(batch, dtype=torch.long)
        if self.indices is not None:
            idx = self.indices.index_select(0, idx)
        # index_select copies whole rows (a memcpy each); much cheaper than advanced indexing
        return self.images.index_select(0, idx), self.labels.index_select(0, idx)  # (B, C, H, W) uint8, (B,)


def collate_batch(batch: Any) -> Any:
    """The DataLoader ``collate_fn`` for `ImageTensorDataset`: ``__getitems__`` already returns a batch."""
    return batch


class BatchTransform:
    """``collate_fn`` that augments (``augment``, training loaders only) and converts a uint8 batch with
    `to_float_batch` in the loader (a worker process, if any). ``collate`` first turns the items into a batch
    (default: they already are one, see `ImageTensorDataset.__getitems__`)."""

    def __init__(self, size: int | None, mean: Sequence[float] | None, std: Sequence[float] | None,
                 augment: str = "none", collate: Callable[[Any], Any] | None = None) -> None:
        self.size, self.mean, self.std, self.augment, self.collate = size, mean, std, augment, collate

    def __call__(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self.collate(batch) if self.collate is not None else batch
        images = augment_batch(images, self.augment)
        return to_float_batch(images, self.size, self.mean, self.std), labels


def image_loader(dataset: Any, batch_size: int, shuffle: bool, num_workers: int, collate: Callable[[Any], Any],
                 converts: bool) -> DataLoader:
    """The DataLoader of every image datamodule; memory is pinned only when the device does the conversion."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers, collate_fn=collate,
                      pin_memory=torch.cuda.is_available() and not converts, persistent_workers=num_workers > 0)


def convert_images(batch: Any, convert: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """Apply ``convert`` to the uint8 images of a batch (a tensor or (images, labels, ...)); float batches are
    already model input (converted by the loader, or Lightning's example input) and pass unchanged."""
    images, rest = (batch, None) if isinstance(batch, torch.Tensor) else (batch[0], tuple(batch[1:]))
    if torch.is_floating_point(images):
        return batch
    images = convert(images)
    return images if rest is None else (images, *rest)


def loader_converts(transform_on: str, trainer: Any) -> bool:
    """Whether the DataLoader converts batches (``transform_on``: "loader", "device", or "auto" = loader on a CPU)."""
    if transform_on == "auto":
        return trainer is not None and trainer.strategy.root_device.type == "cpu"
    return transform_on == "loader"


def load_image_files(paths: Sequence[str | Path], preprocess: dict[str, Any]) -> torch.Tensor:
    """Image files -> the float batch (N, C, crop, crop) a classifier takes, preprocessed as in evaluation.

    ``preprocess`` (see `ImageDataModule.preprocess`): ``channels`` (1 = grey, 3 = RGB), ``resize`` (shorter side,
    bilinear with antialiasing), ``crop`` (centre crop), ``mean``/``std`` (``None``: no normalisation).
    """
    from torchvision import transforms as T

    steps = [T.Resize(preprocess["resize"])] if preprocess.get("resize") else []
    if preprocess.get("crop"):
        steps.append(T.CenterCrop(preprocess["crop"]))
    pipeline = T.Compose([*steps, T.PILToTensor()])
    mode = "L" if preprocess.get("channels", 3) == 1 else "RGB"
    images = [pipeline(open_image(path, mode)) for path in paths]  # each (C, crop, crop) uint8
    return to_float_batch(torch.stack(images), None, preprocess.get("mean"), preprocess.get("std"))


#: Pillow modes of 16-bit greyscale (white = 65535)
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def open_image(path: str | Path, mode: str = "RGB"):
    """The image file as an 8-bit ``PIL.Image`` in ``mode`` (``"RGB"`` or ``"L"``), its pixels read at their meaning.

    Pillow's ``convert`` clips what is not 8-bit: a 16-bit PNG (0..65535) would become almost all white and a float
    TIFF (0..1) all black. Here 16-bit greyscale is scaled by 255/65535 and floating-point pixels in [0, 1] by 255;
    floats outside [0, 1] and 32-bit integers (no agreed white) are refused by name. A missing or unreadable file,
    and one larger than Pillow opens (``Image.MAX_IMAGE_PIXELS``, its guard against decompression bombs), is a
    one-line `DataError`.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            return _eight_bit(image, path).convert(mode)
    except Image.DecompressionBombError as exc:
        limit = Image.MAX_IMAGE_PIXELS
        raise DataError(f"the image {path} is too large to open ({exc}); Pillow refuses images of more than "
                        f"{2 * limit:,} pixels as a guard against decompression bombs: make it smaller"
                        if limit else f"the image {path} is too large to open ({exc})") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, MemoryError) as exc:
        raise DataError(f"cannot read the image {path} ({type(exc).__name__}: {exc})") from exc


def _eight_bit(image, path: Path):
    """``image`` with 8-bit channels: 16-bit and [0, 1] float greyscale scaled to 0..255, other modes as they are."""
    import numpy as np
    from PIL import Image

    if image.mode in _SIXTEEN_BIT:
        pixels = np.asarray(image, dtype=np.float64)  # (H, W) in 0..65535
        return Image.fromarray(np.rint(pixels * (255 / 65535)).astype(np.uint8), "L")
    if image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)  # (H, W)
        finite = bool(np.isfinite(pixels).all())
        low, high = (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 0.0)
        if not finite or low < 0 or high > 1:
            found = "NaN or infinite values" if not finite else f"values from {low:g} to {high:g}"
            raise DataError(f"the image {path} has floating-point pixels with {found}; only floats in [0, 1] can be "
                            "read as intensities: scale it to [0, 1] or save it as an 8-bit PNG or JPEG")
        return Image.fromarray(np.rint(pixels * 255).astype(np.uint8), "L")
    if image.mode in ("I", "I;32", "I;32L", "I;32B"):
        raise DataError(f"the image {path} has 32-bit integer pixels (Pillow mode {image.mode}), which have no agreed "
                        "white level; save it as an 8-bit or 16-bit PNG, or a JPEG")
    return image


def split_indices(n: int, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Seeded split of ``range(n)`` into sorted (train, validation) indices; validation is ``None`` if empty."""
    if not 0 <= val_size < n:
        raise ConfigError(f"val_size must be between 0 and {n - 1} (the training split has {n} examples), "
                          f"got {val_size}")
    if val_size == 0:
        return torch.arange(n), None
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def resize_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """``transforms.Resize(size)`` with an int: the shorter side becomes ``size``, the aspect ratio is kept."""
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def to_float_batch(images: torch.Tensor, size: int | None = None, mean: Sequence[float] | None = None,
                   std: Sequence[float] | None = None) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float32 in [0, 1], resized so the shorter side is ``size``, then ``(x - mean) / std``.

    Float input is taken as already in [0, 1]. Resizing is bilinear with antialiasing, like ``transforms.Resize``.
    On the CPU a uint8 batch is resized in uint8 (PyTorch's kernel rounds like PIL, so the result equals
    torchvision's PIL pipeline) and then converted, which is also several times faster; elsewhere (CUDA has no
    uint8 kernel) it is converted first and resized in float, within one grey level (1/255) of PIL's rounding.
    """
    x = images
    if size is not None:
        target = resize_shape(x.shape[-2], x.shape[-1], size)
        if target != tuple(x.shape[-2:]):
            if not (x.dtype == torch.uint8 and x.device.type == "cpu"):
                x = _unit_float(x)
            x = F.interpolate(x, size=target, mode="bilinear", align_corners=False, antialias=True)
    x = _unit_float(x)
    if mean is not None and std is not None:
        m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        s = torch.as_tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        x = (x - m) / s
    return x


def _unit_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]; float input is returned as float32 unchanged."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x.float()


def load_decoded(cache: Path, sources: Sequence[Path],
                 decode: Callable[[], tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) from ``cache`` if it was made from ``sources`` as they are now, else ``decode()`` and cache
    (`datamodules.cache.load_cached`)."""

    def build() -> dict[str, torch.Tensor]:
        images, labels = decode()
        return {"images": images, "labels": labels}

    data = load_cached(cache, sources, build, version=CACHE_FORMAT)
    return data["images"], data["labels"]


class ImageDataModule(SplitLoaders, L.LightningDataModule):
    """Base of every image datamodule: the splits, the loaders, and where uint8 batches become model input.

    A subclass says where its files come from (`download`), what a whole split is (`split_dataset`), how a batch is
    collated and converted (`collate`, `transform`) and, if it augments on the device, how (`augment`). This base
    holds the seeded validation split, the four loaders and ``on_after_batch_transfer``.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        batch_size: images per batch.
        val_size: training images held out, by a seeded split, for validation (preprocessed like test images);
            0 (the book) evaluates on the test split during training instead, logged as ``test/*``. The test split
            is never split.
        seed: seed of the validation split.
        num_workers: DataLoader worker processes.
        transform_on: where uint8 batches become model input: ``"device"`` (``on_after_batch_transfer``),
            ``"loader"`` (the DataLoader's ``collate_fn``, in the workers) or ``"auto"``: the loader when the Trainer
            runs on the CPU, else the device.
    """

    num_classes: ClassVar[int]
    in_channels: ClassVar[int]
    classes: ClassVar[list[str]]
    folder: ClassVar[str]  # where the dataset lives under the cache root

    def __init__(self, data_dir: str | None = None, batch_size: int = 256, val_size: int = 0, seed: int = 0,
                 num_workers: int = 0, transform_on: Literal["auto", "device", "loader"] = "auto") -> None:
        super().__init__()
        name = type(self).__name__
        positive_int(batch_size, "batch_size", name)
        non_negative_int(num_workers, "num_workers", name)
        non_negative_int(val_size, "val_size", name)
        if transform_on not in ("auto", "device", "loader"):
            raise ConfigError(f"{name}: transform_on must be 'auto', 'device' or 'loader', got {transform_on!r}")
        self.root = cache_root(data_dir)

    # ------------------------------------------------------------- what a dataset provides
    def download(self) -> None:
        """Fetch (verified) and unpack the files under ``self.root``; called by ``prepare_data``."""
        raise NotImplementedError

    def split_dataset(self, split: str, training: bool) -> Dataset:
        """The whole ``"train"`` or ``"test"`` split; ``training`` asks for the training preprocessing."""
        raise NotImplementedError

    def collate(self, training: bool, in_loader: bool) -> tuple[Callable[[Any], Any], int]:
        """(``collate_fn``, worker processes) of a loader; ``in_loader``: the loader converts the batches itself."""
        raise NotImplementedError

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, C, H, W) as loaded -> what the model takes."""
        raise NotImplementedError

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """Augmentation of a training batch on the device, before `transform`; none by default."""
        return images

    # ------------------------------------------------------------- Lightning hooks
    def prepare_data(self) -> None:
        self.download()

    def setup(self, stage: str | None = None) -> None:
        val_size = self.hparams.val_size
        if stage in (None, "fit", "validate") and not hasattr(self, "train_set"):
            train = self.split_dataset("train", training=True)
            train_idx, val_idx = split_indices(len(train), val_size, self.hparams.seed)
            self.train_set = _subset(train, train_idx) if val_idx is not None else train
            self.val_set = (_subset(self.split_dataset("train", training=False), val_idx)
                            if val_idx is not None else None)
        needs_test = stage in (None, "test", "predict") or not val_size
        if needs_test and not hasattr(self, "test_set"):
            self.test_set = self.split_dataset("test", training=False)

    def transform_in_loader(self) -> bool:
        """Whether the loaders convert batches themselves (see ``transform_on``)."""
        return loader_converts(self.hparams.transform_on, self.trainer)

    def _loader(self, dataset: Dataset, training: bool) -> DataLoader:
        """``training`` marks the training loader: the only one that shuffles and augments."""
        in_loader = self.transform_in_loader()
        collate, workers = self.collate(training, in_loader)
        return image_loader(dataset, self.hparams.batch_size, training, workers, collate, in_loader)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """(uint8 images, labels) -> (model input, labels), augmented first when training; float batches (converted
        by the loader) pass unchanged."""
        training = self.trainer is not None and self.trainer.training
        return convert_images(batch, lambda images: self.transform(self.augment(images) if training else images))


def _subset(dataset: Dataset, indices: torch.Tensor) -> Dataset:
    """``dataset`` restricted to ``indices``, keeping `ImageTensorDataset`'s one-indexing-operation batches."""
    if isinstance(dataset, ImageTensorDataset):
        return ImageTensorDataset(dataset.images, dataset.labels, indices)
    return Subset(dataset, indices.tolist())


class DecodedImageDataModule(ImageDataModule):
    """Base of the datasets that fit in memory (Fashion-MNIST, CIFAR-10): each split decoded once into a uint8
    tensor and cached (the fast path of the module docstring). A subclass says how a split decodes (`decode`) from
    which files (`sources`).

    Args (besides `ImageDataModule`'s ``data_dir``, ``batch_size``, ``val_size``, ``seed``, ``transform_on``):
        resize: side of the square images the model sees (the book: 224 for AlexNet/VGG/NiN, 96 for GoogLeNet,
            ResNet and DenseNet); ``None`` keeps the native size.
        normalize: subtract ``mean`` and divide by ``std`` per channel (the book does not normalise).
        mean, std: per-channel statistics; default the dataset's own (``MEAN``/``STD``). Only with ``normalize``.
        num_workers: DataLoader worker processes, used when the loader resizes or augments. A batch at the native
            size is one indexing operation and a cast, cheaper than handing it over from a worker process (about
            2 ms a batch), so those loaders run in the main process whatever this says.
        augment: augmentation of the training batches (book 9.1), one of ``none``, ``flip``, ``flip_crop``,
            ``flip_crop_jitter`` (see `datamodules.augment`); validation, test and predict batches are never
            augmented.
    """

    native_size: ClassVar[int]
    MEAN: ClassVar[tuple[float, ...]]
    STD: ClassVar[tuple[float, ...]]

    def __init__(self, data_dir: str | None = None, batch_size: int = 256, resize: int | None = None,
                 normalize: bool = False, mean: list[float] | None = None, std: list[float] | None = None,
                 val_size: int = 0, seed: int = 0, num_workers: int = 0,
                 transform_on: Literal["auto", "device", "loader"] = "auto", augment: Preset = "none") -> None:
        super().__init__(data_dir, batch_size, val_size, seed, num_workers, transform_on)
        name = type(self).__name__
        try:
            check_preset(augment)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None
        if resize is not None and resize < 1:
            raise ConfigError(f"{name}: resize must be a positive size or None (native {self.native_size}), "
                              f"got {resize}")
        if (mean is not None or std is not None) and not normalize:
            raise ConfigError(f"{name}: mean/std given but normalize is false; set normalize: true to use them")
        self.mean = tuple(mean) if mean is not None else self.MEAN
        self.std = tuple(std) if std is not None else self.STD
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels or min(self.std) <= 0:
            raise ConfigError(f"{name}: mean and std need {self.in_channels} value(s) each and std > 0, got "
                              f"mean={list(self.mean)}, std={list(self.std)}")
        self.save_hyperparameters()
        self._decoded: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def sources(self, train: bool) -> list[Path]:
        """The unpacked files a split is decoded from (the cache is rebuilt when one changes)."""
        raise NotImplementedError

    def decode(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The split as uint8 images (N, C, H, W) and int64 labels (N,)."""
        raise NotImplementedError

    # ------------------------------------------------------------- sizes the CLI links into the model
    @property
    def image_size(self) -> int:
        """Side of the square images the model sees: ``resize``, else the native size."""
        return self.hparams.resize or self.native_size

    @property
    def preprocess(self) -> dict[str, Any]:
        """The evaluation preprocessing as primitives, for `load_image_files` (recorded by the classifiers)."""
        mean, std = self._transform_args()[1:]
        return {"resize": self.image_size, "crop": self.image_size, "mean": list(mean) if mean else None,
                "std": list(std) if std else None, "channels": self.in_channels}

    # ------------------------------------------------------------- the hooks of ImageDataModule
    def _load(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        split = "train" if train else "test"
        for path in self.sources(train):
            if not path.is_file():
                raise DataError(f"{path} is missing; call prepare_data() first (Trainer.fit does) or put the "
                                f"dataset under {self.root}")
        images, labels = load_decoded(self.root / self.folder / f"decoded-{split}.pt", self.sources(train),
                                      lambda: self.decode(train))
        shape = (self.in_channels, self.native_size, self.native_size)
        if images.dtype != torch.uint8 or tuple(images.shape[1:]) != shape or images.shape[0] != labels.shape[0]:
            raise DataError(f"{type(self).__name__} {split} split decoded to images {tuple(images.shape)} "
                            f"{images.dtype} and {labels.shape[0]} labels; expected uint8 (N, *{shape})")
        if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < self.num_classes:
            raise DataError(f"{type(self).__name__} {split} labels span {int(labels.min())}..{int(labels.max())}, "
                            f"outside 0..{self.num_classes - 1}")
        return images, labels

    def split_dataset(self, split: str, training: bool) -> ImageTensorDataset:
        """The split's decoded tensors (read once per split; training and evaluation share them)."""
        if split not in self._decoded:
            self._decoded[split] = self._load(train=split == "train")
        return ImageTensorDataset(*self._decoded[split])

    def collate(self, training: bool, in_loader: bool) -> tuple[Callable[[Any], Any], int]:
        augment = self.hparams.augment if training else "none"
        heavy = in_loader and (self._transform_args()[0] not in (None, self.native_size) or augment != "none")
        workers = self.hparams.num_workers if heavy else 0  # see num_workers in the class docstring
        return (BatchTransform(*self._transform_args(), augment=augment) if in_loader else collate_batch), workers

    def _transform_args(self) -> tuple[int | None, tuple[float, ...] | None, tuple[float, ...] | None]:
        normalize = self.hparams.normalize
        return self.hparams.resize, self.mean if normalize else None, self.std if normalize else None

    def transform(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, C, H, W) as loaded -> what the model takes: float, resized, normalised if asked."""
        return to_float_batch(images, *self._transform_args())

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        return augment_batch(images, self.hparams.augment)


def weights_preprocess(name: str) -> tuple[dict[str, Any], str]:
    """(evaluation preprocessing as primitives, full name) of a torchvision weights entry, read from its own
    ``transforms()``: ``{"resize": 256, "crop": 224, "mean": [...], "std": [...], "channels": 3}`` for ResNet-18's
    ImageNet weights. ``name``: ``"ResNet50_Weights.IMAGENET1K_V2"``, or a bare member name (``"IMAGENET1K_V1"``,
    ``"DEFAULT"``) of ResNet-18's weights. Nothing is downloaded."""
    from torchvision.models import get_weight

    full = name if "." in str(name) else f"ResNet18_Weights.{name}"
    try:
        entry = get_weight(full)
    except (KeyError, ValueError, AttributeError) as exc:
        raise ConfigError(f"unknown torchvision weights {name!r} ({exc}); use a name such as 'ResNet18_Weights."
                          "IMAGENET1K_V1' (torchvision.models.get_model_weights lists them)") from None
    t = entry.transforms()
    return ({"resize": int(t.resize_size[0]), "crop": int(t.crop_size[0]), "mean": [float(m) for m in t.mean],
             "std": [float(s) for s in t.std], "channels": 3}, f"{type(entry).__name__}.{entry.name}")
