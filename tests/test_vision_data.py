"""FashionMNISTDataModule and CIFAR10DataModule on small files in the real formats: the download path (cache,
mirror folder, HTTP mirror, md5 checks, offline error), parsing, corrupt files, the decoded cache, the seeded
validation split, and the batched fast path against torchvision's per-image pipeline."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.datasets import CIFAR10, FashionMNIST

from datamodules.cifar10 import CIFAR10DataModule
from datamodules.fashion_mnist import FashionMNISTDataModule
from datamodules.images import ImageTensorDataset, resize_shape, split_indices, to_float_batch
from tests import vision_fakes as fakes
from zoo.errors import ChecksumError, ConfigError, DataError, DataUnavailableError


def _all_batches(loader, dm=None):
    xs, ys = [], []
    for x, y in loader:
        xs.append(dm.transform(x) if dm is not None else x)
        ys.append(y)
    return torch.cat(xs), torch.cat(ys)


@pytest.fixture
def fmnist(tmp_path, monkeypatch):
    """(root, arrays): fake Fashion-MNIST .gz files already in the cache layout under root."""
    root = tmp_path / "data"
    return root, fakes.install_fashion_mnist(root, monkeypatch, n_train=16, n_test=8)


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    root = tmp_path / "data"
    return root, fakes.install_cifar10(root, monkeypatch, n_per_batch=4, n_test=8)


# ------------------------------------------------------------------ what the CLI reads before setup()
def test_sizes_and_class_names_before_any_file_exists(tmp_path):
    dm = FashionMNISTDataModule(data_dir=str(tmp_path), resize=96)
    assert (dm.num_classes, dm.in_channels, dm.image_size, dm.eval_sets) == (10, 1, 96, ("test",))
    assert dm.classes[0] == "T-shirt/top" and dm.classes == list(FashionMNIST.classes)
    dm = CIFAR10DataModule(data_dir=str(tmp_path), val_size=100)
    assert (dm.num_classes, dm.in_channels, dm.image_size, dm.eval_sets) == (10, 3, 32, ("val",))
    assert dm.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert not any(tmp_path.iterdir())  # no I/O in __init__


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(resize=0), dict(val_size=-1), dict(mean=[0.5]),
                                    dict(normalize=True, mean=[0.5, 0.5], std=[0.2, 0.2]),
                                    dict(normalize=True, std=[0.0])])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ConfigError):
        FashionMNISTDataModule(**kwargs)


# ------------------------------------------------------------------ Fashion-MNIST: IDX files
def test_fashion_mnist_reads_the_idx_files(fmnist):
    root, arrays = fmnist
    dm = FashionMNISTDataModule(data_dir=str(root), batch_size=4)
    dm.prepare_data()
    raw = root / "FashionMNIST" / "raw"
    assert {p.name for p in raw.iterdir()} >= {"train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.uint8 and x.shape == (4, 1, 28, 28) and y.dtype == torch.int64
    images, labels = _all_batches(dm.test_dataloader())  # validation = test split, in order
    assert torch.equal(images[:, 0], torch.from_numpy(arrays["t10k-images-idx3-ubyte"]))
    assert torch.equal(labels, torch.from_numpy(arrays["t10k-labels-idx1-ubyte"]).long())
    assert len(dm.train_dataloader().dataset) == 16 and len(dm.val_dataloader().dataset) == 8


def test_a_folder_torchvision_downloaded_needs_no_archive(fmnist):
    root, arrays = fmnist
    FashionMNISTDataModule(data_dir=str(root)).prepare_data()
    for gz in (root / "FashionMNIST" / "raw").glob("*.gz"):
        gz.unlink()  # only the unpacked files are left, as torchvision may leave them
    dm = FashionMNISTDataModule(data_dir=str(root))
    dm.prepare_data()  # offline, no mirror: must not try to fetch anything
    dm.setup("test")
    assert len(dm.test_set) == 8


def test_fetch_through_the_mirror_folder_with_md5_check(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    fakes.accept_fashion_mnist(monkeypatch, fakes.write_fashion_mnist_gz(mirror, fakes.fashion_mnist_arrays()))
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    dm = FashionMNISTDataModule()  # default cache folder: $ZOO_DATA_DIR (set per test by conftest)
    dm.prepare_data()
    raw = Path(__import__("os").environ["ZOO_DATA_DIR"]) / "FashionMNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte.gz").read_bytes() == (mirror / "train-images-idx3-ubyte.gz").read_bytes()
    dm.setup("fit")
    assert len(dm.train_set) == 16


def test_a_mirror_serving_wrong_bytes_fails_the_md5_check(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    sums = fakes.write_fashion_mnist_gz(mirror, fakes.fashion_mnist_arrays(seed=0))
    fakes.accept_fashion_mnist(monkeypatch, sums)
    fakes.write_fashion_mnist_gz(mirror, fakes.fashion_mnist_arrays(seed=1))  # same names, other bytes
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    with pytest.raises(ChecksumError, match="checksum mismatch for train-images-idx3-ubyte.gz"):
        FashionMNISTDataModule(data_dir=str(tmp_path / "cache")).prepare_data()
    assert not list((tmp_path / "cache" / "FashionMNIST" / "raw").glob("*ubyte*"))


def test_offline_and_not_cached_names_file_url_md5_and_folder(tmp_path):
    with pytest.raises(DataUnavailableError) as err:
        FashionMNISTDataModule(data_dir=str(tmp_path)).prepare_data()
    message = str(err.value)
    name, md5 = FashionMNIST.resources[0]
    assert name in message and md5 in message and FashionMNIST.mirrors[0] + name in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message


def test_a_corrupt_idx_file_gives_a_clear_error_and_is_unpacked_again(fmnist):
    root, _ = fmnist
    FashionMNISTDataModule(data_dir=str(root)).prepare_data()
    images = root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])  # truncated
    dm = FashionMNISTDataModule(data_dir=str(root))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*corrupt.*Delete"):
        dm.setup("fit")
    images.unlink()  # what the message says to do
    dm = FashionMNISTDataModule(data_dir=str(root))
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 16


def test_a_corrupt_cached_archive_is_fetched_again(fmnist):
    root, _ = fmnist
    gz = root / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(b"not gzip")
    with pytest.raises(DataUnavailableError, match="t10k-labels-idx1-ubyte.gz"):  # offline: no other source
        FashionMNISTDataModule(data_dir=str(root)).prepare_data()
    assert not gz.exists()  # the bad copy is gone


def test_setup_without_the_files_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="prepare_data"):
        FashionMNISTDataModule(data_dir=str(tmp_path)).setup("fit")


# ------------------------------------------------------------------ CIFAR-10: pickled batches in a tar.gz
def test_cifar10_reads_the_pickled_batches(cifar):
    root, arrays = cifar
    dm = CIFAR10DataModule(data_dir=str(root), batch_size=5)
    dm.prepare_data()
    assert (root / "cifar-10-batches-py" / "batches.meta").is_file()
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.uint8 and x.shape == (5, 3, 32, 32)
    train, labels = _all_batches(torch.utils.data.DataLoader(dm.train_set, batch_size=100, collate_fn=lambda b: b))
    expected = np.concatenate([arrays[f"data_batch_{i}"][0] for i in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert torch.equal(train, torch.from_numpy(expected))  # CHW order kept, batches 1-5 in order
    assert labels.tolist() == sum((arrays[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    test, _ = _all_batches(dm.val_dataloader())
    assert torch.equal(test, torch.from_numpy(arrays["test_batch"][0].reshape(-1, 3, 32, 32)))


def test_cifar10_through_an_http_mirror(tmp_path, monkeypatch, http_server):
    url, served = http_server
    fakes.install_cifar10(served, monkeypatch)
    monkeypatch.setenv("ZOO_DATA_MIRROR", url)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "cache"))
    dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_set) == 8


def test_a_corrupt_cifar_batch_is_unpacked_again_from_the_archive(cifar):
    root, _ = cifar
    dm = CIFAR10DataModule(data_dir=str(root))
    dm.prepare_data()
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    good = batch.read_bytes()
    batch.write_bytes(good[:-10])
    with pytest.raises(DataError, match="data_batch_3 fail their md5 check"):
        CIFAR10DataModule(data_dir=str(root)).setup("fit")
    dm.prepare_data()  # the verified archive is still cached: unpack again
    assert batch.read_bytes() == good
    (root / CIFAR10.filename).unlink()
    batch.write_bytes(b"garbage")
    with pytest.raises(DataUnavailableError, match="cifar-10-python.tar.gz"):
        dm.prepare_data()


def test_an_archive_with_the_wrong_contents_is_refused(tmp_path, monkeypatch):
    files = fakes.cifar10_files(fakes.cifar10_arrays())
    fakes.accept_cifar10(monkeypatch, files, b"")
    files["test_batch"] = b"tampered"
    archive = fakes.cifar10_tar_gz(files)
    monkeypatch.setattr(CIFAR10, "tgz_md5", fakes.md5(archive))
    (tmp_path / CIFAR10.filename).write_bytes(archive)
    with pytest.raises(DataError, match="test_batch inside fail theirs"):
        CIFAR10DataModule(data_dir=str(tmp_path)).prepare_data()


# ------------------------------------------------------------------ the decoded cache
def test_the_decoded_split_is_cached_and_rebuilt_when_its_files_change(fmnist, monkeypatch):
    root, arrays = fmnist
    dm = FashionMNISTDataModule(data_dir=str(root))
    dm.prepare_data()
    dm.setup("test")
    cache = root / "FashionMNIST" / "decoded-test.pt"
    assert cache.is_file()

    def no_decoding(self, train):
        raise AssertionError("decoded again although the cache is fresh")

    with monkeypatch.context() as m:
        m.setattr(FashionMNISTDataModule, "decode", no_decoding)
        again = FashionMNISTDataModule(data_dir=str(root))
        again.setup("test")
    assert torch.equal(again.test_set.images, dm.test_set.images)

    new = np.full((8, 28, 28), 7, dtype=np.uint8)  # the source file changes: the cache is stale
    (root / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").write_bytes(fakes.idx_images(new))
    fresh = FashionMNISTDataModule(data_dir=str(root))
    fresh.setup("test")
    assert torch.equal(fresh.test_set.images[:, 0], torch.from_numpy(new))

    cache.write_bytes(b"broken")  # an unreadable cache is rebuilt
    rebuilt = FashionMNISTDataModule(data_dir=str(root))
    rebuilt.setup("test")
    assert torch.equal(rebuilt.test_set.images[:, 0], torch.from_numpy(new))


# ------------------------------------------------------------------ validation split
def test_validation_split_is_seeded_disjoint_and_leaves_test_alone(fmnist):
    root, _ = fmnist
    FashionMNISTDataModule(data_dir=str(root)).prepare_data()

    def split(seed):
        dm = FashionMNISTDataModule(data_dir=str(root), val_size=4, seed=seed)
        dm.setup("fit")
        return dm, set(dm.train_set.indices.tolist()), set(dm.val_set.indices.tolist())

    dm, train, val = split(0)
    assert len(val) == 4 and not train & val and train | val == set(range(16))
    assert dm.eval_sets == ("val",) and dm.val_dataloader().dataset is dm.val_set
    assert split(0)[2] == val and split(1)[2] != val
    dm.setup("test")
    assert len(dm.test_set) == 8
    with pytest.raises(ConfigError, match="val_size must be between 0 and 15"):
        FashionMNISTDataModule(data_dir=str(root), val_size=16).setup("fit")


def test_split_indices_and_batched_dataset():
    train, val = split_indices(10, 3, seed=5)
    assert val.tolist() == sorted(val.tolist()) and sorted([*train.tolist(), *val.tolist()]) == list(range(10))
    assert split_indices(10, 0, 1)[1] is None
    ds = ImageTensorDataset(torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1), torch.arange(10), val)
    x, y = ds.__getitems__([2, 0])
    assert y.tolist() == [val[2].item(), val[0].item()] and x.view(-1).tolist() == y.tolist()
    assert ds[1][1] == val[1]


# ------------------------------------------------------------------ the fast path equals torchvision's pipeline
def _torchvision_reference(dataset_cls, root: Path, train: bool, resize: int | None) -> torch.Tensor:
    steps = ([T.Resize(resize)] if resize else []) + [T.ToTensor()]
    dataset = dataset_cls(str(root), train=train, transform=T.Compose(steps))
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


def _assert_close_to_pil(ours: torch.Tensor, reference: torch.Tensor) -> None:
    assert ours.shape == reference.shape and ours.dtype == reference.dtype == torch.float32
    diff = (ours - reference).abs()
    # PIL rounds the resized image to uint8; we resize in float: at most one grey level apart, about 0.3 on average
    assert diff.max() <= 1.01 / 255 and diff.mean() <= 0.35 / 255, (diff.max() * 255, diff.mean() * 255)


@pytest.mark.parametrize("resize", [None, 96, 224])
def test_fast_path_matches_torchvision_fashion_mnist(fmnist, resize):
    root, _ = fmnist
    dm = FashionMNISTDataModule(data_dir=str(root), resize=resize, batch_size=3)
    dm.prepare_data()
    dm.setup("test")
    ours, _ = _all_batches(dm.test_dataloader(), dm)
    assert torch.equal(ours, _torchvision_reference(FashionMNIST, root, False, resize))  # CPU: resized in uint8


@pytest.mark.parametrize("resize", [None, 96])
def test_fast_path_matches_torchvision_cifar10(cifar, resize):
    root, _ = cifar
    dm = CIFAR10DataModule(data_dir=str(root), resize=resize, batch_size=4)
    dm.prepare_data()
    dm.setup("test")
    ours, _ = _all_batches(dm.test_dataloader(), dm)
    assert torch.equal(ours, _torchvision_reference(CIFAR10, root, False, resize))


@pytest.mark.mirror
def test_fast_path_on_real_cifar_images(tmp_path, monkeypatch):
    """Real photographs (smooth, unlike random pixels) from the shared Kaggle CIFAR-10 sample, resized to 224."""
    with zipfile.ZipFile(Path(__import__("os").environ["ZOO_DATA_MIRROR"]) / "kaggle_cifar10_tiny" /
                         "train_tiny.zip") as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".png"))[:24]
        pixels = np.stack([np.asarray(Image.open(io.BytesIO(zf.read(n))).convert("RGB")) for n in names])
    arrays = {f"data_batch_{i}": (pixels[:4].transpose(0, 3, 1, 2).reshape(4, -1), [0, 1, 2, 3]) for i in range(1, 6)}
    arrays["test_batch"] = (pixels[4:].transpose(0, 3, 1, 2).reshape(20, -1), list(range(10)) * 2)
    files = fakes.cifar10_files(arrays)
    archive = fakes.cifar10_tar_gz(files)
    (tmp_path / CIFAR10.filename).write_bytes(archive)
    fakes.accept_cifar10(monkeypatch, files, archive)
    monkeypatch.delenv("ZOO_DATA_MIRROR")
    dm = CIFAR10DataModule(data_dir=str(tmp_path), resize=224, batch_size=8)
    dm.prepare_data()
    dm.setup("test")
    ours, _ = _all_batches(dm.test_dataloader(), dm)
    reference = _torchvision_reference(CIFAR10, tmp_path, False, 224)
    assert torch.equal(ours, reference)
    gpu_path = torch.cat([to_float_batch(x.float() / 255, 224) for x, _ in dm.test_dataloader()])  # resize in float
    _assert_close_to_pil(gpu_path, reference)


@pytest.mark.parametrize("size", [12, 20, 40, 96])
def test_to_float_batch_matches_pil_on_both_paths(size):
    """The CPU path (resize in uint8) and the accelerator path (resize in float, here run on the CPU) against PIL;
    shrinking needs the antialias filter (PIL always applies it), enlarging is plain bilinear."""
    images = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    pipeline = T.Compose([T.Resize(size), T.ToTensor()])
    reference = torch.stack([pipeline(Image.fromarray(img.permute(1, 2, 0).numpy())) for img in images])
    _assert_close_to_pil(to_float_batch(images, size), reference)
    _assert_close_to_pil(to_float_batch(images.float() / 255, size), reference)


def test_to_float_batch_resizes_like_transforms_resize_and_normalises():
    assert resize_shape(28, 56, 14) == (14, 28) and resize_shape(60, 30, 15) == (30, 15)
    x = torch.randint(0, 256, (2, 3, 10, 20), dtype=torch.uint8)
    y = to_float_batch(x, size=5, mean=[0.5, 0.4, 0.3], std=[0.2, 0.2, 0.2])
    assert y.shape == (2, 3, 5, 10) and y.dtype == torch.float32
    plain = to_float_batch(x, size=5)
    assert torch.allclose(y[:, 1], (plain[:, 1] - 0.4) / 0.2)
    assert torch.equal(to_float_batch(x), x.float() / 255)


def test_transform_in_the_loader_workers_equals_transform_on_the_device(fmnist):
    root, _ = fmnist
    device = FashionMNISTDataModule(data_dir=str(root), batch_size=8, resize=40, normalize=True)
    loader = FashionMNISTDataModule(data_dir=str(root), batch_size=8, resize=40, normalize=True, num_workers=1,
                                    transform_on="loader")
    for dm in (device, loader):
        dm.prepare_data()
        dm.setup("test")
    assert not device.transform_in_loader() and loader.transform_in_loader()  # no Trainer: "auto" is the device
    raw = next(iter(device.test_dataloader()))
    converted = next(iter(loader.test_dataloader()))  # made in a worker process
    assert raw[0].dtype == torch.uint8 and converted[0].shape == (8, 1, 40, 40)
    assert torch.allclose(device.on_after_batch_transfer(raw, 0)[0], converted[0])
    assert loader.on_after_batch_transfer(converted, 0)[0] is converted[0]  # already model input: unchanged
    assert torch.equal(raw[1], converted[1])
    with pytest.raises(ConfigError, match="transform_on must be"):
        FashionMNISTDataModule(transform_on="gpu")


def test_normalize_uses_the_dataset_statistics_by_default(fmnist):
    root, _ = fmnist
    dm = FashionMNISTDataModule(data_dir=str(root), normalize=True)
    x = torch.full((1, 1, 28, 28), 255, dtype=torch.uint8)
    assert torch.allclose(dm.transform(x), torch.full((1, 1, 28, 28), (1 - 0.2860) / 0.3530))
    custom = FashionMNISTDataModule(data_dir=str(root), normalize=True, mean=[0.5], std=[0.5])
    assert torch.allclose(custom.transform(x), torch.ones(1, 1, 28, 28))
