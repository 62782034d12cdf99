"""Anchor boxes of book 9.4, written in PyTorch (the book's 9.4 calls MXNet's ``MultiBoxPrior``, ``MultiBoxTarget`` and
``MultiBoxDetection``): generating anchors, labelling them against ground truth, and turning predictions into
detections with non-maximum suppression.

All coordinates are normalised corners (xmin, ymin, xmax, ymax) in [0, 1] (x by the image width, y by its height).

* `multibox_prior` (9.4.1): ``n + m - 1`` anchors centred on every pixel for sizes s_1..s_n and ratios r_1..r_m:
  (s_1, r_1), (s_2, r_1), ..., (s_n, r_1), (s_1, r_2), ..., (s_1, r_m); (1, h * w * (n + m - 1), 4) in all.
  **Which ratio.** The book's text gives the anchor ``w s sqrt(r)`` pixels wide and ``h s / sqrt(r)`` high (w, h the
  image's size), but MXNet's ``MultiBoxPrior``, which draws the book's figure, makes it ``h s sqrt(r)`` by
  ``h s / sqrt(r)`` pixels: r is then the box's own width/height ratio, so r = 1 is a square whatever the image's
  shape. ``convention="pixels"`` (default) is MXNet's and the figure's; ``convention="text"`` follows the formula
  of the text. On a square image they agree.
* `assign_anchor_to_bbox` and `multibox_target` (9.4.3): greedy matching by the largest IoU, then a threshold;
  offsets ``((x_b - x_a) / w_a - mu) / sigma`` ... with mu = 0, sigma_x = sigma_y = 0.1, sigma_w = sigma_h = 0.2;
  class 0 is background and object class c becomes c + 1.
* `offset_inverse` and `multibox_detection` (9.4.4): predicted boxes from anchors and offsets, then NMS; rows
  ``[class_id, confidence, xmin, ymin, xmax, ymax]`` with class_id -1 for background or suppressed boxes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch

from zoo.errors import ConfigError
from zoo.ops.boxes import box_center_to_corner, box_corner_to_center, box_iou, nms

__all__ = [
    "OFFSET_STDS",
    "anchor_labels",
    "anchors_at",
    "assign_anchor_to_bbox",
    "check_sizes_and_ratios",
    "multibox_detection",
    "multibox_prior",
    "multibox_target",
    "offset_boxes",
    "offset_inverse",
]

#: the book's sigma_x, sigma_y, sigma_w, sigma_h (9.4.3); the means mu are 0
OFFSET_STDS = (0.1, 0.1, 0.2, 0.2)

Convention = Literal["pixels", "text"]


def check_sizes_and_ratios(sizes: Sequence[float], ratios: Sequence[float]) -> None:
    """Raise `ConfigError` unless every size is in (0, 1] and every ratio is positive (and neither is empty)."""
    if not sizes or not ratios:
        raise ConfigError(f"anchors need at least one size and one ratio, got sizes {list(sizes)} and ratios "
                          f"{list(ratios)}")
    bad = [s for s in sizes if not 0 < s <= 1]
    if bad:
        raise ConfigError(f"anchor sizes are fractions of the image, in (0, 1]; got {bad} among {list(sizes)}")
    bad = [r for r in ratios if not r > 0 or math.isinf(r)]
    if bad:
        raise ConfigError(f"anchor ratios (width / height) must be positive and finite; got {bad} among "
                          f"{list(ratios)}")


def _shapes(sizes: Sequence[float], ratios: Sequence[float]) -> list[tuple[float, float]]:
    """The (size, ratio) pairs of every anchor of one pixel, in the book's order."""
    return [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]


def anchor_labels(sizes: Sequence[float], ratios: Sequence[float]) -> list[str]:
    """Labels of the anchors of one pixel, in order: ``["s=0.75, r=1", "s=0.5, r=1", ..., "s=0.75, r=0.5"]``."""
    return [f"s={s:g}, r={r:g}" for s, r in _shapes(sizes, ratios)]


def multibox_prior(height: int, width: int, sizes: Sequence[float], ratios: Sequence[float],
                   convention: Convention = "pixels") -> torch.Tensor:
    """Anchors centred on every pixel of a ``height`` x ``width`` image (book 9.4.1): (1, h * w * (n + m - 1), 4).

    Pixel (i, j) has its centre at ((j + 0.5) / w, (i + 0.5) / h); its n + m - 1 anchors are consecutive, pixels in
    row-major order, so ``anchors.reshape(h, w, n + m - 1, 4)[i, j]`` are those of pixel (i, j) (`anchors_at`).
    Boxes are not clipped to the image.
    """
    check_sizes_and_ratios(sizes, ratios)
    if height < 1 or width < 1:
        raise ConfigError(f"the image must be at least 1x1 pixels, got {height}x{width}")
    if convention not in ("pixels", "text"):
        raise ConfigError(f"unknown anchor convention {convention!r}; choose 'pixels' (MXNet's MultiBoxPrior, the "
                          "book's figure) or 'text' (the formula of the book's text)")
    shapes = torch.tensor(_shapes(sizes, ratios), dtype=torch.float32)  # (A, 2): size, ratio
    s, root = shapes[:, 0], shapes[:, 1].sqrt()
    aspect = height / width if convention == "pixels" else 1.0  # normalised width of a box h*s pixels wide
    half = torch.stack([s * root * aspect, s / root], dim=1) / 2  # (A, 2): half width, half height
    cy = (torch.arange(height, dtype=torch.float32) + 0.5) / height
    cx = (torch.arange(width, dtype=torch.float32) + 0.5) / width
    grid_y, grid_x = torch.meshgrid(cy, cx, indexing="ij")  # (h, w) each
    centres = torch.stack([grid_x, grid_y], dim=-1).reshape(-1, 1, 2)  # (h*w, 1, 2)
    boxes = torch.cat([centres - half, centres + half], dim=-1)  # (h*w, A, 4)
    return boxes.reshape(1, -1, 4)


def anchors_at(anchors: torch.Tensor, height: int, width: int, row: int, col: int) -> torch.Tensor:
    """The anchors of pixel (row, col) from `multibox_prior`'s (1, h * w * A, 4) output: (A, 4)."""
    if not (0 <= row < height and 0 <= col < width):
        raise ConfigError(f"pixel ({row}, {col}) is outside a {height}x{width} image")
    return anchors.reshape(height, width, -1, 4)[row, col]


def assign_anchor_to_bbox(ground_truth: torch.Tensor, anchors: torch.Tensor,
                          iou_threshold: float = 0.5) -> torch.Tensor:
    """Which ground-truth box each anchor is labelled with (book 9.4.3): (N,) indices into ``ground_truth``, -1 for
    background.

    First, greedily: take the largest entry x_ij of the anchor-by-box IoU matrix, give anchor i box j, discard row i
    and column j, and repeat until every box has an anchor (a box that overlaps no anchor at all stays unmatched,
    as in MXNet's ``MultiBoxTarget``). Then every other anchor gets the box it overlaps most, if that IoU is above
    ``iou_threshold`` (strictly, as the book says).

    Args:
        ground_truth: (M, 4) corners.
        anchors: (N, 4) corners.
    """
    iou = box_iou(anchors, ground_truth)  # (N, M)
    assigned = torch.full((anchors.shape[0],), -1, dtype=torch.long, device=anchors.device)
    if iou.numel() == 0:
        return assigned
    best_iou, best_box = iou.max(dim=1)  # (N,) each
    above = best_iou > iou_threshold
    assigned[above] = best_box[above]
    remaining = iou.clone()
    for _ in range(min(iou.shape)):
        flat = int(torch.argmax(remaining))
        i, j = divmod(flat, iou.shape[1])
        if remaining[i, j] <= 0:
            break
        assigned[i] = j
        remaining[i, :] = -1
        remaining[:, j] = -1
    return assigned


def offset_boxes(anchors: torch.Tensor, boxes: torch.Tensor, stds: Sequence[float] = OFFSET_STDS,
                 eps: float = 1e-6) -> torch.Tensor:
    """Offsets of ``boxes`` relative to ``anchors`` (book 9.4.3), both (N, 4) corners -> (N, 4):
    ``((x_b - x_a) / w_a / sigma_x, (y_b - y_a) / h_a / sigma_y, log(w_b / w_a) / sigma_w, log(h_b / h_a) / sigma_h)``
    (the means mu are 0); ``eps`` keeps the log finite for a box of zero width or height."""
    a, b = box_corner_to_center(anchors), box_corner_to_center(boxes)
    std = torch.tensor(stds, dtype=a.dtype, device=a.device)
    xy = (b[:, :2] - a[:, :2]) / a[:, 2:] / std[:2]
    wh = torch.log((b[:, 2:] / a[:, 2:]).clamp(min=eps)) / std[2:]
    return torch.cat([xy, wh], dim=1)


def offset_inverse(anchors: torch.Tensor, offsets: torch.Tensor, stds: Sequence[float] = OFFSET_STDS) -> torch.Tensor:
    """The boxes that ``offsets`` (N, 4) describe relative to ``anchors`` (N, 4): the inverse of `offset_boxes`."""
    a = box_corner_to_center(anchors)
    std = torch.tensor(stds, dtype=a.dtype, device=a.device)
    xy = a[:, :2] + offsets[:, :2] * std[:2] * a[:, 2:]
    wh = a[:, 2:] * torch.exp(offsets[:, 2:] * std[2:])
    return box_center_to_corner(torch.cat([xy, wh], dim=1))


def _anchor_rows(anchors: torch.Tensor) -> torch.Tensor:
    if anchors.dim() == 3 and anchors.shape[0] == 1:
        anchors = anchors[0]
    if anchors.dim() != 2 or anchors.shape[1] != 4:
        raise ConfigError(f"anchors must be (N, 4) or (1, N, 4), got shape {tuple(anchors.shape)}")
    return anchors


def multibox_target(anchors: torch.Tensor, labels: torch.Tensor, iou_threshold: float = 0.5,
                    stds: Sequence[float] = OFFSET_STDS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Label anchors with classes and offsets for training (book 9.4.3, MXNet's ``MultiBoxTarget``).

    Args:
        anchors: (1, N, 4) or (N, 4) corners.
        labels: (B, M, 5) ground truth per image, rows ``[class, xmin, ymin, xmax, ymax]`` with classes from 0;
            rows with a negative class are padding (images with fewer boxes) and are ignored.
        iou_threshold: an anchor not matched greedily needs an IoU above this with some box (book: 0.5).

    Returns:
        offsets (B, 4N): four per anchor, 0 for background anchors;
        mask (B, 4N): 1 for the offsets of anchors labelled with an object, else 0;
        class_labels (B, N) int64: 0 for background, class + 1 for an object.
    """
    anchors = _anchor_rows(anchors)
    if labels.dim() != 3 or labels.shape[-1] != 5:
        raise ConfigError(f"labels must be (batch, boxes, 5) rows [class, xmin, ymin, xmax, ymax], got shape "
                          f"{tuple(labels.shape)}")
    n = anchors.shape[0]
    offsets, masks, classes = [], [], []
    for rows in labels:
        rows = rows[rows[:, 0] >= 0]  # (M', 5) without padding
        match = assign_anchor_to_bbox(rows[:, 1:], anchors, iou_threshold)  # (N,)
        positive = match >= 0
        cls = torch.zeros(n, dtype=torch.long, device=anchors.device)
        cls[positive] = rows[match[positive], 0].long() + 1
        offset = torch.zeros(n, 4, dtype=anchors.dtype, device=anchors.device)
        if positive.any():
            offset[positive] = offset_boxes(anchors[positive], rows[match[positive], 1:].to(anchors.dtype), stds)
        mask = positive.to(anchors.dtype).unsqueeze(1).expand(n, 4)  # (N, 4)
        offsets.append(offset.reshape(-1))
        masks.append(mask.reshape(-1))
        classes.append(cls)
    return torch.stack(offsets), torch.stack(masks), torch.stack(classes)


def multibox_detection(cls_probs: torch.Tensor, offset_preds: torch.Tensor, anchors: torch.Tensor,
                       nms_threshold: float = 0.5, pos_threshold: float = 0.01, class_aware: bool = False,
                       clip: bool = True, stds: Sequence[float] = OFFSET_STDS) -> torch.Tensor:
    """Predicted boxes after non-maximum suppression (book 9.4.4, MXNet's ``MultiBoxDetection``).

    Each anchor's box is ``offset_inverse(anchor, offsets)``; its class is the most probable *object* class and its
    confidence that probability. Boxes are sorted by confidence and suppressed by `zoo.ops.boxes.nms`: any box whose
    IoU with a more confident kept box is above ``nms_threshold`` (class-agnostic as the book's text describes;
    ``class_aware=True`` suppresses only within a class, as MXNet's default ``force_suppress=False``).

    Args:
        cls_probs: (B, 1 + C, N) probabilities, row 0 the background.
        offset_preds: (B, 4N) predicted offsets.
        anchors: (1, N, 4) or (N, 4) corners.
        pos_threshold: a box whose confidence is below this counts as background (MXNet's ``threshold``).
        clip: clamp the boxes to [0, 1] (MXNet's default).

    Returns:
        (B, N, 6) rows ``[class_id, confidence, xmin, ymin, xmax, ymax]``, most confident first, class_id from 0 for
        the objects and -1 for background or suppressed boxes.
    """
    anchors = _anchor_rows(anchors)
    n = anchors.shape[0]
    if cls_probs.dim() != 3 or cls_probs.shape[2] != n or cls_probs.shape[1] < 2:
        raise ConfigError(f"cls_probs must be (batch, 1 + classes, {n}) for {n} anchors, got shape "
                          f"{tuple(cls_probs.shape)}")
    if offset_preds.shape != (cls_probs.shape[0], 4 * n):
        raise ConfigError(f"offset_preds must be (batch, {4 * n}) for {n} anchors, got shape "
                          f"{tuple(offset_preds.shape)}")
    out = []
    for probs, offsets in zip(cls_probs, offset_preds):
        boxes = offset_inverse(anchors, offsets.reshape(n, 4).to(anchors.dtype), stds)  # (N, 4)
        if clip:
            boxes = boxes.clamp(0, 1)
        conf, cls = probs[1:].max(dim=0)  # (N,) each, over the object classes
        cls = cls.clone()
        cls[conf < pos_threshold] = -1
        candidates = torch.nonzero(cls >= 0).flatten()
        kept = torch.zeros(n, dtype=torch.bool, device=anchors.device)
        if candidates.numel():
            spread = boxes[candidates]
            if class_aware:  # boxes of different classes never overlap after a shift of 2 per class
                spread = spread + 2 * cls[candidates, None].to(boxes.dtype)
            kept[candidates[nms(spread, conf[candidates], nms_threshold)]] = True
        cls[~kept] = -1
        rows = torch.cat([cls.unsqueeze(1).to(boxes.dtype), conf.unsqueeze(1).to(boxes.dtype), boxes], dim=1)
        out.append(rows[torch.argsort(conf, descending=True, stable=True)])  # (N, 6)
    return torch.stack(out)
