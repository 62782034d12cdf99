"""HotdogDataModule on a small hotdog.zip of real JPEG/PNG files: the verified fetch (mirror folder, HTTP mirror,
checksum, offline error), safe extraction and layout checks, ImageFolder classes, the book's transforms, the
preprocessing read from a torchvision weights entry, the seeded validation split and the uint8 fast path."""

from __future__ import annotations

import io
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.models import ResNet18_Weights, ResNet50_Weights

import datamodules.hotdog as hotdog
from datamodules.hotdog import HotdogDataModule
from tests import hotdog_fakes as fakes
from zoo.errors import ChecksumError, ConfigError, DataError, DataUnavailableError


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """(mirror folder holding a fake hotdog.zip, the images); the cache ($ZOO_DATA_DIR) starts empty."""
    folder = tmp_path / "mirror"
    images = fakes.hotdog_images(n_train=3, n_test=2)
    fakes.accept_hotdog(monkeypatch, fakes.write_hotdog_zip(folder / "hotdog.zip", images))
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(folder))
    return folder, images


def _decode(data: bytes) -> torch.Tensor:
    return torch.from_numpy(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).copy())


# ------------------------------------------------------------------ what the CLI reads before setup()
def test_sizes_classes_and_book_preprocessing_before_any_file_exists(tmp_path):
    dm = HotdogDataModule(data_dir=str(tmp_path))
    assert (dm.num_classes, dm.in_channels, dm.image_size, dm.eval_sets) == (2, 3, 224, ("test",))
    assert dm.classes == ["hotdog", "not-hotdog"]
    assert dm.preprocess == {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                             "channels": 3}  # book 9.2.1.1
    assert HotdogDataModule(val_size=100).eval_sets == ("val",)
    assert not any(tmp_path.iterdir())  # no I/O in __init__


@pytest.mark.parametrize("name,weights", [("IMAGENET1K_V1", ResNet18_Weights.IMAGENET1K_V1),
                                          ("DEFAULT", ResNet18_Weights.DEFAULT),
                                          ("ResNet50_Weights.IMAGENET1K_V2", ResNet50_Weights.IMAGENET1K_V2)])
def test_preprocessing_comes_from_the_weights_entry(name, weights):
    reference = weights.transforms()
    dm = HotdogDataModule(weights=name)
    assert dm.preprocess["resize"] == reference.resize_size[0] and dm.preprocess["crop"] == reference.crop_size[0]
    assert dm.preprocess["mean"] == list(reference.mean) and dm.preprocess["std"] == list(reference.std)
    assert dm.image_size == reference.crop_size[0]
    if name.startswith("ResNet50"):
        assert dm.preprocess["resize"] == 232  # V2 weights resize to 232, not the book's 256: read, not restated


def test_sizes_can_be_overridden_and_bad_arguments_are_refused():
    dm = HotdogDataModule(weights="IMAGENET1K_V1", resize_size=72, crop_size=64)
    assert (dm.preprocess["resize"], dm.image_size) == (72, 64)
    with pytest.raises(ConfigError, match="unknown torchvision weights 'IMAGENET2K'.*ResNet18_Weights.IMAGENET1K_V1"):
        HotdogDataModule(weights="IMAGENET2K")
    with pytest.raises(ConfigError, match="unknown torchvision weights 'ResNet18_Weights.V9'"):
        HotdogDataModule(weights="ResNet18_Weights.V9")
    for kwargs in (dict(batch_size=0), dict(val_size=-1), dict(transform_on="gpu"), dict(crop_size=-3)):
        with pytest.raises(ConfigError):
            HotdogDataModule(**kwargs)


# ------------------------------------------------------------------ download, verification, extraction
def test_fetch_from_the_mirror_verify_extract_and_read_the_image_folders(tmp_path, mirror):
    _, images = mirror
    dm = HotdogDataModule(batch_size=4, crop_size=48, resize_size=56)
    dm.prepare_data()
    cache = tmp_path / "cache"  # conftest's $ZOO_DATA_DIR
    assert (cache / "hotdog.zip").is_file()
    assert sorted(p.name for p in (cache / "hotdog" / "train" / "not-hotdog").iterdir()) == ["0.jpg", "1.png", "2.jpg"]
    dm.setup("fit")
    assert len(dm.train_set) == 6 and len(dm.test_set) == 4  # val_size=0: the validation loader serves test
    assert dm.train_set.classes == dm.classes and dm.train_set.targets == [0, 0, 0, 1, 1, 1]
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.uint8 and x.shape == (4, 3, 48, 48) and y.dtype == torch.int64  # no Trainer: uint8
    floats = dm.transform(x)
    assert floats.dtype == torch.float32 and floats.min() < 0 < floats.max()  # normalised


def test_the_test_split_equals_the_books_torchvision_pipeline(tmp_path, mirror):
    """Book 9.2.1.1: Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std), image by image."""
    _, images = mirror
    dm = HotdogDataModule(batch_size=3, weights="IMAGENET1K_V1")
    dm.prepare_data()
    dm.setup("test")
    book = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                      T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    batches = [(dm.transform(x), y) for x, y in dm.test_dataloader()]
    ours, labels = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    files = sorted(dm.test_set.samples)  # ImageFolder order: class, then file name
    assert labels.tolist() == [label for _, label in files] == [0, 0, 1, 1]
    expected = torch.stack([book(Image.open(path).convert("RGB")) for path, _ in files])
    assert ours.shape == (4, 3, 224, 224) and torch.allclose(ours, expected, atol=1e-6)


def test_training_images_are_random_resized_crops_with_flips(tmp_path, mirror):
    dm = HotdogDataModule(batch_size=6, crop_size=32)
    dm.prepare_data()
    dm.setup("fit")
    torch.manual_seed(0)
    first = next(iter(dm.train_dataloader()))[0]
    second = next(iter(dm.train_dataloader()))[0]
    assert first.shape == (6, 3, 32, 32) and not torch.equal(first, second)  # fresh crops every epoch
    ops = [type(t).__name__ for t in dm.train_transform().transforms]
    assert ops == ["RandomResizedCrop", "RandomHorizontalFlip", "PILToTensor"]
    crop = dm.train_transform().transforms[0]
    assert crop.size == (32, 32) and crop.scale == (0.08, 1.0)  # torchvision's defaults, as the book


def test_validation_split_is_seeded_uses_test_transforms_and_leaves_test_alone(tmp_path, mirror):
    dm = HotdogDataModule(batch_size=8, val_size=2, seed=3, crop_size=32, resize_size=40)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.eval_sets == ("val",) and len(dm.train_set) == 4 and len(dm.val_set) == 2
    assert not set(dm.train_set.indices) & set(dm.val_set.indices)
    again = HotdogDataModule(batch_size=8, val_size=2, seed=3)
    again.setup("fit")
    assert again.val_set.indices == dm.val_set.indices
    val_a, val_b = next(iter(dm.val_dataloader()))[0], next(iter(dm.val_dataloader()))[0]
    assert torch.equal(val_a, val_b)  # deterministic (resize + centre crop), unlike the training crops
    dm.setup("test")
    assert len(dm.test_set) == 4


def test_the_loader_converts_in_workers_like_the_device(tmp_path, mirror):
    kwargs = dict(batch_size=4, crop_size=32, resize_size=36)
    on_device = HotdogDataModule(**kwargs, transform_on="device")
    in_loader = HotdogDataModule(**kwargs, transform_on="loader", num_workers=1)
    on_device.prepare_data()
    for dm in (on_device, in_loader):
        dm.setup("test")
    x_uint8, y1 = next(iter(on_device.test_dataloader()))
    x_float, y2 = next(iter(in_loader.test_dataloader()))
    assert x_float.dtype == torch.float32 and torch.equal(y1, y2)
    assert torch.equal(on_device.on_after_batch_transfer((x_uint8, y1), 0)[0], x_float)


def test_a_mirror_with_wrong_bytes_fails_the_sha1_check(tmp_path, monkeypatch, mirror):
    monkeypatch.setattr(hotdog, "HOTDOG", hotdog.HOTDOG.__class__("hotdog.zip", hotdog.HOTDOG.urls, "0" * 40))
    with pytest.raises(ChecksumError, match="checksum mismatch for hotdog.zip"):
        HotdogDataModule().prepare_data()
    assert not (tmp_path / "cache" / "hotdog.zip").exists()


def test_offline_and_not_cached_names_file_urls_sha1_and_folder(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        HotdogDataModule(data_dir=str(tmp_path / "data")).prepare_data()
    message = str(info.value)
    for part in ("hotdog.zip", "fba480ffa8aa7e0febbb511d181409f899b9baa5", "d2l-data.s3-accelerate.amazonaws.com",
                 "apache-mxnet", str(tmp_path / "data"), "ZOO_DATA_MIRROR"):
        assert part in message


def test_through_an_http_mirror(tmp_path, monkeypatch, http_server):
    url, served = http_server
    data = fakes.write_hotdog_zip(served / "hotdog.zip", fakes.hotdog_images(2, 1))
    fakes.accept_hotdog(monkeypatch, data)
    monkeypatch.setenv("ZOO_DATA_MIRROR", url)
    dm = HotdogDataModule(crop_size=32)
    dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_set) == 2


def test_an_incomplete_extraction_is_unpacked_again_from_the_cached_archive(tmp_path, mirror):
    dm = HotdogDataModule()
    dm.prepare_data()
    folder = tmp_path / "cache" / "hotdog" / "test" / "hotdog"
    shutil.rmtree(folder)
    with pytest.raises(DataError, match="lacks test/hotdog; call prepare_data"):
        dm.setup("test")
    dm.prepare_data()
    assert sorted(p.name for p in folder.iterdir()) == ["0.jpg", "1.png"]


def test_an_archive_without_the_expected_folders_is_refused(tmp_path, monkeypatch):
    data = fakes.write_hotdog_zip(tmp_path / "data" / "hotdog.zip", fakes.hotdog_images(1, 1), skip="hotdog/test/")
    fakes.accept_hotdog(monkeypatch, data)
    with pytest.raises(DataError, match="lacks the folders test/hotdog, test/not-hotdog"):
        HotdogDataModule(data_dir=str(tmp_path / "data")).prepare_data()


def test_a_corrupt_image_names_the_file(tmp_path, mirror):
    dm = HotdogDataModule(batch_size=2, crop_size=32)
    dm.prepare_data()
    bad = tmp_path / "cache" / "hotdog" / "test" / "hotdog" / "0.jpg"
    bad.write_bytes(b"not a jpeg")
    dm.setup("test")
    with pytest.raises(DataError, match=f"cannot read the image {bad}"):
        next(iter(dm.test_dataloader()))


def test_the_zip_holds_real_jpeg_and_png_files(mirror):
    folder, images = mirror
    with zipfile.ZipFile(folder / "hotdog.zip") as zf:
        png = zf.read("hotdog/train/hotdog/1.png")
        jpg = zf.read("hotdog/train/hotdog/0.jpg")
    assert png.startswith(b"\x89PNG") and jpg.startswith(b"\xff\xd8")
    assert torch.equal(_decode(png), torch.from_numpy(images["hotdog/train/hotdog/1.png"]))
