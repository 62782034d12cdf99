"""Image augmentation as batched tensor operations (book 9.1): flips, padded random crops and colour jitter.

The book augments one PIL image at a time (``transforms.RandomHorizontalFlip()``, ``ColorJitter(brightness=0.5,
contrast=0.5, saturation=0.5, hue=0.5)``, 9.1.1). Here a whole batch (B, C, H, W) is augmented at once, with random
parameters drawn per image and applied as vectorised tensor arithmetic, so the work runs wherever the batch is: on
the GPU when a datamodule converts batches on the device, in the loader workers when it converts them there (see
``transform_on`` in `datamodules.images`). Each operation is split into a ``sample_*`` function that draws the
per-image parameters and a deterministic function that applies given parameters; the tests check the latter against
torchvision's per-image functions.

Presets (``augment`` of the image datamodules; training batches only, as the book: "we only augment the training
images", 9.1.2):

* ``none``: the batch as it is.
* ``flip``: horizontal flip with probability 0.5 (book 9.1.2: the E9.1 run).
* ``flip_crop``: flip, then zero-pad by 4 pixels on each side and crop a random window of the original size
  (``transforms.RandomCrop(32, padding=4)``, the usual CIFAR-10 crop).
* ``flip_crop_jitter``: flip and crop, then brightness, contrast, saturation and hue jitter with the book's strengths
  (0.5 each, 9.1.1.2), applied in that fixed order (torchvision shuffles the order per image). Saturation and hue
  need colour, so grey images get brightness and contrast only.

Flips and crops keep the dtype (uint8 stays uint8); jitter works on floats in [0, 1] (uint8 input is converted by
``/ 255``) and returns float32 in [0, 1].
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError

__all__ = ["PRESETS", "Preset", "adjust_brightness", "adjust_contrast", "adjust_hue", "adjust_saturation",
           "augment_batch", "check_preset", "color_jitter", "crop_at", "flip_where", "hsv_to_rgb", "rgb_to_hsv",
           "sample_crop_offsets", "sample_flips", "sample_jitter"]

Preset = Literal["none", "flip", "flip_crop", "flip_crop_jitter"]
PRESETS: tuple[str, ...] = get_args(Preset)
CROP_PADDING = 4
JITTER = {"brightness": 0.5, "contrast": 0.5, "saturation": 0.5, "hue": 0.5}  # book 9.1.1.2, L9629
GREY_WEIGHTS = (0.2989, 0.587, 0.114)  # ITU-R 601-2 luma, as torchvision's rgb_to_grayscale


def check_preset(preset: str) -> str:
    if preset not in PRESETS:
        raise ConfigError(f"unknown augmentation preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return preset


def _rand(n: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """(n,) uniform [0, 1) on ``device`` (drawn on the generator's device, then moved)."""
    gen_device = generator.device if generator is not None else device
    return torch.rand(n, generator=generator, device=gen_device).to(device)


# ------------------------------------------------------------------ flips
def sample_flips(n: int, p: float = 0.5, device: torch.device | str = "cpu",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """(n,) bool: which images to flip, each with probability ``p``."""
    return _rand(n, torch.device(device), generator) < p


def flip_where(images: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) with image ``i`` mirrored left-right where ``flip[i]``."""
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)


# ------------------------------------------------------------------ padded random crops
def sample_crop_offsets(n: int, padding: int = CROP_PADDING, device: torch.device | str = "cpu",
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """(n, 2) int64 (top, left) corners in the padded image, each uniform in 0..2*padding."""
    u = torch.stack([_rand(n, torch.device(device), generator) for _ in range(2)], dim=1)
    return (u * (2 * padding + 1)).long().clamp_(max=2 * padding)


def crop_at(images: torch.Tensor, offsets: torch.Tensor, padding: int = CROP_PADDING) -> torch.Tensor:
    """Zero-pad (B, C, H, W) by ``padding`` on every side and cut an H x W window at ``offsets`` (B, 2) per image.

    Equals ``TF.crop(TF.pad(img, padding), top, left, H, W)`` image by image, as one gather over the batch.
    """
    b, c, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)  # (B, C, H + 2p, W + 2p), zeros
    rows = offsets[:, 0:1] + torch.arange(h, device=images.device)  # (B, H)
    cols = offsets[:, 1:2] + torch.arange(w, device=images.device)  # (B, W)
    batch = torch.arange(b, device=images.device).view(b, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.view(b, h, 1), cols.view(b, 1, w)]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


# ------------------------------------------------------------------ colour jitter
def _unit(images: torch.Tensor) -> torch.Tensor:
    return images.float().div(255) if images.dtype == torch.uint8 else images.float()


def _per_image(factor: torch.Tensor) -> torch.Tensor:
    return factor.view(-1, 1, 1, 1)


def _grey(images: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luma of (B, 3, H, W), or the image itself when it has one channel."""
    if images.shape[1] == 1:
        return images
    r, g, b = images.unbind(1)
    return (GREY_WEIGHTS[0] * r + GREY_WEIGHTS[1] * g + GREY_WEIGHTS[2] * b).unsqueeze(1)


def adjust_brightness(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``factor * x`` per image, clipped to [0, 1] (``TF.adjust_brightness``)."""
    return (_per_image(factor) * images).clamp(0, 1)


def adjust_contrast(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend each image with its mean grey level: ``f * x + (1 - f) * mean`` (``TF.adjust_contrast``)."""
    mean = _grey(images).mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    f = _per_image(factor)
    return (f * images + (1 - f) * mean).clamp(0, 1)


def adjust_saturation(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend each image with its own grey version (``TF.adjust_saturation``); grey images are unchanged."""
    if images.shape[1] == 1:
        return images
    f = _per_image(factor)
    return (f * images + (1 - f) * _grey(images)).clamp(0, 1)


def rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> HSV, every channel in [0, 1] (hue as a fraction of the full turn)."""
    r, g, b = images.unbind(1)
    value = images.max(dim=1).values
    arg = torch.where(value == r, 0, torch.where(value == g, 1, 2))  # the largest channel; red, then green on ties
    chroma = value - images.min(dim=1).values
    grey = chroma == 0
    safe = torch.where(grey, torch.ones_like(chroma), chroma)
    saturation = chroma / torch.where(value == 0, torch.ones_like(value), value)
    hue = torch.where(arg == 0, (g - b) / safe, torch.where(arg == 1, 2 + (b - r) / safe, 4 + (r - g) / safe))
    hue = torch.where(grey, torch.zeros_like(hue), torch.remainder(hue / 6, 1.0))
    return torch.stack([hue, saturation, value], dim=1)


def hsv_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Inverse of `rgb_to_hsv`: (B, 3, H, W) HSV in [0, 1] -> RGB in [0, 1]."""
    hue, saturation, value = images.unbind(1)
    h6 = hue * 6
    sector = torch.floor(h6)
    frac = h6 - sector
    sector = torch.remainder(sector, 6).long()  # 0..5: which sixth of the colour wheel
    p = (value * (1 - saturation)).clamp(0, 1)
    q = (value * (1 - saturation * frac)).clamp(0, 1)
    t = (value * (1 - saturation * (1 - frac))).clamp(0, 1)
    # (R, G, B) per sector: (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q)
    table = torch.stack([torch.stack(c, dim=0) for c in ((value, t, p), (q, value, p), (p, value, t),
                                                         (p, q, value), (t, p, value), (value, p, q))])  # (6,3,B,H,W)
    index = sector.unsqueeze(0).unsqueeze(0).expand(1, 3, *sector.shape)  # (1, 3, B, H, W)
    return table.gather(0, index).squeeze(0).transpose(0, 1)  # (3, B, H, W) -> (B, 3, H, W)


def adjust_hue(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Turn each image's hue by ``shift`` (in [-0.5, 0.5] of a full turn; ``TF.adjust_hue``); grey images unchanged."""
    if images.shape[1] == 1:
        return images
    hsv = rgb_to_hsv(images)
    hue = torch.remainder(hsv[:, 0] + shift.view(-1, 1, 1), 1.0)
    return hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1))


def sample_jitter(n: int, strengths: dict[str, float] | None = None, device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Per-image factors: brightness/contrast/saturation uniform in [1 - s, 1 + s], hue shift in [-s, s]."""
    strengths = JITTER if strengths is None else strengths
    device = torch.device(device)
    factors = {}
    for name in ("brightness", "contrast", "saturation", "hue"):
        s = strengths.get(name, 0.0)
        centre = 0.0 if name == "hue" else 1.0
        factors[name] = centre + s * (2 * _rand(n, device, generator) - 1)
    return factors


def color_jitter(images: torch.Tensor, factors: dict[str, torch.Tensor]) -> torch.Tensor:
    """Brightness, contrast, saturation, then hue, each with its per-image factor; float32 in [0, 1] out."""
    x = _unit(images)
    x = adjust_brightness(x, factors["brightness"])
    x = adjust_contrast(x, factors["contrast"])
    x = adjust_saturation(x, factors["saturation"])
    return adjust_hue(x, factors["hue"])


# ------------------------------------------------------------------ presets
def augment_batch(images: torch.Tensor, preset: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply ``preset`` to a batch (B, C, H, W), uint8 or float in [0, 1], with fresh random parameters per image.

    Random numbers come from ``generator`` or, by default, torch's global generator on the batch's device (seeded
    by ``seed_everything``; each loader worker has its own seed).
    """
    check_preset(preset)
    if preset == "none":
        return images
    n, device = images.shape[0], images.device
    x = flip_where(images, sample_flips(n, device=device, generator=generator))
    if preset in ("flip_crop", "flip_crop_jitter"):
        x = crop_at(x, sample_crop_offsets(n, device=device, generator=generator))
    if preset == "flip_crop_jitter":
        x = color_jitter(x, sample_jitter(n, device=device, generator=generator))
    return x
