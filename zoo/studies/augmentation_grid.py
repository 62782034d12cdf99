"""``python -m zoo augment-grid``: book 9.1's ``apply(img, aug)`` figure as a PNG: one row per image, the original on
the left and augmented versions (`datamodules.augment`) to its right.

    python -m zoo augment-grid --preset flip_crop_jitter --out grid.png [--data-dir DIR] [IMAGE ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

from zoo.errors import ConfigError
from zoo.files import atomic_path, check_output_file
from zoo.validation import positive_int

__all__ = ["GRID_FORMATS", "augment_grid", "augment_grid_command"]

#: suffix of the grid's file -> Pillow's format name
GRID_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _cifar_images(data_dir: str | None, count: int) -> torch.Tensor:
    """The first ``count`` CIFAR-10 training images, uint8 (count, 3, 32, 32), from the cache or the mirror."""
    from datamodules.cifar10 import CIFAR10DataModule

    dm = CIFAR10DataModule(data_dir=data_dir)
    dm.prepare_data()  # nothing to do when cached; else the mirror, else a clear offline error
    dm.setup("fit")
    return dm.train_set.images[:count]


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def augment_grid(images: torch.Tensor, preset: str, cols: int = 8, seed: int = 0, min_tile: int = 96) -> torch.Tensor:
    """A (3 or 1, H, W) float grid: row i = image i, then ``cols - 1`` augmented versions of it (``preset``).

    ``images``: uint8 (N, C, S, S). Tiles are enlarged (nearest neighbour) to at least ``min_tile`` pixels.
    """
    from torchvision.utils import make_grid

    from datamodules.augment import augment_batch, check_preset

    check_preset(preset)
    if cols < 2:
        raise ConfigError(f"the grid needs at least 2 columns (original + augmented), got {cols}")
    generator = torch.Generator().manual_seed(seed)
    repeated = images.repeat_interleave(cols - 1, dim=0)  # (N * (cols - 1), C, S, S)
    augmented = augment_batch(repeated, preset, generator=generator)
    rows = [torch.cat([_unit(images[i:i + 1]), _unit(augmented[i * (cols - 1):(i + 1) * (cols - 1)])])
            for i in range(images.shape[0])]
    tiles = torch.cat(rows)  # (N * cols, C, S, S) in [0, 1]
    scale = max(1, -(-min_tile // tiles.shape[-1]))
    if scale > 1:
        tiles = torch.nn.functional.interpolate(tiles, scale_factor=scale, mode="nearest")
    return make_grid(tiles, nrow=cols, padding=2, pad_value=1.0)


def augment_grid_command(argv: Sequence[str]) -> int:
    """``python -m zoo augment-grid``: write a PNG of augmented samples for a quick visual check (book 9.1)."""
    from datamodules.augment import PRESETS
    from datamodules.images import load_image_files

    parser = argparse.ArgumentParser(
        prog="python -m zoo augment-grid",
        description="Write a PNG grid: each row an image, then augmented versions of it (book 9.1's figures). "
                    "Without image files, the first CIFAR-10 training images (cache, $ZOO_DATA_MIRROR or download).",
        epilog="example: python -m zoo augment-grid --preset flip_crop_jitter --out grid.png")
    parser.add_argument("--preset", default="flip_crop_jitter", choices=[p for p in PRESETS if p != "none"])
    parser.add_argument("--out", default="runs/augment_grid.png",
                        help="image file: .png or .jpg (default: runs/augment_grid.png)")
    parser.add_argument("--rows", type=int, default=4, help="CIFAR-10 images, one per row (default: 4)")
    parser.add_argument("--cols", type=int, default=8, help="columns: the original + cols-1 augmented (default: 8)")
    parser.add_argument("--size", type=int, default=96, help="side image files are resized and cropped to")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random augmentations (default: 0)")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 cache folder (default: $ZOO_DATA_DIR or ~/.cache)")
    parser.add_argument("images", nargs="*", help="image files to augment instead of CIFAR-10")
    args = parser.parse_args(argv)
    positive_int(args.rows, "--rows")
    if positive_int(args.size, "--size") < 8:
        raise ConfigError(f"--size must be >= 8, got {args.size}")
    if positive_int(args.cols, "--cols") < 2:
        raise ConfigError(f"--cols must be >= 2 (the original + augmented versions), got {args.cols}")
    out = check_output_file(args.out, tuple(GRID_FORMATS), flag="--out", inputs=args.images)
    if args.images:
        spec = {"resize": args.size, "crop": args.size, "mean": None, "std": None, "channels": 3}
        images = (load_image_files(args.images, spec) * 255).round().to(torch.uint8)  # (N, 3, size, size)
        source = f"{len(args.images)} image file(s)"
    else:
        images = _cifar_images(args.data_dir, args.rows)
        source = f"the first {images.shape[0]} CIFAR-10 training images"
    grid = augment_grid(images, args.preset, args.cols, args.seed)
    from torchvision.utils import save_image

    try:
        with atomic_path(check_output_file(out, tuple(GRID_FORMATS), flag="--out")) as tmp:
            save_image(grid, tmp, format=GRID_FORMATS[out.suffix.lower()])
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: {source}, each followed by {args.cols - 1} '{args.preset}' versions")
    return 0
