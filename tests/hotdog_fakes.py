"""A small ``hotdog.zip`` in the real layout, and a fake ImageNet ResNet-18 weights file in a TORCH_HOME cache.

* ``hotdog.zip``: ``hotdog/{train,test}/{hotdog,not-hotdog}/<n>.jpg|png``, real JPEG and PNG files of varying size
  (hot dogs reddish, the rest greenish, so a model can tell them apart). The sha1 of the real file is patched to the
  fake one's with `accept_hotdog`.
* weights: the state dict of a randomly initialised torchvision ``resnet18`` (1000-class ``fc`` included), saved
  where torch.hub looks for ``ResNet18_Weights.IMAGENET1K_V1``: ``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth``.
  torch.hub checks the SHA-256 prefix in that name only while downloading, not for a file already in the cache, so
  the fake loads under the real name exactly as a hand-copied real file would (test_finetune.py also exercises the
  download path, with a file whose name carries its own hash prefix).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import torch
from PIL import Image

CLASSES = ("hotdog", "not-hotdog")


def hotdog_images(n_train: int = 3, n_test: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """{zip member name: uint8 (H, W, 3)}, ``n_train``/``n_test`` images per class; every second one is a PNG."""
    rng = np.random.default_rng(seed)
    images = {}
    for split, n in (("train", n_train), ("test", n_test)):
        for label, cls in enumerate(CLASSES):
            for i in range(n):
                h, w = int(rng.integers(40, 90)), int(rng.integers(40, 120))
                pixels = rng.integers(0, 90, (h, w, 3))
                pixels[..., label] += 150  # red hot dogs, green other food
                suffix = "png" if i % 2 else "jpg"
                images[f"hotdog/{split}/{cls}/{i}.{suffix}"] = pixels.clip(0, 255).astype(np.uint8)
    return images


def encode(pixels: np.ndarray, name: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG" if name.endswith(".png") else "JPEG", quality=95)
    return buffer.getvalue()


def write_hotdog_zip(path: Path, images: dict[str, np.ndarray], skip: str | None = None) -> bytes:
    """Write the zip (leaving out members under ``skip``, for a damaged archive); returns its bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, pixels in images.items():
            if skip is None or not name.startswith(skip):
                zf.writestr(name, encode(pixels, name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def accept_hotdog(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """Make ``datamodules.hotdog.HOTDOG`` carry the sha1 of the fake archive."""
    import datamodules.hotdog as mod

    monkeypatch.setattr(mod, "HOTDOG", replace(mod.HOTDOG, checksum=hashlib.sha1(data).hexdigest()))


def fake_resnet18_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A randomly initialised torchvision resnet18's state dict, with distinct BatchNorm statistics."""
    from torchvision.models import resnet18

    torch.manual_seed(seed)
    state = resnet18().state_dict()
    for key, value in state.items():
        if key.endswith(("running_mean", "running_var")):  # not the default 0/1, so copying them is visible
            state[key] = torch.rand_like(value) + (0.5 if key.endswith("var") else 0.0)
    return state


def weights_file_name() -> str:
    from torchvision.models import ResNet18_Weights

    return os.path.basename(urlparse(ResNet18_Weights.IMAGENET1K_V1.url).path)


def install_fake_weights(torch_home: Path, monkeypatch: pytest.MonkeyPatch,
                         state: dict[str, torch.Tensor] | None = None) -> Path:
    """Save ``state`` (default `fake_resnet18_state`) as torch.hub's cached ImageNet ResNet-18; set TORCH_HOME."""
    path = torch_home / "hub" / "checkpoints" / weights_file_name()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(fake_resnet18_state() if state is None else state, path)
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    return path


def install_hotdog(root: Path, monkeypatch: pytest.MonkeyPatch, n_train: int = 3, n_test: int = 2,
                   weights: bool = True) -> dict[str, np.ndarray]:
    """A fake ``hotdog.zip`` in the cache folder ``root``, accepted by sha1; with ``weights``, also the fake ImageNet
    weights in ``root/torch_home`` (the hotdog recipe fine-tunes a pretrained model). Returns the images."""
    images = hotdog_images(n_train, n_test)
    accept_hotdog(monkeypatch, write_hotdog_zip(root / "hotdog.zip", images))
    if weights:
        install_fake_weights(root / "torch_home", monkeypatch)
    return images
