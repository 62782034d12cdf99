"""CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"), the dataset of book 9.1.

50,000 training and 10,000 test colour images, 3x32x32, 10 classes. The archive ``cifar-10-python.tar.gz``, its URL
and md5, and the md5 of every pickled batch inside are torchvision's (``torchvision.datasets.CIFAR10`` class
attributes). The archive is fetched by the zoo's verified downloader (cache folder, ``$ZOO_DATA_MIRROR``, clear
offline error) into the cache folder and unpacked safely to torchvision's layout (``<cache>/cifar-10-batches-py/``).
Every batch file's md5 is checked, then it is read by `read_batch`, which unpickles with an allow-list: the batches
are pickles, and a plain ``pickle.load`` (torchvision's) runs whatever code a crafted file names. Only what the real
files contain is rebuilt (dicts, lists, strings, numbers and uint8 numpy arrays); anything else is refused with a
`DataError`, as is a pickle of the wrong shape. A folder that torchvision downloaded itself works as it is; one with a
corrupt batch file is unpacked again from the verified archive.

Batches are uint8 and become float on the device; see `datamodules.images` for the fast path and the options.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from datamodules.download import Resource, checksum_note, ensure_extracted, fetch
from datamodules.images import DecodedImageDataModule
from zoo.errors import DataError

__all__ = ["CIFAR10DataModule", "cifar10_resource", "read_batch", "read_label_names"]

#: Label names in label order, as ``batches.meta`` lists them (needed before the files are read).
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar10_resource() -> Resource:
    """The archive as a `Resource`, from torchvision's class attributes (read at call time)."""
    return Resource(CIFAR10.filename, (CIFAR10.url,), CIFAR10.tgz_md5, "md5")


def _checked_files() -> list[tuple[str, str]]:
    return [*CIFAR10.train_list, *CIFAR10.test_list, (CIFAR10.meta["filename"], CIFAR10.meta["md5"])]


def _multiarray() -> Any:
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


#: The only globals a CIFAR-10 batch may name: how numpy pickles an array (protocol 2, from Python 2 or 3) and how
#: Python 3 pickles bytes at protocol 2. None of them runs code beyond building an array or a bytes object.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _multiarray()._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): lambda: _multiarray()._reconstruct,
    ("numpy.core.multiarray", "scalar"): lambda: _multiarray().scalar,
    ("numpy._core.multiarray", "scalar"): lambda: _multiarray().scalar,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: __import__("_codecs").encode,
}


class _BatchUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that rebuilds only the types of `_ALLOWED`; any other global is refused unimported."""

    def find_class(self, module: str, name: str) -> Any:
        make = _ALLOWED.get((module, name))
        if make is None:
            raise pickle.UnpicklingError(f"it names {module}.{name}, which a CIFAR-10 batch never holds; refused "
                                         "without running it")
        return make()


def _unpickle(path: Path) -> Any:
    """The object pickled in ``path``, through `_BatchUnpickler` (``latin1``: the real files come from Python 2)."""
    try:
        with open(path, "rb") as f:
            return _BatchUnpickler(f, encoding="latin1").load()
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc})") from exc
    except Exception as exc:  # whatever a corrupt or foreign pickle raises: UnpicklingError, EOFError, ValueError, ...
        raise DataError(f"{path} is not a CIFAR-10 batch file (a pickled dict of images and labels): "
                        f"{type(exc).__name__}: {str(exc).rstrip('.')}. Delete {path.parent} and run again: it is "
                        "unpacked again from the verified archive") from exc


def _not_a_batch(path: Path, detail: str) -> DataError:
    return DataError(f"{path} is not a CIFAR-10 batch: {detail}. Delete {path.parent} and run again: it is unpacked "
                     "again from the verified archive")


def read_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    """One batch file: images uint8 (N, 3072) in CHW order and N labels in 0..9, read without running code."""
    entry = _unpickle(path)
    if not isinstance(entry, dict) or "data" not in entry or "labels" not in entry:
        keys = sorted(map(str, entry)) if isinstance(entry, dict) else None
        raise _not_a_batch(path, f"expected a dict with 'data' and 'labels', got a {type(entry).__name__}"
                           + (f" with the keys {keys}" if keys is not None else ""))
    data, labels = entry["data"], entry["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise _not_a_batch(path, f"'data' must be uint8 (N, 3072), got {shape}")
    if not isinstance(labels, list) or len(labels) != len(data) or not all(
            isinstance(y, int) and 0 <= y < len(CIFAR10_CLASSES) for y in labels):
        raise _not_a_batch(path, f"'labels' must be a list of {len(data)} integers in 0..{len(CIFAR10_CLASSES) - 1}")
    return data, labels


def read_label_names(path: Path) -> list[str]:
    """``label_names`` of ``batches.meta``, read without running code."""
    meta = _unpickle(path)
    names = meta.get("label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _not_a_batch(path, "expected a dict with the list 'label_names'")
    return names


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
        # incomplete or corrupt: unpack again from the verified archive; the old folder stays until that succeeds
        ensure_extracted(archive, self.root, self.folder, force=True)
        bad = self.bad_files()
        if bad:  # "passed its md5 check" only when it did (not under ZOO_VERIFY_CHECKSUMS=0)
            raise DataError(f"{archive} {checksum_note(archive, cifar10_resource())}, but {', '.join(bad)} inside "
                            "fail theirs; is it the right file?")

    def sources(self, train: bool) -> list[Path]:
        names = [name for name, _ in (CIFAR10.train_list if train else CIFAR10.test_list)]
        return [self.root / self.folder / name for name in [*names, CIFAR10.meta["filename"]]]

    def decode(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        folder = self.root / self.folder
        bad = self.bad_files()
        if bad:
            raise DataError(f"cannot read CIFAR-10 in {folder} ({', '.join(bad)} fail their md5 check). Delete the "
                            "folder and run again: it is unpacked again from the verified archive")
        classes = read_label_names(folder / CIFAR10.meta["filename"])
        if classes != CIFAR10_CLASSES:
            raise DataError(f"{folder} lists the classes {classes}, expected {CIFAR10_CLASSES}; is it CIFAR-10?")
        batches = [read_batch(folder / name) for name, _ in (CIFAR10.train_list if train else CIFAR10.test_list)]
        data = np.concatenate([d for d, _ in batches])  # (N, 3072), each row the 3 channels of 32 x 32 in turn
        images = torch.from_numpy(data).view(-1, 3, 32, 32).contiguous()  # (N, 3072) -> (N, 3, 32, 32)
        return images, torch.tensor([y for _, labels in batches for y in labels], dtype=torch.long)
