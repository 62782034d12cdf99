"""The object-detection commands of ``python -m zoo`` (book 9.3, 9.4): anchor boxes drawn over an image, and the
book's non-maximum-suppression example.

    python -m zoo anchors --image catdog.jpg --sizes 0.75 0.5 0.25 --ratios 1 2 0.5 --out anchors.png
    python -m zoo detect-demo --image catdog.jpg --out detections.png

``anchors`` draws the n + m - 1 anchors of `zoo.ops.anchors.multibox_prior` centred on one pixel (default the image
centre; the book uses pixel (250, 250) of catdog.jpg), labelled ``s=0.75, r=1`` and so on, as the book's figure in
9.4.1. ``detect-demo`` runs 9.4.4's example: four anchors, predicted offsets all zero, class probabilities
dog [0.9, 0.8, 0.7, 0.1] and cat [0.1, 0.2, 0.3, 0.9]; it prints `multibox_detection`'s rows and draws the boxes NMS
keeps (``dog=0.9``, ``cat=0.9``). It also prints 9.4.3's anchor labels (A0 background, A1 dog, A2 cat, A3
background, A4 cat). Boxes are drawn with matplotlib's object API (no pyplot).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch

from zoo.errors import ConfigError, DataError
from zoo.ops.anchors import (
    anchor_labels,
    anchors_at,
    check_sizes_and_ratios,
    multibox_detection,
    multibox_prior,
    multibox_target,
)

__all__ = ["DEMO_ANCHORS", "DEMO_CLASSES", "DEMO_PROBS", "anchors_command", "detect_demo_command", "draw_boxes",
           "load_image", "plot_boxes"]

COLORS = ("b", "g", "r", "m", "c")

#: book 9.4.4's example, normalised corners, and its class probabilities (background, dog, cat)
DEMO_ANCHORS = ((0.1, 0.08, 0.52, 0.92), (0.08, 0.2, 0.56, 0.95), (0.15, 0.3, 0.62, 0.91), (0.55, 0.2, 0.9, 0.88))
DEMO_PROBS = ((0.0, 0.0, 0.0, 0.0), (0.9, 0.8, 0.7, 0.1), (0.1, 0.2, 0.3, 0.9))
DEMO_CLASSES = ("dog", "cat")
#: book 9.4.3's labelling example: ground truth [class, corners] and five anchors
LABEL_GROUND_TRUTH = ((0, 0.1, 0.08, 0.52, 0.92), (1, 0.55, 0.2, 0.9, 0.88))
LABEL_ANCHORS = ((0, 0.1, 0.2, 0.3), (0.15, 0.2, 0.4, 0.4), (0.63, 0.05, 0.88, 0.98), (0.66, 0.45, 0.8, 0.8),
                 (0.57, 0.3, 0.92, 0.9))


def load_image(path: str | Path):
    """The image file as an RGB ``PIL.Image``; a missing or unreadable file raises `DataError`."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such image file: {path}")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"cannot read the image {path} ({type(exc).__name__}: {exc}); pass a JPEG or PNG file") from exc


def draw_boxes(ax, boxes: torch.Tensor, labels: Sequence[str] | None = None, colors: Sequence[str] = COLORS,
               frame: tuple[float, float] | None = None) -> None:
    """Draw (K, 4) pixel corners on matplotlib axes, each with its label in a box of its colour at its top-left
    corner (the book's ``show_bboxes`` with ``bbox_to_rect``); with ``frame`` (width, height) a label whose corner
    lies outside the image is moved inside it."""
    from matplotlib.patches import Rectangle

    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        color = colors[i % len(colors)]
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, linewidth=2))
        if labels and i < len(labels):
            tx, ty = (min(max(x1, 0), frame[0] - 1), min(max(y1, 0), frame[1] - 1)) if frame else (x1, y1)
            ax.text(tx, ty, labels[i], va="center", ha="center", fontsize=8, color="k" if color == "w" else "w",
                    bbox={"facecolor": color, "lw": 0})


def plot_boxes(image, boxes: torch.Tensor, labels: Sequence[str], out: str | Path, title: str | None = None,
               colors: Sequence[str] = COLORS) -> Path:
    """Write a PNG of ``image`` (a PIL image) with ``boxes`` (K, 4) in *normalised* corners drawn over it."""
    from matplotlib.figure import Figure

    width, height = image.size
    scale = torch.tensor([width, height, width, height], dtype=torch.float32)
    fig = Figure(figsize=(6, 6 * height / width + 0.4), dpi=100)
    ax = fig.subplots()
    ax.imshow(image)
    draw_boxes(ax, boxes.float() * scale, labels, colors, frame=(width, height))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)  # keep the image's frame although boxes may stick out
    if title:
        ax.set_title(title, fontsize=9)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", bbox_inches="tight")
    return out


def anchors_command(argv: Sequence[str]) -> int:
    """``python -m zoo anchors``: draw the anchors centred on one pixel over an image (book 9.4.1)."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo anchors",
        description="Draw the anchor boxes of book 9.4.1 (n + m - 1 per pixel for n sizes and m ratios) centred on "
                    "one pixel of an image.",
        epilog="example: python -m zoo anchors --image catdog.jpg --sizes 0.75 0.5 0.25 --ratios 1 2 0.5 "
               "--center 250 250 --out anchors.png")
    parser.add_argument("--image", required=True, help="image file (JPEG, PNG, ...)")
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.75, 0.5, 0.25],
                        help="anchor sizes s in (0, 1], fractions of the image (default: 0.75 0.5 0.25)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1.0, 2.0, 0.5],
                        help="width/height ratios r > 0 (default: 1 2 0.5)")
    parser.add_argument("--center", type=int, nargs=2, metavar=("X", "Y"), default=None,
                        help="pixel the anchors are centred on, column then row (default: the image centre)")
    parser.add_argument("--convention", choices=["pixels", "text"], default="pixels",
                        help="pixels: r is the box's own width/height, as MXNet's MultiBoxPrior and the book's "
                             "figure (default); text: w*s*sqrt(r) by h*s/sqrt(r), the formula of the book's text")
    parser.add_argument("--out", default="runs/anchors.png", help="PNG path (default: runs/anchors.png)")
    args = parser.parse_args(argv)
    check_sizes_and_ratios(args.sizes, args.ratios)
    image = load_image(args.image)
    width, height = image.size
    col, row = args.center if args.center else (width // 2, height // 2)
    if not (0 <= col < width and 0 <= row < height):
        raise ConfigError(f"--center {col} {row} is outside the {width}x{height} image (X in 0..{width - 1}, "
                          f"Y in 0..{height - 1})")
    anchors = multibox_prior(height, width, args.sizes, args.ratios, args.convention)  # (1, h*w*A, 4)
    print(f"{args.image}: {width}x{height} pixels, {anchors.shape[1]} anchors in all "
          f"({len(args.sizes) + len(args.ratios) - 1} per pixel); at pixel (x={col}, y={row}):")
    boxes = anchors_at(anchors, height, width, row, col)  # (A, 4)
    labels = anchor_labels(args.sizes, args.ratios)
    for label, box in zip(labels, boxes.tolist()):
        print(f"  {label:<16} " + ", ".join(f"{v:.4f}" for v in box))
    out = plot_boxes(image, boxes, labels, args.out, f"anchors centred on pixel (x={col}, y={row})")
    print(f"wrote {out}")
    return 0


def detect_demo_command(argv: Sequence[str]) -> int:
    """``python -m zoo detect-demo``: book 9.4.3's anchor labels and 9.4.4's NMS example, drawn over an image."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo detect-demo",
        description="Book 9.4.4's example: four anchors with zero predicted offsets and the book's class "
                    "probabilities, non-maximum suppression, and the kept boxes drawn over an image.",
        epilog="example: python -m zoo detect-demo --image catdog.jpg --out detections.png")
    parser.add_argument("--image", required=True, help="image file (JPEG, PNG, ...); the book uses catdog.jpg")
    parser.add_argument("--nms-threshold", type=float, default=0.5, help="IoU above which NMS drops a box (0.5)")
    parser.add_argument("--out", default="runs/detections.png", help="PNG path (default: runs/detections.png)")
    args = parser.parse_args(argv)
    if not 0 <= args.nms_threshold <= 1:
        raise ConfigError(f"--nms-threshold is an IoU, between 0 and 1; got {args.nms_threshold}")
    image = load_image(args.image)

    _, _, classes = multibox_target(torch.tensor(LABEL_ANCHORS), torch.tensor(LABEL_GROUND_TRUTH).unsqueeze(0))
    names = ("background", *DEMO_CLASSES)
    print("9.4.3 anchor labels: " + ", ".join(f"A{i} {names[c]}" for i, c in enumerate(classes[0].tolist())))

    anchors = torch.tensor(DEMO_ANCHORS)  # (4, 4)
    probs = torch.tensor(DEMO_PROBS).unsqueeze(0)  # (1, 3, 4)
    rows = multibox_detection(probs, torch.zeros(1, 4 * len(anchors)), anchors, args.nms_threshold)[0]  # (4, 6)
    print(f"9.4.4 detections (NMS threshold {args.nms_threshold:g}), rows [class_id, confidence, xmin, ymin, xmax, "
          "ymax], -1 = suppressed:")
    for row in rows.tolist():
        print("  [" + ", ".join(f"{v:.2f}" for v in row) + "]")
    kept = rows[rows[:, 0] >= 0]
    labels = [f"{DEMO_CLASSES[int(c)]}={p:.1f}" for c, p in kept[:, :2].tolist()]
    out = plot_boxes(image, kept[:, 2:], labels, args.out, f"kept after NMS (threshold {args.nms_threshold:g})")
    print(f"wrote {out}: {', '.join(labels)}")
    return 0
