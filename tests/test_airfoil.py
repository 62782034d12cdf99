"""AirfoilDataModule on small files in the real format (tab-separated, CRLF), corrupt copies, and the real file."""

from __future__ import annotations

import statistics

import pytest
import torch

import datamodules.airfoil as airfoil
from datamodules.download import file_hash
from tests.fakes import point_resource_at
from tests.regression_fakes import airfoil_rows, write_airfoil
from zoo.errors import ChecksumError, ConfigError, DataError, DataUnavailableError


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A 40-row airfoil file accepted as the real one; returns (data_dir, rows)."""
    rows = airfoil_rows(40)
    path = write_airfoil(tmp_path / "data" / airfoil.AIRFOIL.filename, rows)
    point_resource_at(monkeypatch, airfoil, "AIRFOIL", path)
    return tmp_path / "data", rows


def test_fake_file_is_in_the_real_format(fake):
    raw = (fake[0] / airfoil.AIRFOIL.filename).read_bytes()
    assert raw.count(b"\r\n") == 40 and raw.count(b"\t") == 40 * 5


def test_reads_crlf_rows_exactly(fake):
    data_dir, rows = fake
    table = airfoil.read_airfoil(data_dir / airfoil.AIRFOIL.filename)
    assert table.shape == (40, 6) and table.dtype == torch.float64
    assert table[0].tolist() == pytest.approx([float(f"{v:g}") for v in rows[0]])


def test_standardises_every_column_with_the_population_std_then_keeps_the_first_rows(fake):
    """Book 7.3.1: (data - mean) / std over all rows (numpy's std, ddof 0), the label too; then data[:n]."""
    data_dir, rows = fake
    rows = [[float(f"{v:g}") for v in row] for row in rows]
    dm = airfoil.AirfoilDataModule(data_dir=str(data_dir), num_examples=30, batch_size=7)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.train_features.shape == (30, 5) and dm.train_labels.shape == (30,)
    assert dm.train_features.dtype == torch.float32
    for col in range(6):
        column = [row[col] for row in rows]  # all 40 rows, not only the 30 kept
        mean, std = statistics.fmean(column), statistics.pstdev(column)
        got = dm.train_features[:, col] if col < 5 else dm.train_labels
        assert got.tolist() == pytest.approx([(v - mean) / std for v in column[:30]], abs=1e-6)


def test_loaders(fake):
    dm = airfoil.AirfoilDataModule(data_dir=str(fake[0]), num_examples=30, batch_size=7)
    assert dm.num_features == 5 and dm.eval_sets == ("train",)  # available before setup, for the CLI link
    dm.prepare_data()
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert [len(y) for _, y in batches] == [7, 7, 7, 7, 2]  # the last, smaller batch is kept, as in the book
    assert batches[0][0].shape == (7, 5)
    full = list(dm.val_dataloader())
    assert len(full) == 1 and torch.equal(full[0][0], dm.train_features) and torch.equal(full[0][1], dm.train_labels)
    torch.manual_seed(0)
    first = next(iter(dm.train_dataloader()))[1]
    torch.manual_seed(0)
    assert torch.equal(first, next(iter(dm.train_dataloader()))[1])  # shuffling follows the seeded global RNG


def test_without_standardising_and_without_shuffle(fake):
    data_dir, rows = fake
    dm = airfoil.AirfoilDataModule(data_dir=str(data_dir), num_examples=10, batch_size=10, shuffle=False,
                                   standardize=False)
    dm.setup("fit")
    _, y = next(iter(dm.train_dataloader()))
    assert y.tolist() == pytest.approx([float(f"{row[5]:g}") for row in rows[:10]], rel=1e-6)


def test_malformed_row_names_the_line(tmp_path, monkeypatch):
    rows = airfoil_rows(5)
    path = write_airfoil(tmp_path / airfoil.AIRFOIL.filename, rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = b"800\t0\t0.3048\t71.3\tn/a\t126.2"
    path.write_bytes(b"\r\n".join(lines))
    point_resource_at(monkeypatch, airfoil, "AIRFOIL", path)
    dm = airfoil.AirfoilDataModule(data_dir=str(tmp_path), num_examples=5)
    with pytest.raises(DataError, match=r"line 4: expected 6 tab-separated numbers, got '800\\t0"):
        dm.setup("fit")


def test_too_few_rows_is_a_config_error(fake):
    dm = airfoil.AirfoilDataModule(data_dir=str(fake[0]))  # the book's 1,500 rows from a 40-row file
    with pytest.raises(ConfigError, match="num_examples=1500, but .* has only 40 rows"):
        dm.setup("fit")


def test_corrupt_mirror_copy_is_refused(tmp_path, monkeypatch):
    """The real checksum and a mirror serving wrong bytes: the bad copy is deleted and the error says why."""
    mirror = tmp_path / "mirror"
    write_airfoil(mirror / airfoil.AIRFOIL.filename, airfoil_rows(10))
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    dm = airfoil.AirfoilDataModule(data_dir=str(tmp_path / "cache"))
    with pytest.raises(ChecksumError, match=f"expected sha1 {airfoil.AIRFOIL.checksum}"):
        dm.prepare_data()
    assert not (tmp_path / "cache" / airfoil.AIRFOIL.filename).exists()


def test_offline_without_the_file_names_url_checksum_and_folder(tmp_path):
    dm = airfoil.AirfoilDataModule(data_dir=str(tmp_path / "cache"))
    with pytest.raises(DataUnavailableError) as info:
        dm.prepare_data()
    message = str(info.value)
    for part in (airfoil.AIRFOIL.filename, airfoil.AIRFOIL.urls[0], airfoil.AIRFOIL.checksum, str(tmp_path / "cache")):
        assert part in message


def test_download_from_a_server(http_server, tmp_path, monkeypatch):
    url, served = http_server
    path = write_airfoil(served / airfoil.AIRFOIL.filename, airfoil_rows(12))
    point_resource_at(monkeypatch, airfoil, "AIRFOIL", path)
    monkeypatch.setenv("ZOO_DATA_MIRROR", url)
    dm = airfoil.AirfoilDataModule(data_dir=str(tmp_path / "cache"), num_examples=12)
    dm.prepare_data()
    assert file_hash(tmp_path / "cache" / airfoil.AIRFOIL.filename) == file_hash(path)


@pytest.mark.parametrize(("kwargs", "message"), [({"batch_size": 0}, "batch_size must be >= 1"),
                                                 ({"num_examples": 0}, "num_examples must be >= 1")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        airfoil.AirfoilDataModule(**kwargs)


@pytest.mark.mirror
def test_real_file(tmp_path):
    """The real file: 1,503 rows; the book's standardised first 1,500 rows (checked against plain arithmetic)."""
    dm = airfoil.AirfoilDataModule(data_dir=str(tmp_path / "cache"))
    dm.prepare_data()
    path = tmp_path / "cache" / airfoil.AIRFOIL.filename
    assert file_hash(path) == airfoil.AIRFOIL.checksum
    raw = airfoil.read_airfoil(path)
    assert raw.shape == (1503, 6)
    assert raw[0].tolist() == [800.0, 0.0, 0.3048, 71.3, 0.00266337, 126.201]
    dm.setup("fit")
    assert dm.train_features.shape == (1500, 5) and dm.train_labels.shape == (1500,)
    column = raw[:, 5].tolist()
    mean, std = statistics.fmean(column), statistics.pstdev(column)
    assert dm.train_labels[:3].tolist() == pytest.approx([(v - mean) / std for v in column[:3]], abs=1e-6)
    assert abs(float(dm.train_labels.mean())) < 0.05  # 1,500 of 1,503 standardised rows
