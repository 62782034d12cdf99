"""IMDb (book 10.7.1): reading the real archive layout, the book's preprocessing, the tokenised cache, length
buckets, and archives that must not be unpacked."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import torch

import datamodules.imdb as imdb
from datamodules.imdb import IMDB, IMDbDataModule, LengthBuckets, read_imdb, tokenize_review
from tests import text_fakes
from tests.fakes import point_resource_at
from zoo.errors import ConfigError, DataUnavailableError, UnsafeArchiveError

SHARED_TINY = Path(__file__).resolve().parents[2] / "shared" / "data" / "aclImdb_tiny.zip"


@pytest.fixture
def dm(tmp_path, monkeypatch) -> IMDbDataModule:
    text_fakes.install_imdb(tmp_path / "data", monkeypatch, n_train=40, n_test=20)
    module = IMDbDataModule(data_dir=str(tmp_path / "data"), min_freq=2, max_len=30, batch_size=8)
    module.prepare_data()
    return module


def test_read_imdb_reads_pos_and_neg_lower_cased_without_line_breaks(dm):
    texts, labels = read_imdb(dm.root / "aclImdb", "train")
    assert len(texts) == 40 and labels.count(1) == 20 and labels.count(0) == 20  # train/unsup is not read
    assert all(t == t.lower() and "\n" not in t for t in texts)
    assert labels[:20] == [1] * 20  # positive first, files in name order


def test_the_books_tokenizer_splits_on_single_spaces():
    assert tokenize_review("A  Great<br />film") == ["a", "", "great<br", "/>film"]


def test_vocabulary_and_padding_follow_the_book(dm):
    vocab = dm.vocab
    assert vocab[:2] == ["<pad>", "<unk>"] and "great" in vocab and "unsup" not in vocab
    data = dm.encode_split("train")
    assert data.tokens.shape == (40, 30) and data.labels.tolist().count(1) == 20
    texts, _ = read_imdb(dm.root / "aclImdb", "train")
    index = {t: i for i, t in enumerate(vocab)}
    for row, length, text in zip(data.tokens.tolist(), data.lengths.tolist(), texts):
        tokens = tokenize_review(text)
        expected = [index.get(t, 1) for t in tokens[:30]]
        assert length == min(len(tokens), 30) and row == expected + [0] * (30 - len(expected))


def test_splits_batches_and_the_test_split_is_never_split(dm):
    dm.setup("fit")
    assert dm.eval_sets == ("test",) and len(dm.train_set) == 40 and len(dm.test_set) == 20
    tokens, lengths, labels = next(iter(dm.train_dataloader()))
    assert tokens.shape == (8, 30) and tokens.dtype == torch.long and lengths.shape == labels.shape == (8,)
    held = IMDbDataModule(data_dir=str(dm.root), min_freq=2, max_len=30, val_size=10, seed=3)
    held.setup("fit")
    assert held.eval_sets == ("val",) and len(held.train_set) == 30 and len(held.val_set) == 10
    held.setup("test")
    assert len(held.test_set) == 20
    again = IMDbDataModule(data_dir=str(dm.root), min_freq=2, max_len=30, val_size=10, seed=3)
    again.setup("fit")
    assert torch.equal(again.val_set.tokens, held.val_set.tokens)  # seeded


def test_the_tokenised_corpus_is_cached_and_rebuilt_when_the_archive_changes(dm, monkeypatch):
    _ = dm.vocab
    assert (dm.root / "aclImdb" / "tokenised.pt").is_file()
    monkeypatch.setattr(imdb, "_tokenise_corpus", lambda root: pytest.fail("tokenised again"))
    assert IMDbDataModule(data_dir=str(dm.root), min_freq=2).vocab == IMDbDataModule(data_dir=str(dm.root),
                                                                                      min_freq=2).vocab
    monkeypatch.undo()
    archive = text_fakes.write_imdb_tar(dm.root / IMDB.filename, {"train": text_fakes.imdb_reviews(10, 5),
                                                                  "test": text_fakes.imdb_reviews(4)})
    point_resource_at(monkeypatch, imdb, "IMDB", archive)
    fresh = IMDbDataModule(data_dir=str(dm.root), min_freq=1)
    assert len(fresh.corpus["train"]["labels"]) == 10  # a new archive: unpacked and tokenised again


def test_length_buckets_cut_each_batch_at_its_longest_review(tmp_path, monkeypatch):
    text_fakes.install_imdb(tmp_path, monkeypatch, n_train=64, n_test=8)
    dm = IMDbDataModule(data_dir=str(tmp_path), min_freq=1, max_len=500, batch_size=8, length_buckets=True)
    dm.setup("fit")
    seen = []
    for tokens, lengths, _ in dm.train_dataloader():
        assert tokens.shape[1] == int(lengths.max()) < 500
        seen += tokens[:, 0].tolist()
    assert len(seen) == 64
    sampler = LengthBuckets(torch.arange(100), batch_size=10, pool=10)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(100)) and all(max(b) - min(b) == 9 for b in batches)


@pytest.mark.parametrize(("member", "kind"), [("../escape.txt", "file"), ("/tmp/absolute.txt", "file"),
                                              ("aclImdb/link", "symlink")])
def test_a_crafted_archive_is_refused_and_nothing_is_written_outside(tmp_path, monkeypatch, member, kind):
    archive = tmp_path / "cache" / IMDB.filename
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"good"))
        bad = tarfile.TarInfo(member)
        if kind == "symlink":
            bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
        else:
            bad.size = 4
        tar.addfile(bad, io.BytesIO(b"evil") if kind == "file" else None)
    point_resource_at(monkeypatch, imdb, "IMDB", archive)
    with pytest.raises(UnsafeArchiveError, match="refusing to extract it"):
        IMDbDataModule().prepare_data()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "cache" / "aclImdb").exists()
    assert not Path("/tmp/absolute.txt").exists()


def test_offline_without_the_archive_names_file_urls_checksum_and_folder(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        IMDbDataModule().prepare_data()
    message = str(info.value)
    assert all(part in message for part in (IMDB.filename, *IMDB.urls, IMDB.checksum, str(tmp_path / "cache")))


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="IMDbDataModule: max_len must be >= 1, got 0"):
        IMDbDataModule(max_len=0)
    with pytest.raises(ConfigError, match="no texts to classify; set predict_texts"):
        IMDbDataModule().predict_dataloader()


@pytest.mark.mirror
def test_the_real_sample_repacked_as_the_real_archive(tmp_path, monkeypatch):
    """The 40 real reviews of aclImdb_tiny.zip, in the layout of aclImdb_v1.tar.gz, through the real code path."""
    archive = text_fakes.repack_tiny_imdb(SHARED_TINY, tmp_path / "cache" / IMDB.filename)
    point_resource_at(monkeypatch, imdb, "IMDB", archive)
    dm = IMDbDataModule(min_freq=1)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 20 and len(dm.test_set) == 20
    assert dm.train_set.labels.tolist().count(1) == 10 and int(dm.train_set.lengths.max()) <= 500
    assert {"the", "movie"} <= set(dm.vocab)
