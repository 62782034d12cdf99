"""Book 9.3-9.4 (zoo.ops.boxes, zoo.ops.anchors, zoo.studies.anchor_boxes): box arithmetic against torchvision,
anchors, their labels, NMS, the shipped cat-and-dog scene whose animals fill the book's boxes, and the two commands on
it and on an image written here."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import ops as tv

import zoo.studies.anchor_boxes as study
from tests.conftest import REPO
from zoo.errors import ConfigError, DataError
from zoo.ops.anchors import (
    anchor_labels,
    anchors_at,
    assign_anchor_to_bbox,
    multibox_detection,
    multibox_prior,
    multibox_target,
    offset_boxes,
    offset_inverse,
)
from zoo.ops.boxes import box_area, box_center_to_corner, box_corner_to_center, box_iou, nms
from zoo.studies.anchor_boxes import anchors_command, detect_demo_command


def random_boxes(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, 2, generator=g, dtype=torch.float64)
    size = 0.02 + 0.5 * torch.rand(n, 2, generator=g, dtype=torch.float64)
    return torch.cat([corner, corner + size], dim=1)  # (n, 4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_box_arithmetic_matches_torchvision(seed):
    a, b = random_boxes(30, seed), random_boxes(17, seed + 100)
    torch.testing.assert_close(box_corner_to_center(a), tv.box_convert(a, "xyxy", "cxcywh"))
    torch.testing.assert_close(box_center_to_corner(box_corner_to_center(a)), a)
    torch.testing.assert_close(box_center_to_corner(a), tv.box_convert(a, "cxcywh", "xyxy"))
    torch.testing.assert_close(box_area(a), tv.box_area(a))
    torch.testing.assert_close(box_iou(a, b), tv.box_iou(a, b))
    assert torch.all(box_iou(a, a).diagonal() == 1)


@pytest.mark.parametrize("seed, threshold", [(0, 0.5), (1, 0.3), (2, 0.7), (3, 0.0)])
def test_nms_matches_torchvision(seed, threshold):
    boxes = random_boxes(60, seed)
    scores = torch.rand(60, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert torch.equal(nms(boxes, scores, threshold), tv.nms(boxes, scores, threshold))
    assert nms(boxes[:0], scores[:0], 0.5).numel() == 0


def test_multibox_prior_shapes_and_values():
    h, w = 561, 728  # catdog.jpg of book 9.3
    anchors = multibox_prior(h, w, [0.75, 0.5, 0.25], [1, 2, 0.5])
    assert anchors.shape == (1, h * w * 5, 4)  # n + m - 1 = 3 + 3 - 1 anchors per pixel
    assert multibox_prior(4, 6, [0.5], [1, 2, 0.5, 3]).shape == (1, 4 * 6 * 4, 4)
    assert multibox_prior(4, 6, [0.5, 0.3], [1]).shape == (1, 4 * 6 * 2, 4)
    first = anchors_at(anchors, h, w, 250, 250)  # (5, 4): the book's pixel (250, 250)
    cx, cy = 250.5 / w, 250.5 / h
    half_w, half_h = 0.75 * h / w / 2, 0.75 / 2  # s = 0.75, r = 1: a square 0.75 h pixels wide
    torch.testing.assert_close(first[0], torch.tensor([cx - half_w, cy - half_h, cx + half_w, cy + half_h]))
    pixels = box_corner_to_center(first) * torch.tensor([w, h, w, h])  # centre form in pixels
    torch.testing.assert_close(pixels[:, 2] / pixels[:, 3], torch.tensor([1, 1, 1, 2, 0.5]))  # r = width / height
    torch.testing.assert_close(pixels[:, 3], torch.tensor([0.75, 0.5, 0.25, 0.75 / math.sqrt(2),
                                                           0.75 * math.sqrt(2)]) * h)
    text = anchors_at(multibox_prior(h, w, [0.75], [1], convention="text"), h, w, 250, 250)[0]
    torch.testing.assert_close(box_corner_to_center(text)[2:], torch.tensor([0.75, 0.75]))  # w*s by h*s pixels
    assert anchor_labels([0.75, 0.5, 0.25], [1, 2, 0.5]) == ["s=0.75, r=1", "s=0.5, r=1", "s=0.25, r=1",
                                                             "s=0.75, r=2", "s=0.75, r=0.5"]


GROUND_TRUTH = torch.tensor([[0, 0.1, 0.08, 0.52, 0.92], [1, 0.55, 0.2, 0.9, 0.88]])  # book 9.4.3: dog, cat
ANCHORS = torch.tensor([[0, 0.1, 0.2, 0.3], [0.15, 0.2, 0.4, 0.4], [0.63, 0.05, 0.88, 0.98],
                        [0.66, 0.45, 0.8, 0.8], [0.57, 0.3, 0.92, 0.9]])


def test_anchor_labels_of_the_books_example():
    offsets, mask, classes = multibox_target(ANCHORS.unsqueeze(0), GROUND_TRUTH.unsqueeze(0))
    assert classes.tolist() == [[0, 1, 2, 0, 2]]  # A0 background, A1 dog, A2 cat, A3 background, A4 cat
    assert mask.tolist() == [[0.0] * 4 + [1.0] * 8 + [0.0] * 4 + [1.0] * 4]
    assert offsets.shape == (1, 20) and offsets[0, :4].abs().sum() == 0
    # the offset of A1 (dog) by the book's formula, mu = 0, sigma = 0.1, 0.1, 0.2, 0.2
    a, b = box_corner_to_center(ANCHORS[1]), box_corner_to_center(GROUND_TRUTH[0, 1:])
    expected = torch.stack([(b[0] - a[0]) / a[2] / 0.1, (b[1] - a[1]) / a[3] / 0.1, torch.log(b[2] / a[2]) / 0.2,
                            torch.log(b[3] / a[3]) / 0.2])
    torch.testing.assert_close(offsets[0, 4:8], expected)
    torch.testing.assert_close(offset_inverse(ANCHORS[[1, 2, 4]], offsets[0].view(5, 4)[[1, 2, 4]]),
                               GROUND_TRUTH[[0, 1, 1], 1:])


def test_greedy_assignment_then_threshold_and_padding():
    gt = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]])
    anchors = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.05, 0.05, 0.5, 0.5], [0.0, 0.0, 0.3, 0.3], [0.9, 0.0, 1.0, 0.1],
                            [0.6, 0.6, 1.0, 1.0]])
    # IoU with box 0: 1, 0.81, 0.36, 0; anchor 4 with box 1: 0.64
    assert assign_anchor_to_bbox(gt, anchors, 0.5).tolist() == [0, 0, -1, -1, 1]
    assert assign_anchor_to_bbox(gt, anchors, 0.9).tolist() == [0, -1, -1, -1, 1]  # the greedy pairs stay
    assert assign_anchor_to_bbox(gt[:0], anchors).tolist() == [-1] * 5
    padded = torch.tensor([[[0, 0.0, 0.0, 0.5, 0.5], [-1, 0, 0, 0, 0]], [[1, 0.5, 0.5, 1.0, 1.0], [0, 0, 0, 0.5, 0.5]]])
    _, _, classes = multibox_target(anchors, padded)
    assert classes.tolist() == [[1, 1, 0, 0, 0], [1, 1, 0, 0, 2]]


def test_offsets_round_trip():
    anchors, boxes = random_boxes(20, 5), random_boxes(20, 6)
    torch.testing.assert_close(offset_inverse(anchors, offset_boxes(anchors, boxes)), boxes)


def test_detection_of_the_books_nms_example():
    anchors = torch.tensor([[0.1, 0.08, 0.52, 0.92], [0.08, 0.2, 0.56, 0.95], [0.15, 0.3, 0.62, 0.91],
                            [0.55, 0.2, 0.9, 0.88]])
    probs = torch.tensor([[0.0] * 4, [0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]]).unsqueeze(0)
    out = multibox_detection(probs, torch.zeros(1, 16), anchors.unsqueeze(0), nms_threshold=0.5)
    assert out.shape == (1, 4, 6)
    expected = torch.tensor([[0, 0.9, 0.1, 0.08, 0.52, 0.92], [1, 0.9, 0.55, 0.2, 0.9, 0.88],
                             [-1, 0.8, 0.08, 0.2, 0.56, 0.95], [-1, 0.7, 0.15, 0.3, 0.62, 0.91]])
    torch.testing.assert_close(out[0], expected)
    torch.testing.assert_close(multibox_detection(probs, torch.zeros(1, 16), anchors, class_aware=True), out)
    everything = multibox_detection(probs, torch.zeros(1, 16), anchors, nms_threshold=1.0)
    assert (everything[0, :, 0] >= 0).all()  # nothing overlaps more than IoU 1
    low = multibox_detection(probs, torch.zeros(1, 16), anchors, pos_threshold=0.95)
    assert (low[0, :, 0] == -1).all()  # every confidence is below the positive threshold


def write_image(path, size=(120, 90)):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (200, 220, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse([10, 8, 62, 83], fill=(150, 100, 50))
    draw.ellipse([66, 18, 108, 80], fill=(90, 90, 90))
    image.save(path)
    return path


def test_anchors_command_writes_a_png(tmp_path, capsys):
    image = write_image(tmp_path / "catdog.png")
    out = tmp_path / "anchors.png"
    assert anchors_command(["--image", str(image), "--sizes", "0.75", "0.5", "0.25", "--ratios", "1", "2", "0.5",
                            "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "54000 anchors in all (5 per pixel); at pixel (x=60, y=45)" in printed and "s=0.75, r=0.5" in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert anchors_command(["--image", str(image), "--center", "0", "0", "--out", str(out)]) == 0


def test_detect_demo_command_writes_a_png(tmp_path, capsys):
    out = tmp_path / "sub" / "detections.png"
    assert detect_demo_command(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "A0 background, A1 dog, A2 cat, A3 background, A4 cat" in printed
    assert "[-1.00, 0.80, 0.08, 0.20, 0.56, 0.95]" in printed and "dog=0.9, cat=0.9" in printed
    assert out.stat().st_size > 1000


def _animal_extents(scene: Image.Image, room: Image.Image) -> dict[str, tuple[int, int, int, int]]:
    """Pixel corners (x1, y1, x2, y2), end exclusive, of what the scene draws over the empty room, left of x = 390
    (the dog) and right of it (the cat)."""
    changed = np.abs(np.asarray(scene, dtype=int) - np.asarray(room, dtype=int)).sum(axis=2) > 30
    extents = {}
    for name, columns in (("dog", slice(0, 390)), ("cat", slice(390, None))):
        part = np.zeros_like(changed)
        part[:, columns] = changed[:, columns]
        ys, xs = np.nonzero(part)
        extents[name] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return extents


def test_the_shipped_scene_is_the_size_of_catdog_jpg_and_its_animals_fill_the_books_boxes():
    scene = study.catdog_scene()
    assert scene.size == (728, 561) and scene.mode == "RGB"
    assert np.array_equal(np.asarray(scene), np.asarray(study.catdog_scene()))  # the same picture every time
    extents = _animal_extents(scene, study.catdog_scene(animals=False))
    book = {"dog": (60, 45, 378, 516), "cat": (400, 112, 655, 493)}  # 9.3's bounding boxes of catdog.jpg
    for name, (x1, y1, x2, y2) in study.SCENE_BOXES.items():
        expected = (x1 * 728, y1 * 561, x2 * 728, y2 * 561)
        assert extents[name] == pytest.approx(expected, abs=1.5), name
        assert extents[name] == pytest.approx(book[name], abs=13), name


def test_detect_demo_draws_the_kept_boxes_around_the_animals_of_its_image(tmp_path, monkeypatch):
    drawn = []

    def spy(image, boxes, labels, out, title=None, **kwargs):
        drawn.append((image, boxes.clone(), list(labels)))
        return out

    monkeypatch.setattr(study, "plot_boxes", spy)
    assert detect_demo_command(["--out", str(tmp_path / "d.png")]) == 0
    (image, boxes, labels), = drawn
    assert np.array_equal(np.asarray(image), np.asarray(study.catdog_scene()))
    extents = _animal_extents(image, study.catdog_scene(animals=False))
    scale = torch.tensor([728, 561, 728, 561])
    assert labels == ["dog=0.9", "cat=0.9"]
    for label, box in zip(labels, boxes * scale):
        assert box.tolist() == pytest.approx(extents[label.split("=")[0]], abs=1.5), label


def test_python_m_zoo_detect_demo_with_no_arguments_runs_offline(tmp_path):
    env = {**os.environ, "ZOO_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "zoo", "detect-demo"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "on the shipped cat-and-dog scene" in out.stdout and "dog=0.9, cat=0.9" in out.stdout
    png = tmp_path / "runs" / "detections.png"
    with Image.open(png) as picture:
        assert picture.format == "PNG" and picture.width > 300
    anchors = subprocess.run([sys.executable, "-m", "zoo", "anchors"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
    assert anchors.returncode == 0, anchors.stderr
    assert "the shipped cat-and-dog scene: 728x561 pixels" in anchors.stdout
    assert "at pixel (x=250, y=250)" in anchors.stdout  # the book's pixel by default on the scene
    assert (tmp_path / "runs" / "anchors.png").is_file()


def test_on_another_image_detect_demo_draws_only_the_boxes_given(tmp_path, monkeypatch, capsys):
    image = write_image(tmp_path / "photo.png")  # 120 x 90
    with pytest.raises(ConfigError, match="the book's example boxes .* belong to the shipped scene, not to "
                                          ".*photo.png.*--box CLASS SCORE X1 Y1 X2 Y2"):
        detect_demo_command(["--image", str(image), "--out", str(tmp_path / "x.png")])
    drawn = []
    monkeypatch.setattr(study, "plot_boxes", lambda image, boxes, labels, out, title=None: drawn.append(
        (image.size, boxes.clone(), list(labels))) or out)
    args = ["--image", str(image), "--box", "bowl", "0.9", "10", "8", "62", "83", "--box", "bowl", "0.6", "12", "10",
            "60", "80", "--box", "cup", "0.8", "66", "18", "108", "80", "--out", str(tmp_path / "mine.png")]
    assert detect_demo_command(args) == 0
    printed = capsys.readouterr().out
    assert "A0 background" not in printed and "NMS on the 3 boxes given" in printed
    (size, boxes, labels), = drawn
    assert size == (120, 90) and labels == ["bowl=0.9", "cup=0.8"]  # the overlapping weaker bowl is suppressed
    torch.testing.assert_close(boxes * torch.tensor([120, 90, 120, 90]),
                               torch.tensor([[10.0, 8, 62, 83], [66, 18, 108, 80]]))
    for bad, message in [(["x", "0.9", "1", "1", "500", "5"], r"0 <= X1 < X2 <= 120"),
                         (["x", "1.5", "1", "1", "5", "5"], "between 0 and 1; got 1.5"),
                         (["x", "high", "1", "1", "5", "5"], "must be numbers")]:
        with pytest.raises(ConfigError, match=message):
            detect_demo_command(["--image", str(image), "--box", *bad])


def test_command_errors(tmp_path):
    image = write_image(tmp_path / "img.png")
    with pytest.raises(DataError, match=f"no such image file: {tmp_path / 'missing.png'}"):
        anchors_command(["--image", str(tmp_path / "missing.png")])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    with pytest.raises(DataError, match=f"cannot read the image {broken}"):
        detect_demo_command(["--image", str(broken), "--box", "a", "0.9", "1", "1", "5", "5", "--out",
                             str(tmp_path / "x.png")])
    with pytest.raises(ConfigError, match=r"anchor sizes are fractions of the image, in \(0, 1\]; got \[1.5\]"):
        anchors_command(["--image", str(image), "--sizes", "1.5", "0.5"])
    with pytest.raises(ConfigError, match=r"anchor ratios \(width / height\) must be positive and finite; got \[0.0\]"):
        anchors_command(["--image", str(image), "--ratios", "1", "0"])
    with pytest.raises(ConfigError, match="--center 500 10 is outside the 120x90 image"):
        anchors_command(["--image", str(image), "--center", "500", "10"])
    with pytest.raises(ConfigError, match="--nms-threshold is an IoU, between 0 and 1; got 1.5"):
        detect_demo_command(["--image", str(image), "--nms-threshold", "1.5"])


def test_op_errors():
    with pytest.raises(ConfigError, match=r"boxes1 must have 4 numbers in the last dimension, got shape \(2, 3\)"):
        box_iou(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ConfigError, match=r"nms needs one score per box: boxes \(3, 4\), scores \(2,\)"):
        nms(torch.ones(3, 4), torch.ones(2), 0.5)
    with pytest.raises(ConfigError, match="unknown anchor convention 'mxnet'"):
        multibox_prior(4, 4, [0.5], [1], convention="mxnet")
    with pytest.raises(ConfigError, match=r"labels must be \(batch, boxes, 5\)"):
        multibox_target(ANCHORS, GROUND_TRUTH)
    with pytest.raises(ConfigError, match=r"cls_probs must be \(batch, 1 \+ classes, 5\) for 5 anchors"):
        multibox_detection(torch.ones(1, 3, 4), torch.zeros(1, 20), ANCHORS)
    with pytest.raises(ConfigError, match=r"pixel \(9, 0\) is outside a 4x4 image"):
        anchors_at(multibox_prior(4, 4, [0.5], [1]), 4, 4, 9, 0)
