"""Image files read at their meaning (`datamodules.images.open_image`): a 16-bit PNG and a float TIFF in [0, 1] are
scaled to 8 bits instead of clipped to white or black, pixels without an agreed white (floats outside [0, 1], 32-bit
integers) are refused by name, and an image too large to open (Pillow's decompression-bomb guard) is one line in
``classify``, ``anchors`` and ``detect-demo`` rather than a traceback."""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from datamodules.images import load_image_files
from zoo import LeNet
from zoo.cli import main
from zoo.errors import DataError

GREY = {"resize": None, "crop": None, "mean": None, "std": None, "channels": 1}


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["zoo"])


def one_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert info.value.code == 1 and lines and lines[-1].startswith("error: "), captured.err[-2000:]
    assert sum(line.startswith("error: ") for line in lines) == 1
    return lines[-1]


def gradient(height: int = 32, width: int = 32) -> np.ndarray:
    """Values from 0 to 1 along the rows, mean 0.5."""
    return np.repeat(np.linspace(0.0, 1.0, height)[:, None], width, axis=1)


def test_a_16_bit_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.rint(gradient() * 65535).astype(np.uint16)).save(path)
    assert Image.open(path).mode == "I;16"
    batch = load_image_files([path], GREY)  # (1, 1, 32, 32) in [0, 1]
    assert float(batch.mean()) == pytest.approx(0.5, abs=0.01)  # Pillow's convert("L") gave 0.998
    assert float(batch.min()) == 0.0 and float(batch.max()) == 1.0
    rgb = load_image_files([path], {**GREY, "channels": 3})
    assert rgb.shape == (1, 3, 32, 32) and float(rgb.mean()) == pytest.approx(0.5, abs=0.01)


def test_a_float_tiff_in_zero_one_is_taken_as_it_is(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(gradient().astype(np.float32)).save(path)
    assert Image.open(path).mode == "F"
    batch = load_image_files([path], GREY)
    assert float(batch.mean()) == pytest.approx(0.5, abs=0.01)  # Pillow's convert("L") gave 0.0
    assert torch.allclose(batch[0, 0], torch.from_numpy(gradient()).float(), atol=1 / 255)


@pytest.mark.parametrize(("pixels", "mode", "message"), [
    (gradient() * 1000.0, "F", "floating-point pixels with values from 0 to 1000"),
    (np.full((8, 8), np.nan), "F", "floating-point pixels with NaN or infinite values"),
    (np.arange(64).reshape(8, 8) * 1000, "I", "32-bit integer pixels"),
])
def test_pixels_without_an_agreed_white_are_refused_by_name(pixels, mode, message, tmp_path):
    path = tmp_path / "odd.tif"
    Image.fromarray(pixels.astype(np.float32 if mode == "F" else np.int32), mode).save(path)
    from datamodules.images import open_image

    with pytest.raises(DataError, match=message):
        open_image(path, "L")


@pytest.fixture
def lenet_ckpt(tmp_path) -> str:
    """A LeNet classifier trained a step on plain tensors (grey 28 x 28 images)."""
    model = LeNet(classes=[f"c{i}" for i in range(10)])
    trainer = L.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", default_root_dir=tmp_path / "plain")
    trainer.fit(model, DataLoader([(torch.rand(1, 28, 28), torch.tensor(3))] * 2, batch_size=2))
    return trainer.checkpoint_callback.best_model_path


def test_classify_refuses_a_float_tiff_out_of_range_in_one_line(lenet_ckpt, tmp_path, capsys):
    path = tmp_path / "radiance.tif"
    Image.fromarray((gradient(28, 28) * 40.0).astype(np.float32)).save(path)
    error = one_error(["classify", "--ckpt", lenet_ckpt, str(path)], capsys)
    assert str(path) in error and "only floats in [0, 1] can be read" in error


def bomb_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A PNG whose header says ``width`` x ``height`` pixels (its data is a few bytes: nothing is decoded before
    Pillow's size check)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_an_image_too_large_to_open_is_one_line_in_every_command(lenet_ckpt, tmp_path, capsys):
    bomb = bomb_png(tmp_path / "huge.png")
    for argv in (["classify", "--ckpt", lenet_ckpt, str(bomb)],
                 ["anchors", "--image", str(bomb), "--out", str(tmp_path / "a.png")],
                 ["detect-demo", "--image", str(bomb), "--box", "dog", "0.9", "1", "1", "9", "9", "--out",
                  str(tmp_path / "d.png")]):
        error = one_error(argv, capsys)
        assert f"the image {bomb} is too large to open" in error and "decompression bomb" in error
        assert "400,000,000" in error or "400000000" in error
