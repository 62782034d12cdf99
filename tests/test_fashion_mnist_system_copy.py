"""Fashion-MNIST from an operating-system package, verified by content, and the book's classifiers on the real data.

The Debian/Ubuntu package ``dataset-fashion-mnist`` installs the four files, recompressed (other .gz bytes than the
published ones, the same IDX content). The zoo reads them in place after the cache and the mirror, accepting a copy
whose unpacked content has the published SHA-256. The tests on the real files (marked ``system_copy``) run where the
package is installed (CI installs it) and skip elsewhere, saying why; each trains one epoch in well under a minute.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import datamodules.fashion_mnist as fm
from datamodules import FashionMNISTDataModule
from tests.vision_fakes import accept_fashion_mnist, fashion_mnist_arrays, idx_images, idx_labels, md5
from zoo.cli import main, recipe_path, run_lightning_cli
from zoo.errors import DataUnavailableError

SYSTEM = Path("/usr/share/datasets/fashion-mnist")
needs_package = pytest.mark.skipif(not (SYSTEM / "train-images-idx3-ubyte.gz").is_file(),
                                   reason="needs the dataset-fashion-mnist package (apt-get install -y "
                                          "dataset-fashion-mnist); .ci/run installs it")


def _raw(array: np.ndarray) -> bytes:
    return idx_images(array) if array.ndim == 3 else idx_labels(array)


def _fake_package(folder: Path, monkeypatch, arrays: dict[str, np.ndarray], level: int = 1) -> dict[str, bytes]:
    """The four files gzip-compressed at ``level`` in ``folder`` as a system copy; the *published* md5s are those of
    another compression (level 9), and the published content digests those of ``arrays``: a recompressed package."""
    folder.mkdir(parents=True, exist_ok=True)
    published, contents = {}, {}
    for stem, array in arrays.items():
        raw = _raw(array)
        contents[f"{stem}.gz"] = raw
        published[f"{stem}.gz"] = md5(gzip.compress(raw, compresslevel=9, mtime=0))
        (folder / f"{stem}.gz").write_bytes(gzip.compress(raw, compresslevel=level, mtime=1))
    accept_fashion_mnist(monkeypatch, published)
    monkeypatch.setattr(fm, "SYSTEM_FOLDERS", (str(folder),))
    monkeypatch.setattr(fm, "CONTENT_SHA256", {name: hashlib.sha256(raw).hexdigest() for name, raw in
                                               contents.items()})
    return contents


def test_a_recompressed_system_copy_is_accepted_by_its_content_and_read_in_place(tmp_path, monkeypatch):
    arrays = fashion_mnist_arrays(n_train=12, n_test=6)
    package = tmp_path / "usr_share"
    _fake_package(package, monkeypatch, arrays)
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in package.iterdir()}
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "cache"), batch_size=4)
    dm.prepare_data()
    dm.setup("fit")
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape[1:] == (1, 28, 28) and len(dm.train_set) == 12
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in package.iterdir()} == before  # untouched
    assert not list((tmp_path / "cache" / "FashionMNIST" / "raw").glob("*.gz"))  # not copied: read in place
    unpacked = (tmp_path / "cache" / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").read_bytes()
    assert unpacked == _raw(arrays["train-labels-idx1-ubyte"])


def test_a_system_copy_with_one_changed_byte_is_refused_by_name(tmp_path, monkeypatch):
    arrays = fashion_mnist_arrays(n_train=12, n_test=6)
    package = tmp_path / "usr_share"
    contents = _fake_package(package, monkeypatch, arrays)
    changed = bytearray(contents["train-images-idx3-ubyte.gz"])
    changed[100] ^= 0x01  # one pixel of the first image
    (package / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(changed), mtime=1))
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "cache"))
    with pytest.raises(Exception, match=r"train-images-idx3-ubyte\.gz matches neither the published md5"):
        dm.prepare_data()


def test_without_cache_mirror_package_or_network_one_line_names_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fm, "SYSTEM_FOLDERS", (str(tmp_path / "no_package"),))
    with pytest.raises(DataUnavailableError) as info:
        FashionMNISTDataModule(data_dir=str(tmp_path / "cache")).prepare_data()
    assert "\n" not in str(info.value) and "apt-get install -y dataset-fashion-mnist" in str(info.value)
    with pytest.raises(SystemExit) as exit_info:
        main(["recipe", "softmax_scratch_fashion_mnist", "--trainer.default_root_dir", str(tmp_path / "runs")])
    assert exit_info.value.code == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "dataset-fashion-mnist" in err[0]


def test_the_package_content_digests_are_the_recorded_ones():
    """The digests in the code are those of the real files (a wrong one would refuse the real package)."""
    if not SYSTEM.is_dir():
        pytest.skip("needs the dataset-fashion-mnist package")
    for name, digest in fm.CONTENT_SHA256.items():
        with gzip.open(SYSTEM / name, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, name


def _one_epoch(recipe: str, tmp_path: Path, *args: str) -> dict[str, float]:
    cli = run_lightning_cli(["fit", "--config", str(recipe_path(recipe)), "--trainer.max_epochs", "1",
                             "--trainer.default_root_dir", str(tmp_path / "runs"), "--trainer.enable_progress_bar",
                             "false", "--trainer.enable_model_summary", "false", *args])
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items() if v.numel() == 1}


@needs_package
@pytest.mark.system_copy
def test_softmax_from_scratch_one_epoch_on_the_real_data(tmp_path):
    metrics = _one_epoch("softmax_scratch_fashion_mnist", tmp_path)
    assert metrics["test/acc"] >= 0.78, metrics  # the book's fifth epoch: 0.815


@needs_package
@pytest.mark.system_copy
def test_lenet_with_batch_norm_one_epoch_on_the_real_data(tmp_path):
    metrics = _one_epoch("lenet_bn_scratch_fashion_mnist", tmp_path)
    assert metrics["test/acc"] >= 0.80, metrics  # the book's fifth epoch: 0.859


@needs_package
@pytest.mark.system_copy
def test_the_row_lstm_learns_in_one_epoch_on_the_real_data(tmp_path):
    metrics = _one_epoch("lstm_rows_fashion_mnist", tmp_path)
    assert metrics["test/acc"] >= 0.6, metrics


@needs_package
@pytest.mark.system_copy
def test_the_real_files_are_read_in_place_with_checksums_on(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_VERIFY_CHECKSUMS", raising=False)
    stamps = {p.name: p.stat().st_mtime_ns for p in SYSTEM.iterdir()}
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "cache"))
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 60_000
    assert {p.name: p.stat().st_mtime_ns for p in SYSTEM.iterdir()} == stamps
    assert os.access(SYSTEM, os.R_OK)
