"""The object-detection commands of ``python -m zoo`` (book 9.3, 9.4): anchor boxes drawn over an image, and the
book's non-maximum-suppression example.

    python -m zoo anchors [--image photo.jpg] --sizes 0.75 0.5 0.25 --ratios 1 2 0.5 --out anchors.png
    python -m zoo detect-demo [--out detections.png]
    python -m zoo detect-demo --image photo.jpg --box dog 0.9 60 45 378 516 --box dog 0.8 ... --out mine.png

Without ``--image`` both draw on the shipped scene (`catdog_scene`): a picture of a dog and a cat drawn in code at
the size of the book's catdog.jpg (which the zoo does not ship), the animals filling the book's ground-truth boxes,
so the commands run offline and the book's boxes sit on the animals they name.

``anchors`` draws the n + m - 1 anchors of `zoo.ops.anchors.multibox_prior` centred on one pixel (default the image
centre; on the shipped scene the book's pixel (250, 250)), labelled ``s=0.75, r=1`` and so on, as the book's figure
in 9.4.1. ``detect-demo`` runs 9.4.4's example on the scene: four anchors, predicted offsets all zero, class
probabilities dog [0.9, 0.8, 0.7, 0.1] and cat [0.1, 0.2, 0.3, 0.9]; it prints `multibox_detection`'s rows and draws
the boxes NMS keeps (``dog=0.9`` around the dog, ``cat=0.9`` around the cat). It also prints 9.4.3's anchor labels
(A0 background, A1 dog, A2 cat, A3 background, A4 cat). Those boxes belong to the scene: on another image
``detect-demo`` draws only the boxes given with ``--box`` (class, score, pixel corners), after the same NMS. Boxes
are drawn with matplotlib's object API (no pyplot).
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

__all__ = ["DEMO_ANCHORS", "DEMO_CLASSES", "DEMO_PROBS", "SCENE_BOXES", "SCENE_SIZE", "anchors_command",
           "catdog_scene", "detect_demo_command", "draw_boxes", "load_image", "plot_boxes"]

COLORS = ("b", "g", "r", "m", "c")

#: book 9.4.4's example, normalised corners, and its class probabilities (background, dog, cat)
DEMO_ANCHORS = ((0.1, 0.08, 0.52, 0.92), (0.08, 0.2, 0.56, 0.95), (0.15, 0.3, 0.62, 0.91), (0.55, 0.2, 0.9, 0.88))
DEMO_PROBS = ((0.0, 0.0, 0.0, 0.0), (0.9, 0.8, 0.7, 0.1), (0.1, 0.2, 0.3, 0.9))
DEMO_CLASSES = ("dog", "cat")
#: book 9.4.3's labelling example: ground truth [class, corners] and five anchors
LABEL_GROUND_TRUTH = ((0, 0.1, 0.08, 0.52, 0.92), (1, 0.55, 0.2, 0.9, 0.88))
LABEL_ANCHORS = ((0, 0.1, 0.2, 0.3), (0.15, 0.2, 0.4, 0.4), (0.63, 0.05, 0.88, 0.98), (0.66, 0.45, 0.8, 0.8),
                 (0.57, 0.3, 0.92, 0.9))

#: The picture the commands draw on when no ``--image`` is given: the shipped cat-and-dog scene (`catdog_scene`),
#: drawn in code at the size of the book's catdog.jpg, its dog and cat filling the book's ground-truth boxes
#: (normalised corners; 9.3's dog [60, 45, 378, 516] and cat [400, 112, 655, 493] pixels), so the book's boxes belong
#: to it.
SCENE_SIZE = (728, 561)
SCENE_BOXES = {"dog": LABEL_GROUND_TRUTH[0][1:], "cat": LABEL_GROUND_TRUTH[1][1:]}
SCENE_NAME = "the shipped cat-and-dog scene"
SCENE_CENTER = (250, 250)  # the pixel of the book's anchors figure (9.4.1)
_SUPERSAMPLE = 4  # drawn 4x larger, then averaged down: smooth edges, no ringing beyond them
_WALL, _FLOOR, _SKIRTING = (232, 226, 208), (196, 168, 128), (170, 140, 100)


def catdog_scene(animals: bool = True):
    """The shipped scene as a 728x561 RGB ``PIL.Image``: a room with a sitting dog and a sitting cat, each filling
    its box of `SCENE_BOXES` (to a pixel); ``animals=False`` draws the empty room."""
    from PIL import Image, ImageDraw

    w, h = (n * _SUPERSAMPLE for n in SCENE_SIZE)
    image = Image.new("RGB", (w, h), _WALL)
    draw = ImageDraw.Draw(image)
    floor = round(0.8 * h)
    draw.rectangle([0, floor, w, h], fill=_FLOOR)
    draw.rectangle([0, floor - round(0.012 * h), w, floor], fill=_SKIRTING)
    if animals:
        _draw_dog(draw, SCENE_BOXES["dog"], w, h)
        _draw_cat(draw, SCENE_BOXES["cat"], w, h)
    return image.resize(SCENE_SIZE, Image.BOX)


def _frame(box: Sequence[float], w: int, h: int):
    """Functions of coordinates (u, v) in [0, 1] inside ``box`` (normalised corners): a point, and a rectangle's
    corners for PIL (whose rectangles include their last pixel)."""
    x1, y1, bw, bh = box[0] * w, box[1] * h, (box[2] - box[0]) * w, (box[3] - box[1]) * h

    def at(u: float, v: float) -> tuple[float, float]:
        return (x1 + u * bw, y1 + v * bh)

    def rect(u1: float, v1: float, u2: float, v2: float) -> list[float]:
        return [x1 + u1 * bw, y1 + v1 * bh, x1 + u2 * bw - 1, y1 + v2 * bh - 1]

    return at, rect, bw


def _draw_dog(draw, box: Sequence[float], w: int, h: int) -> None:
    """A sitting dog: the head touches the box's top, the haunches its sides, the legs its bottom."""
    at, r, _ = _frame(box, w, h)
    fur, dark, light, black, k = (176, 118, 62), (112, 70, 34), (226, 196, 150), (30, 24, 20), _SUPERSAMPLE
    draw.ellipse(r(0.0, 0.80, 0.30, 1.0), fill=fur)  # haunches
    draw.ellipse(r(0.70, 0.80, 1.0, 1.0), fill=fur)
    draw.ellipse(r(0.10, 0.32, 0.90, 0.97), fill=fur)  # body
    draw.ellipse(r(0.30, 0.42, 0.70, 0.85), fill=light)  # chest
    draw.rounded_rectangle(r(0.30, 0.62, 0.44, 1.0), radius=8 * k, fill=fur)  # front legs
    draw.rounded_rectangle(r(0.56, 0.62, 0.70, 1.0), radius=8 * k, fill=fur)
    draw.ellipse(r(0.28, 0.94, 0.46, 1.0), fill=light)  # paws
    draw.ellipse(r(0.54, 0.94, 0.72, 1.0), fill=light)
    draw.ellipse(r(0.22, 0.0, 0.78, 0.38), fill=fur)  # head
    draw.ellipse(r(0.10, 0.04, 0.32, 0.34), fill=dark)  # ears
    draw.ellipse(r(0.68, 0.04, 0.90, 0.34), fill=dark)
    draw.ellipse(r(0.35, 0.19, 0.65, 0.36), fill=light)  # muzzle, nose, eyes, mouth
    draw.ellipse(r(0.45, 0.20, 0.55, 0.26), fill=black)
    draw.ellipse(r(0.35, 0.11, 0.43, 0.17), fill=black)
    draw.ellipse(r(0.57, 0.11, 0.65, 0.17), fill=black)
    draw.line([at(0.50, 0.26), at(0.50, 0.30)], fill=black, width=2 * k)
    draw.arc(r(0.42, 0.24, 0.58, 0.33), 20, 160, fill=black, width=2 * k)
    draw.rounded_rectangle(r(0.34, 0.355, 0.66, 0.395), radius=3 * k, fill=(200, 40, 40))  # collar and tag
    draw.ellipse(r(0.47, 0.38, 0.53, 0.42), fill=(240, 200, 60))


def _draw_cat(draw, box: Sequence[float], w: int, h: int) -> None:
    """A sitting cat: the ear tips touch the box's top, the body its left side and bottom, the tail its right."""
    at, r, bw = _frame(box, w, h)
    fur, stripe, pink, eye, black, k = (128, 128, 140), (92, 92, 104), (236, 160, 170), (120, 190, 70), (25, 25, 30), \
        _SUPERSAMPLE
    draw.arc(r(0.50, 0.50, 1.0, 0.99), 265, 80, fill=fur, width=round(0.09 * bw))  # tail, curled up the right side
    draw.ellipse(r(0.0, 0.36, 0.84, 1.0), fill=fur)  # body
    for v in (0.55, 0.68, 0.81):
        draw.arc(r(0.08, v, 0.76, v + 0.3), 200, 340, fill=stripe, width=4 * k)
    draw.ellipse(r(0.22, 0.92, 0.42, 1.0), fill=stripe)  # front paws
    draw.ellipse(r(0.44, 0.92, 0.64, 1.0), fill=stripe)
    draw.polygon([at(0.16, 0.0), at(0.14, 0.24), at(0.42, 0.12)], fill=fur)  # ears
    draw.polygon([at(0.84, 0.0), at(0.86, 0.24), at(0.58, 0.12)], fill=fur)
    draw.polygon([at(0.19, 0.07), at(0.18, 0.20), at(0.34, 0.13)], fill=pink)
    draw.polygon([at(0.81, 0.07), at(0.82, 0.20), at(0.66, 0.13)], fill=pink)
    draw.ellipse(r(0.12, 0.06, 0.88, 0.46), fill=fur)  # head
    draw.ellipse(r(0.28, 0.18, 0.42, 0.27), fill=eye)  # eyes, pupils, nose, whiskers
    draw.ellipse(r(0.58, 0.18, 0.72, 0.27), fill=eye)
    draw.ellipse(r(0.335, 0.19, 0.365, 0.26), fill=black)
    draw.ellipse(r(0.635, 0.19, 0.665, 0.26), fill=black)
    draw.polygon([at(0.46, 0.30), at(0.54, 0.30), at(0.50, 0.335)], fill=pink)
    for dv in (-0.02, 0.01, 0.04):
        draw.line([at(0.40, 0.33), at(0.12, 0.33 + dv)], fill=black, width=k)
        draw.line([at(0.60, 0.33), at(0.88, 0.33 + dv)], fill=black, width=k)



def load_image(path: str | Path):
    """The image file as an RGB ``PIL.Image`` (`datamodules.images.open_image`: 16-bit and float images scaled, not
    clipped); a missing, unreadable or too large file raises `DataError`."""
    from datamodules.images import open_image

    if not Path(path).is_file():
        raise DataError(f"no such image file: {path}")
    return open_image(path, "RGB")


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
    """Write a figure of ``image`` (a PIL image) with ``boxes`` (K, 4) in *normalised* corners drawn over it, in the
    format of ``out``'s suffix (`zoo.runtime.plots.save_figure`: PNG, JPEG, PDF or SVG)."""
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
    from zoo.runtime.plots import save_figure

    return save_figure(fig, out, flag="--out", bbox_inches="tight")


def _check_out(out: str, image: str | None) -> None:
    """Refuse, before any work, an ``--out`` that cannot be written or that is the input image (None: the shipped
    scene, drawn in memory)."""
    from zoo.files import check_output_file
    from zoo.runtime.plots import FIGURE_FORMATS

    check_output_file(out, tuple(FIGURE_FORMATS), flag="--out", inputs=[image] if image else [])


def _image_or_scene(path: str | None):
    """(the image of ``--image``, its name) or, without one, (the shipped scene, `SCENE_NAME`)."""
    return (load_image(path), path) if path else (catdog_scene(), SCENE_NAME)


def anchors_command(argv: Sequence[str]) -> int:
    """``python -m zoo anchors``: draw the anchors centred on one pixel over an image (book 9.4.1)."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo anchors",
        description="Draw the anchor boxes of book 9.4.1 (n + m - 1 per pixel for n sizes and m ratios) centred on "
                    "one pixel of an image.",
        epilog="example: python -m zoo anchors --sizes 0.75 0.5 0.25 --ratios 1 2 0.5 --center 250 250 "
               "--out anchors.png (the book's figure, on the shipped scene)")
    parser.add_argument("--image", default=None, help="image file (JPEG, PNG, ...); default: the shipped scene of "
                        "a dog and a cat, the size of the book's catdog.jpg")
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.75, 0.5, 0.25],
                        help="anchor sizes s in (0, 1], fractions of the image (default: 0.75 0.5 0.25)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[1.0, 2.0, 0.5],
                        help="width/height ratios r > 0 (default: 1 2 0.5)")
    parser.add_argument("--center", type=int, nargs=2, metavar=("X", "Y"), default=None,
                        help="pixel the anchors are centred on, column then row (default: the image centre; on "
                             "the shipped scene the book's pixel, 250 250)")
    parser.add_argument("--convention", choices=["pixels", "text"], default="pixels",
                        help="pixels: r is the box's own width/height, as MXNet's MultiBoxPrior and the book's "
                             "figure (default); text: w*s*sqrt(r) by h*s/sqrt(r), the formula of the book's text")
    parser.add_argument("--out", default="runs/anchors.png",
                        help="figure file: .png, .jpg, .pdf or .svg (default: runs/anchors.png)")
    args = parser.parse_args(argv)
    check_sizes_and_ratios(args.sizes, args.ratios)
    _check_out(args.out, args.image)
    image, name = _image_or_scene(args.image)
    width, height = image.size
    col, row = args.center if args.center else (width // 2, height // 2) if args.image else SCENE_CENTER
    if not (0 <= col < width and 0 <= row < height):
        raise ConfigError(f"--center {col} {row} is outside the {width}x{height} image (X in 0..{width - 1}, "
                          f"Y in 0..{height - 1})")
    anchors = multibox_prior(height, width, args.sizes, args.ratios, args.convention)  # (1, h*w*A, 4)
    print(f"{name}: {width}x{height} pixels, {anchors.shape[1]} anchors in all "
          f"({len(args.sizes) + len(args.ratios) - 1} per pixel); at pixel (x={col}, y={row}):")
    boxes = anchors_at(anchors, height, width, row, col)  # (A, 4)
    labels = anchor_labels(args.sizes, args.ratios)
    for label, box in zip(labels, boxes.tolist()):
        print(f"  {label:<16} " + ", ".join(f"{v:.4f}" for v in box))
    out = plot_boxes(image, boxes, labels, args.out, f"anchors centred on pixel (x={col}, y={row})")
    print(f"wrote {out}")
    return 0


def detect_demo_command(argv: Sequence[str]) -> int:
    """``python -m zoo detect-demo``: book 9.4.3's anchor labels and 9.4.4's NMS example on the shipped scene, or NMS
    on the boxes given with ``--box``, drawn over the image."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo detect-demo",
        description="Book 9.4.4's example: four anchors with zero predicted offsets and the book's class "
                    "probabilities, non-maximum suppression, and the kept boxes drawn over the shipped scene of a "
                    "dog and a cat, whose animals they frame. On your own image (--image), give the boxes to "
                    "suppress with --box; the book's boxes belong to the shipped scene only.",
        epilog="examples: python -m zoo detect-demo --out detections.png;  python -m zoo detect-demo --image "
               "photo.jpg --box dog 0.9 60 45 378 516 --box dog 0.8 58 112 408 533 --out mine.png")
    parser.add_argument("--image", default=None, help="image file (JPEG, PNG, ...) for the boxes of --box; default: "
                        "the shipped scene, the size of the book's catdog.jpg")
    parser.add_argument("--box", nargs=6, action="append", metavar=("CLASS", "SCORE", "X1", "Y1", "X2", "Y2"),
                        help="a detected box: class name, confidence in [0, 1] and pixel corners; repeat per box. "
                             "Non-maximum suppression keeps the best of overlapping boxes, as 9.4.4 does")
    parser.add_argument("--nms-threshold", type=float, default=0.5, help="IoU above which NMS drops a box (0.5)")
    parser.add_argument("--out", default="runs/detections.png",
                        help="figure file: .png, .jpg, .pdf or .svg (default: runs/detections.png)")
    args = parser.parse_args(argv)
    if not 0 <= args.nms_threshold <= 1:
        raise ConfigError(f"--nms-threshold is an IoU, between 0 and 1; got {args.nms_threshold}")
    if args.image and not args.box:
        raise ConfigError(f"the book's example boxes (a dog and a cat) belong to the shipped scene, not to "
                          f"{args.image}: run detect-demo without --image to see them, or give the boxes to draw on "
                          "your image with --box CLASS SCORE X1 Y1 X2 Y2 (pixels), once per box")
    _check_out(args.out, args.image)
    image, name = _image_or_scene(args.image)
    width, height = image.size

    if args.box:
        anchors, probs, classes = _given_boxes(args.box, width, height)
        what = f"NMS on the {len(anchors)} boxes given"
    else:
        _, _, labels = multibox_target(torch.tensor(LABEL_ANCHORS), torch.tensor(LABEL_GROUND_TRUTH).unsqueeze(0))
        names = ("background", *DEMO_CLASSES)
        print("9.4.3 anchor labels: " + ", ".join(f"A{i} {names[c]}" for i, c in enumerate(labels[0].tolist())))
        anchors, probs, classes = torch.tensor(DEMO_ANCHORS), torch.tensor(DEMO_PROBS).unsqueeze(0), DEMO_CLASSES
        what = "9.4.4 detections"
    rows = multibox_detection(probs, torch.zeros(1, 4 * len(anchors)), anchors, args.nms_threshold)[0]  # (K, 6)
    print(f"{what} on {name} (NMS threshold {args.nms_threshold:g}), rows [class_id, confidence, xmin, ymin, xmax, "
          "ymax] in fractions of the image, -1 = suppressed:")
    for row in rows.tolist():
        print("  [" + ", ".join(f"{v:.2f}" for v in row) + "]")
    kept = rows[rows[:, 0] >= 0]
    labels = [f"{classes[int(c)]}={p:.2g}" for c, p in kept[:, :2].tolist()]
    title = (f"book 9.4.4: kept after NMS (threshold {args.nms_threshold:g})" if not args.box
             else f"your boxes kept after NMS (threshold {args.nms_threshold:g})")
    out = plot_boxes(image, kept[:, 2:], labels, args.out, title)
    print(f"wrote {out}: {', '.join(labels)}")
    return 0


def _given_boxes(boxes: list[list[str]], width: int, height: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """``--box CLASS SCORE X1 Y1 X2 Y2`` values as `multibox_detection` inputs: anchors (K, 4) in normalised corners,
    class probabilities (1, 1 + classes, K) with each box's score under its class, and the class names in the
    order they first appear."""
    classes: list[str] = []
    corners, scores, ids = [], [], []
    for cls, *numbers in boxes:
        given = f"--box {cls} {' '.join(numbers)}"
        try:
            score, x1, y1, x2, y2 = (float(n) for n in numbers)
        except ValueError:
            raise ConfigError(f"{given}: SCORE X1 Y1 X2 Y2 must be numbers") from None
        if not 0 <= score <= 1:
            raise ConfigError(f"{given}: the score is a confidence, between 0 and 1; got {score:g}")
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise ConfigError(f"{given}: the corners must satisfy 0 <= X1 < X2 <= {width} and 0 <= Y1 < Y2 <= "
                              f"{height}, inside the {width}x{height} image")
        if cls not in classes:
            classes.append(cls)
        corners.append((x1 / width, y1 / height, x2 / width, y2 / height))
        scores.append(score)
        ids.append(classes.index(cls))
    probs = torch.zeros(1, 1 + len(classes), len(boxes))
    for k, (c, p) in enumerate(zip(ids, scores)):
        probs[0, 1 + c, k] = p
        probs[0, 0, k] = 1 - p
    return torch.tensor(corners), probs, classes
