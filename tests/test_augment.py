"""Batched augmentation (book 9.1): every operation against torchvision's per-image functions, the presets' shapes,
dtypes and ranges, training-only application inside a real fit, the E9.1 recipe pair, and the augment-grid command."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
import yaml
from PIL import Image

from datamodules import augment as A
from datamodules.cifar10 import CIFAR10DataModule
from datamodules.images import BatchTransform
from tests import vision_fakes
from zoo import MLP
from zoo.cli import main, recipes
from zoo.errors import ConfigError


def _uint8(b: int = 8, c: int = 3, h: int = 32, w: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (b, c, h, w), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


# ------------------------------------------------------------------ presets: shapes, dtypes, ranges
@pytest.mark.parametrize("preset", A.PRESETS)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("channels", [1, 3])
def test_presets_keep_the_shape_and_the_value_range(preset, dtype, channels):
    x = _uint8(c=channels, h=28, w=30)
    x = x if dtype == torch.uint8 else x.float() / 255
    out = A.augment_batch(x, preset, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    if preset == "flip_crop_jitter":
        assert out.dtype == torch.float32 and out.min() >= 0 and out.max() <= 1
    else:
        assert out.dtype == x.dtype  # flips and crops do not convert
    if preset == "none":
        assert out is x


def test_an_unknown_preset_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="unknown augmentation preset 'mirror'; choose one of none, flip, flip_crop"):
        A.augment_batch(_uint8(), "mirror")
    with pytest.raises(ConfigError, match="CIFAR10DataModule: unknown augmentation preset"):
        CIFAR10DataModule(augment="mirror")


# ------------------------------------------------------------------ flips
def test_flip_is_a_real_left_right_flip_of_exactly_the_selected_images():
    x = _uint8(16)
    flip = A.sample_flips(16, generator=torch.Generator().manual_seed(0))
    assert 0 < int(flip.sum()) < 16
    out = A.flip_where(x, flip)
    for i in range(16):
        expected = torch.flip(x[i], dims=[-1]) if flip[i] else x[i]
        assert torch.equal(out[i], expected), i
        assert torch.equal(out[i], TF.hflip(x[i]) if flip[i] else x[i])
    assert not A.sample_flips(100, p=0.0).any() and A.sample_flips(100, p=1.0).all()


def test_the_flip_preset_flips_about_half_and_changes_nothing_else():
    x = _uint8(200, h=8, w=8)
    out = A.augment_batch(x, "flip", generator=torch.Generator().manual_seed(3))
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(-1)).flatten(1).all(1)
    assert (same | mirrored).all()  # every image is itself or its mirror image
    assert 70 < int(mirrored.sum()) < 130


# ------------------------------------------------------------------ padded crops
def test_crop_equals_torchvision_pad_then_crop_per_image():
    x = _uint8(12)
    offsets = A.sample_crop_offsets(12, generator=torch.Generator().manual_seed(0))
    out = A.crop_at(x, offsets)
    for i in range(12):
        top, left = offsets[i].tolist()
        assert torch.equal(out[i], TF.crop(TF.pad(x[i], 4), top, left, 32, 32)), i


def test_crop_semantics_centre_corner_and_range():
    x = _uint8(2, h=10, w=12) | 1  # no zero pixels, so padding is recognisable
    centre = A.crop_at(x, torch.tensor([[4, 4], [0, 8]]))
    assert torch.equal(centre[0], x[0])  # offset = padding: the original image
    assert (centre[1, :, :4] == 0).all() and (centre[1, :, :, -4:] == 0).all()  # shifted down-left: zero borders
    assert torch.equal(centre[1, :, 4:, :-4], x[1, :, :-4, 4:])
    offsets = A.sample_crop_offsets(5000, generator=torch.Generator().manual_seed(0))
    assert offsets.min() == 0 and offsets.max() == 8 and len(torch.unique(offsets[:, 0])) == 9


# ------------------------------------------------------------------ colour jitter
@pytest.mark.parametrize("name", ["brightness", "contrast", "saturation", "hue"])
def test_each_jitter_equals_torchvision_per_image(name):
    x = torch.rand(6, 3, 9, 11, generator=torch.Generator().manual_seed(0))
    x[0] = 0.5  # grey: hue undefined
    x[1, :, :3] = 0  # black rows
    factors = A.sample_jitter(6, generator=torch.Generator().manual_seed(1))
    out = getattr(A, f"adjust_{name}")(x, factors[name])
    reference = torch.stack([getattr(TF, f"adjust_{name}")(x[i], float(factors[name][i])) for i in range(6)])
    assert torch.allclose(out, reference, atol=1e-5)


def test_jitter_factor_ranges_and_grey_images():
    factors = A.sample_jitter(4000, generator=torch.Generator().manual_seed(0))
    for name in ("brightness", "contrast", "saturation"):
        assert 0.5 <= factors[name].min() < 0.55 and 1.45 < factors[name].max() <= 1.5
    assert -0.5 <= factors["hue"].min() < -0.45 and 0.45 < factors["hue"].max() <= 0.5
    grey = torch.rand(3, 1, 8, 8)
    f = torch.tensor([0.6, 1.0, 1.4])
    assert torch.equal(A.adjust_saturation(grey, f), grey) and torch.equal(A.adjust_hue(grey, f - 1), grey)
    jittered = A.color_jitter(grey, A.sample_jitter(3))
    assert jittered.shape == grey.shape and jittered.min() >= 0 and jittered.max() <= 1


def test_hsv_round_trip():
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(A.hsv_to_rgb(A.rgb_to_hsv(x)), x, atol=1e-6)
    hsv = A.rgb_to_hsv(x)
    assert hsv.min() >= 0 and hsv.max() <= 1


# ------------------------------------------------------------------ in the datamodule: training batches only
def _fit_and_capture(tmp_path, monkeypatch, transform_on: str, augment: str = "flip"):
    vision_fakes.install_cifar10(tmp_path / "data", monkeypatch, n_per_batch=4, n_test=8)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "data"), batch_size=5, augment=augment, transform_on=transform_on)
    seen = {"train": [], "val": []}

    class Capture(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen["train"].append(batch[0])

        def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
            seen["val"].append(batch[0])

    torch.manual_seed(0)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, num_sanity_val_steps=0,
                        callbacks=[Capture()], default_root_dir=tmp_path)
    trainer.fit(MLP(hidden_sizes=(8,), impl="nn", in_channels=3, image_size=32), dm)
    return dm, torch.cat(seen["train"]), torch.cat(seen["val"])


@pytest.mark.parametrize("transform_on", ["device", "loader"])
def test_fit_augments_training_batches_only(tmp_path, monkeypatch, transform_on):
    """Where the batch is converted (on the device in on_after_batch_transfer, or in the loader): every training
    image the model sees is an original or its mirror image, some are mirrored; evaluation images never are."""
    dm, train, val = _fit_and_capture(tmp_path, monkeypatch, transform_on)
    originals = dm.transform(dm.train_set.images)  # (20, 3, 32, 32) float
    mirrors = originals.flip(-1)
    match_plain = (train[:, None] == originals[None]).flatten(2).all(2)  # (seen, originals)
    match_mirror = (train[:, None] == mirrors[None]).flatten(2).all(2)
    assert train.shape[0] == 20 and (match_plain | match_mirror).any(1).all()
    assert match_mirror.any(1).sum() > 0 and match_plain.any(1).sum() > 0
    assert torch.equal(val, dm.transform(dm.test_set.images))  # the test split, in order, unflipped


def test_the_loader_collate_augments_only_for_the_training_loader(tmp_path, monkeypatch):
    vision_fakes.install_cifar10(tmp_path / "data", monkeypatch)
    dm = CIFAR10DataModule(data_dir=str(tmp_path / "data"), augment="flip_crop_jitter", transform_on="loader")
    dm.prepare_data()
    dm.setup("fit")
    assert dm.train_dataloader().collate_fn.augment == "flip_crop_jitter"
    assert dm.val_dataloader().collate_fn.augment == "none" and dm.test_dataloader().collate_fn.augment == "none"
    images, labels = BatchTransform(None, None, None, augment="flip_crop_jitter")(dm.train_set[[0, 1, 2]])
    assert images.dtype == torch.float32 and images.shape == (3, 3, 32, 32) and labels.shape == (3,)


def test_the_e91_recipe_pair_differs_only_in_augmentation():
    configs = {name: yaml.safe_load(recipes()[name].read_text(encoding="utf-8"))
               for name in ("resnet18_cifar10", "resnet18_cifar10_augment")}
    plain, augmented = configs["resnet18_cifar10"], configs["resnet18_cifar10_augment"]
    assert plain["data"]["init_args"].pop("augment") == "none"
    assert augmented["data"]["init_args"].pop("augment") == "flip"
    for config in (plain, augmented):
        config["trainer"].pop("default_root_dir")
    assert plain == augmented
    assert augmented["model"]["init_args"] == {"variant": "d2l", "optimizer": "adam", "lr": 0.001}
    assert augmented["data"]["init_args"]["batch_size"] == 256 and augmented["trainer"]["max_epochs"] == 10


# ------------------------------------------------------------------ the grid command
def _png(path):
    with Image.open(path) as image:
        return image.size, torch.from_numpy(np.asarray(image.convert("RGB")).copy())


def test_augment_grid_of_image_files(tmp_path, capsys):
    files = []
    for i, size in enumerate([(120, 80), (64, 64)]):
        path = tmp_path / f"img{i}.{'jpg' if i else 'png'}"  # PNG first: exact colours
        Image.new("RGB", size, (200, 30 * i, 40)).save(path)
        files.append(str(path))
    out = tmp_path / "grid.png"
    with pytest.raises(SystemExit) as done:
        main(["augment-grid", "--preset", "flip_crop_jitter", "--out", str(out), "--cols", "5", *files])
    assert done.value.code == 0 and "wrote" in capsys.readouterr().out
    (width, height), pixels = _png(out)
    assert (width, height) == (5 * 96 + 6 * 2, 2 * 96 + 3 * 2)  # 2 rows of 5 tiles of 96 px, 2 px padding
    assert pixels[2 + 48, 2 + 48].tolist() == [200, 0, 40]  # first tile: the original first image


def test_augment_grid_of_cifar10_from_the_cache(tmp_path, monkeypatch, capsys):
    arrays = vision_fakes.install_cifar10(tmp_path / "data", monkeypatch)
    out = tmp_path / "grid.png"
    with pytest.raises(SystemExit) as done:
        main(["augment-grid", "--preset", "flip", "--rows", "3", "--out", str(out), "--data-dir",
              str(tmp_path / "data")])
    assert done.value.code == 0 and "CIFAR-10" in capsys.readouterr().out
    (width, height), pixels = _png(out)
    assert (width, height) == (8 * 96 + 9 * 2, 3 * 96 + 4 * 2)  # 32-px images enlarged 3x
    first = torch.from_numpy(arrays["data_batch_1"][0][0]).view(3, 32, 32).permute(1, 2, 0)
    assert torch.equal(pixels[2:98:3, 2:98:3], first)  # the first tile is the first training image, enlarged


def test_augment_grid_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["augment-grid", "--out", str(tmp_path / "g.png"), str(tmp_path / "missing.jpg")])
    assert done.value.code == 1 and "cannot read the image" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:  # no files and no CIFAR-10 anywhere (offline, no mirror)
        main(["augment-grid", "--out", str(tmp_path / "g.png"), "--data-dir", str(tmp_path / "empty")])
    assert done.value.code == 1 and "cannot obtain cifar-10-python.tar.gz" in capsys.readouterr().err
