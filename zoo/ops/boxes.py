"""Bounding-box arithmetic of book 9.3 and 9.4: corner and centre forms, areas, intersection over union (the
Jaccard index of 9.4.2) and non-maximum suppression (9.4.4).

Boxes are rows of 4 numbers in the last dimension. The corner form is (xmin, ymin, xmax, ymax) with the origin at
the image's top-left corner, x to the right and y down (9.3.1), in pixels or normalised by the image's width and
height; the centre form is (cx, cy, w, h). tests/test_boxes_anchors.py compares these functions with
``torchvision.ops.box_convert``, ``box_iou`` and ``nms``.
"""

from __future__ import annotations

import torch

from zoo.errors import ConfigError

__all__ = ["box_area", "box_center_to_corner", "box_corner_to_center", "box_iou", "nms"]


def _check_boxes(boxes: torch.Tensor, name: str = "boxes") -> None:
    if boxes.shape[-1:] != (4,):
        raise ConfigError(f"{name} must have 4 numbers in the last dimension, got shape {tuple(boxes.shape)}")


def box_corner_to_center(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) corners (xmin, ymin, xmax, ymax) -> (..., 4) centre form (cx, cy, w, h)."""
    _check_boxes(boxes)
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def box_center_to_corner(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) centre form (cx, cy, w, h) -> (..., 4) corners (xmin, ymin, xmax, ymax)."""
    _check_boxes(boxes)
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) corners -> (...) areas; a box with xmax < xmin or ymax < ymin has area 0."""
    _check_boxes(boxes)
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every pair (book 9.4.2): (N, 4) and (M, 4) corners -> (N, M) in [0, 1].

    ``|A n B| / |A u B|``: 0 for boxes that do not overlap, 1 for equal boxes. Two empty boxes give 0, not 0/0.
    """
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=-1)  # (N, M)
    union = box_area(boxes1)[:, None] + box_area(boxes2)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(inter.dtype).tiny), torch.zeros_like(inter))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Non-maximum suppression (book 9.4.4): indices of the boxes kept, highest score first.

    Take the box with the highest score, drop every remaining box whose IoU with it is above ``iou_threshold``,
    and repeat with the best box still remaining, until none is left. Any two kept boxes then overlap by at most
    the threshold. (N, 4) corners and (N,) scores -> (K,) int64 indices.
    """
    _check_boxes(boxes)
    if scores.shape != boxes.shape[:1]:
        raise ConfigError(f"nms needs one score per box: boxes {tuple(boxes.shape)}, scores {tuple(scores.shape)}")
    order = torch.argsort(scores, descending=True, stable=True)  # (N,)
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(best)
        if order.numel() == 1:
            break
        iou = box_iou(boxes[best].unsqueeze(0), boxes[order[1:]])[0]  # (remaining,)
        order = order[1:][iou <= iou_threshold]
    return torch.stack(keep) if keep else torch.zeros(0, dtype=torch.long, device=boxes.device)
