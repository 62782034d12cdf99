"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, https://arxiv.org/abs/1708.07747), the dataset of book 3.5 to 5.12.

60,000 training and 10,000 test images, 1x28x28 grey levels, 10 classes. The four gzip IDX files, their mirrors
and md5 checksums are torchvision's (``torchvision.datasets.FashionMNIST.mirrors``/``.resources``); they are fetched
by the zoo's verified downloader into torchvision's own layout, ``<cache>/FashionMNIST/raw/``, unpacked there, and
parsed by torchvision. A folder that torchvision downloaded itself works as it is.

Sources, in order: the cache, ``$ZOO_DATA_MIRROR``, the system copies (`SYSTEM_FOLDERS`: Debian and Ubuntu's
``dataset-fashion-mnist`` package installs the four files in ``/usr/share/datasets/fashion-mnist``), then the
network. A system copy is read where it is, never modified. The Debian files were recompressed, so their bytes
differ from the ones torchvision's md5s describe; they are accepted when their unpacked content has the SHA-256 of
the published files (`CONTENT_SHA256`), and refused, by name, when it has not. Offline with nothing found, the error
says how to install the package. Before parsing, each IDX header is checked against the file's size (`check_idx`),
so a file cut short or with a header that lies says so by name; a truncated or corrupt ``.gz`` is a `DataError` too.

Batches are uint8 and become float on the device; see `datamodules.images` for the fast path and the options.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import FashionMNIST
from torchvision.datasets.utils import extract_archive

from datamodules.download import Resource, checksum_note, fetch, storage_error
from datamodules.images import DecodedImageDataModule
from zoo.errors import DataError

__all__ = ["FashionMNISTDataModule", "check_idx", "fashion_mnist_resources"]

_PARSE_ERRORS = (RuntimeError, AssertionError, ValueError, KeyError, IndexError, OSError, EOFError)


#: Folders where operating-system packages install the four files (read in place).
SYSTEM_FOLDERS = ("/usr/share/datasets/fashion-mnist",)
PACKAGE_HINT = ("On Debian or Ubuntu the package dataset-fashion-mnist installs the four files, which the zoo then "
                "reads in place: sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist")
#: SHA-256 of each file's unpacked IDX content (the published dataset), beside torchvision's md5 of the .gz bytes:
#: a recompressed copy (the Debian package's) is accepted by its content.
CONTENT_SHA256 = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def fashion_mnist_resources() -> list[Resource]:
    """The four gzip files as `Resource`s, from torchvision's class attributes (read at call time), with the system
    folders and content digests of this module."""
    return [Resource(name, tuple(mirror + name for mirror in FashionMNIST.mirrors), md5, "md5",
                     system_folders=SYSTEM_FOLDERS, gunzipped_sha256=CONTENT_SHA256.get(name),
                     package_hint=PACKAGE_HINT)
            for name, md5 in FashionMNIST.resources]


def _gunzip(archive: Path, target: Path, resource: Resource) -> None:
    """Unpack ``archive`` (.gz) to ``target`` with torchvision, through a temporary folder and an atomic rename."""
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=target.parent))
        out = extract_archive(archive, staging)
        os.replace(Path(out), target)
    except (OSError, EOFError, RuntimeError, zlib.error) as exc:
        problem = storage_error(exc, target.parent, target.name, _gunzipped_size(archive))
        if problem is not None:
            raise problem from None
        raise DataError(f"{archive} {checksum_note(archive, resource)}, but cannot be unpacked ({type(exc).__name__}: "
                        f"{exc}); it is truncated or not gzip: delete it and run again") from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _gunzipped_size(archive: Path) -> int | None:
    """The unpacked size a gzip file records in its last 4 bytes (ISIZE, the size modulo 2**32), if readable."""
    try:
        with open(archive, "rb") as f:
            f.seek(-4, os.SEEK_END)
            return struct.unpack("<I", f.read(4))[0]
    except (OSError, struct.error):
        return None


#: IDX magic numbers of the files used here -> (what, number of dimensions): unsigned bytes, 1 or 3 dimensions
_IDX_MAGIC = {2049: ("labels", 1), 2051: ("images", 3)}


def check_idx(path: Path) -> None:
    """`DataError` unless ``path`` is an IDX file of unsigned bytes whose header matches its size exactly.

    An IDX file (LeCun's MNIST format) starts with a big-endian magic number (2049: labels, 1 dimension; 2051:
    images, 3 dimensions) and one 32-bit size per dimension; the data that follows has exactly their product bytes.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
    if len(head) < 8:
        raise DataError(f"{path} is {size} bytes, too short for an IDX header; delete it and run again")
    magic = struct.unpack(">I", head[:4])[0]
    if magic not in _IDX_MAGIC:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (magic number {magic}, expected 2049 or 2051); "
                        "delete it and run again")
    what, ndim = _IDX_MAGIC[magic]
    header = 4 + 4 * ndim
    if len(head) < header:
        raise DataError(f"{path} is {size} bytes, too short for its IDX header; delete it and run again")
    dims = struct.unpack(f">{ndim}I", head[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64))
    if expected != size:
        shape = " x ".join(str(d) for d in dims)
        raise DataError(f"{path}: its IDX header promises {shape} {what} ({expected:,} bytes with the header), but the "
                        f"file has {size:,} bytes; it is corrupt or cut short. Delete it and run again: it is unpacked "
                        "again from the verified download")


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
        """Fetch each .gz unless its unpacked file is already there (and newer than the .gz), then unpack it into the
        cache (a system copy is unpacked from where it is)."""
        raw = self.raw_folder
        for resource in fashion_mnist_resources():
            target = raw / resource.filename.removesuffix(".gz")
            archive = raw / resource.filename
            unpacked_is_current = target.is_file() and not (
                archive.is_file() and archive.stat().st_mtime_ns > target.stat().st_mtime_ns)
            if unpacked_is_current:
                continue
            _gunzip(fetch(resource, raw), target, resource)

    def sources(self, train: bool) -> list[Path]:
        prefix = "train" if train else "t10k"
        return [self.raw_folder / f"{prefix}-images-idx3-ubyte", self.raw_folder / f"{prefix}-labels-idx1-ubyte"]

    def decode(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        for path in self.sources(train):
            check_idx(path)
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
