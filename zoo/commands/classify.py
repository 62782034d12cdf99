"""``python -m zoo classify``: classify image files with an image-classifier checkpoint.

    python -m zoo classify --ckpt PATH [--top-k K] IMAGE [IMAGE ...]

``classify`` uses the checkpoint alone: the class names and the evaluation preprocessing travel in the model's
hyperparameters (`zoo.tasks.classification`); `classify_files` reads the files with that preprocessing
(`datamodules.images.load_image_files`) and asks the model for its top classes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ConfigError, DataError
from zoo.validation import positive_int

__all__ = ["classify_command", "classify_files", "format_prediction"]


def format_prediction(path: str, top: list[tuple[str, float]]) -> str:
    """``"dog.jpg: hotdog 0.973"``, or with top-k ``"dog.jpg: hotdog 0.973, not-hotdog 0.027"``."""
    return f"{path}: " + ", ".join(f"{name} {prob:.3f}" for name, prob in top)


def classify_files(model, paths: Sequence[str | Path], top_k: int = 1,
                   batch_size: int = 32) -> list[list[tuple[str, float]]]:
    """Top-``top_k`` (class name, probability) pairs, most likely first, for each image file, preprocessed as the
    evaluation images were in training (``model.preprocess_spec()``)."""
    from datamodules.images import load_image_files

    positive_int(top_k, "top_k")
    positive_int(batch_size, "batch_size")
    spec, _ = model.preprocess_spec()
    results: list[list[tuple[str, float]]] = []
    for start in range(0, len(paths), batch_size):
        images = load_image_files(paths[start:start + batch_size], spec)  # (N, C, crop, crop)
        results += model.top_k(images, top_k)
    return results


def classify_command(argv: Sequence[str]) -> int:
    """``python -m zoo classify``: the predicted class and its probability for each image file."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo classify",
        description="Classify image files with an image-classifier checkpoint (class names and preprocessing come "
                    "from the checkpoint).",
        epilog="example: python -m zoo classify --ckpt runs/resnet18_hotdog/version_0/checkpoints/last.ckpt a.jpg")
    parser.add_argument("--ckpt", required=True, help="checkpoint written by a zoo image classifier")
    parser.add_argument("--top-k", type=int, default=1, help="classes to print per image, most likely first")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default: 32)")
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, ...)")
    args = parser.parse_args(argv)
    positive_int(args.top_k, "--top-k")
    positive_int(args.batch_size, "--batch-size")
    missing = [p for p in args.images if not Path(p).is_file()]
    if missing:
        raise DataError(f"no such image file: {', '.join(missing)}")

    from zoo.models import load_task
    from zoo.tasks.classification import ImageClassificationTask

    model = load_task(args.ckpt)
    if not isinstance(model, ImageClassificationTask):
        raise ConfigError(f"{args.ckpt} holds a {type(model).__name__}, which does not classify images; classify "
                          "takes checkpoints of the image classifiers (ResNet18, LeNet, ...)")
    _, recorded = model.preprocess_spec()
    if not recorded:
        print(f"note: {args.ckpt} records no preprocessing (trained without a zoo datamodule); images are resized "
              f"and centre-cropped to {model.hparams.image_size} pixels without normalisation", file=sys.stderr)
    for path, top in zip(args.images, classify_files(model, args.images, args.top_k, args.batch_size)):
        print(format_prediction(path, top), flush=True)
    return 0
