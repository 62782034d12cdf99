"""Small Fashion-MNIST and CIFAR-10 files in their real on-disk formats, and the md5 patches that make them pass.

* Fashion-MNIST: gzip-compressed IDX files (magic 2051 for images, 2049 for labels, big-endian sizes), the four
  names of ``torchvision.datasets.FashionMNIST.resources``.
* CIFAR-10: ``cifar-10-python.tar.gz`` holding ``cifar-10-batches-py/`` with five pickled training batches, the
  test batch and ``batches.meta`` (dicts with ``data`` uint8 (N, 3072) in CHW order, ``labels``, ...).

The checksums live in torchvision's class attributes, so the ``accept_*`` helpers monkeypatch those.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from torchvision.datasets import CIFAR10, FashionMNIST

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_images(images: np.ndarray) -> bytes:
    """IDX3 bytes of uint8 images (N, H, W)."""
    n, h, w = images.shape
    return struct.pack(">IIII", 2051, n, h, w) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def fashion_mnist_arrays(n_train: int = 16, n_test: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_fashion_mnist_gz(folder: Path, arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Write the four ``.gz`` files into ``folder``; returns {file name: md5}."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for stem, array in arrays.items():
        raw = idx_images(array) if array.ndim == 3 else idx_labels(array)
        data = gzip.compress(raw, mtime=0)
        (folder / f"{stem}.gz").write_bytes(data)
        sums[f"{stem}.gz"] = md5(data)
    return sums


def accept_fashion_mnist(monkeypatch: pytest.MonkeyPatch, sums: dict[str, str]) -> None:
    """Make torchvision's FashionMNIST resources carry the md5s of the fake files."""
    monkeypatch.setattr(FashionMNIST, "resources", [(name, sums[name]) for name, _ in FashionMNIST.resources])


def install_fashion_mnist(root: Path, monkeypatch: pytest.MonkeyPatch, n_train: int = 16, n_test: int = 8,
                          seed: int = 0) -> dict[str, np.ndarray]:
    """Fake .gz files in the cache layout (``root/FashionMNIST/raw``), accepted by md5; returns the arrays."""
    arrays = fashion_mnist_arrays(n_train, n_test, seed)
    accept_fashion_mnist(monkeypatch, write_fashion_mnist_gz(root / "FashionMNIST" / "raw", arrays))
    return arrays


def cifar10_arrays(n_per_batch: int = 4, n_test: int = 8, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """{batch file name: (data uint8 (N, 3072) in CHW order, labels)} for the five train batches and the test one."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, n in [*((f"data_batch_{i}", n_per_batch) for i in range(1, 6)), ("test_batch", n_test)]:
        out[name] = (rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist())
    return out


def cifar10_files(arrays: dict[str, tuple[np.ndarray, list[int]]]) -> dict[str, bytes]:
    """Pickled batch files and ``batches.meta``, as CIFAR-10's python version lays them out."""
    files = {}
    for name, (data, labels) in arrays.items():
        entry = {"batch_label": name, "labels": labels, "data": data,
                 "filenames": [f"{name}_{i}.png" for i in range(len(labels))]}
        files[name] = pickle.dumps(entry, protocol=2)
    files["batches.meta"] = pickle.dumps({"label_names": CIFAR10_NAMES, "num_cases_per_batch": 10000,
                                          "num_vis": 3072}, protocol=2)
    return files


def cifar10_tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def accept_cifar10(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes], archive: bytes) -> None:
    """Make torchvision's CIFAR10 checksums (archive and every batch file) those of the fake files."""
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    monkeypatch.setattr(CIFAR10, "train_list", [[name, md5(files[name])] for name, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[name, md5(files[name])] for name, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(files["batches.meta"])})


def install_cifar10(root: Path, monkeypatch: pytest.MonkeyPatch, n_per_batch: int = 4, n_test: int = 8,
                    seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """A fake ``cifar-10-python.tar.gz`` in ``root`` (the cache layout), accepted by md5; returns the arrays."""
    arrays = cifar10_arrays(n_per_batch, n_test, seed)
    files = cifar10_files(arrays)
    archive = cifar10_tar_gz(files)
    root.mkdir(parents=True, exist_ok=True)
    (root / CIFAR10.filename).write_bytes(archive)
    accept_cifar10(monkeypatch, files, archive)
    return arrays
