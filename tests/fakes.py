"""Writers of small dataset files in their real on-disk formats, so the real loading code runs in tests.

``install(name, root, monkeypatch)`` writes the fake files of datamodule class ``name`` under ``root`` and points
its resource checksums at them. `WRITERS` maps every datamodule class name to its writer; test_recipes.py uses it
to run every recipe on fake data.
"""

from __future__ import annotations

import hashlib
import random
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests import hotdog_fakes, house_fakes, regression_fakes, text_fakes, vision_fakes

LYRICS_ALPHABET = "分开不我想你的爱在一天要说了是有没就人心 "


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def point_resource_at(monkeypatch: pytest.MonkeyPatch, module, attr: str, path: Path) -> None:
    """Make ``module.attr`` (a Resource) accept the fake file at ``path``."""
    resource = getattr(module, attr)
    digest = hashlib.new(resource.algorithm, path.read_bytes()).hexdigest()
    monkeypatch.setattr(module, attr, replace(resource, checksum=digest))


def write_lyrics_zip(path: Path, n_chars: int = 13_000, seed: int = 0, member: str = "jaychou_lyrics.txt") -> str:
    """A zip like jaychou_lyrics.txt.zip holding ``n_chars`` characters with line breaks; returns the text."""
    rng = random.Random(seed)
    lines, size = [], 0
    while size < n_chars:
        line = "".join(rng.choice(LYRICS_ALPHABET) for _ in range(rng.randint(4, 12)))
        lines.append(line)
        size += len(line) + 1
    text = "\n".join(lines)[:n_chars]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, text.encode("utf-8"))
    return text


def _install_lyrics(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datamodules.jaychou_lyrics as mod

    path = root / mod.JAYCHOU_LYRICS.filename
    write_lyrics_zip(path)
    point_resource_at(monkeypatch, mod, "JAYCHOU_LYRICS", path)


WRITERS: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    "JayChouLyricsDataModule": _install_lyrics,
    "FashionMNISTDataModule": vision_fakes.install_fashion_mnist,
    "CIFAR10DataModule": vision_fakes.install_cifar10,
    "HotdogDataModule": hotdog_fakes.install_hotdog,  # also fake ImageNet weights: resnet18_hotdog is pretrained
    "AirfoilDataModule": regression_fakes.install_airfoil,
    "LinearSyntheticDataModule": regression_fakes.install_synthetic,
    "PolynomialSyntheticDataModule": regression_fakes.install_synthetic,
    "HighDimSyntheticDataModule": regression_fakes.install_synthetic,
    "KaggleHouseDataModule": house_fakes.install_kaggle_house,  # train.csv/test.csv in root and root/kaggle_house
    "PTBDataModule": text_fakes.install_ptb,
    "IMDbDataModule": text_fakes.install_imdb,  # also a small glove.6B.100d.zip: the recipes start from GloVe
    "FraEngDataModule": text_fakes.install_fr_en,
    "ParallelTextDataModule": text_fakes.install_parallel_text,
}


def install(name: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if name not in WRITERS:
        raise KeyError(f"no fake-data writer for {name}; add one to tests/fakes.py")
    WRITERS[name](root, monkeypatch)
