"""JayChouLyricsDataModule on a zip written in the real format, and on the real file when the mirror is set."""

from __future__ import annotations

import zipfile

import pytest
import torch

import datamodules.jaychou_lyrics as mod
from datamodules.jaychou_lyrics import JayChouLyricsDataModule
from tests.fakes import point_resource_at, write_lyrics_zip
from zoo.errors import ConfigError, DataError, DataUnavailableError


@pytest.fixture
def fake_lyrics(tmp_path, monkeypatch):
    path = tmp_path / "cache" / mod.JAYCHOU_LYRICS.filename
    text = write_lyrics_zip(path, n_chars=13_000)
    point_resource_at(monkeypatch, mod, "JAYCHOU_LYRICS", path)
    return text.replace("\n", " ")


def test_vocab_and_batches(fake_lyrics):
    dm = JayChouLyricsDataModule()
    assert dm.vocab == sorted(set(fake_lyrics[:10_000]))
    assert "\n" not in dm.vocab
    dm.setup("fit")
    assert dm.train_ids.numel() == 10_000
    assert "".join(dm.vocab[i] for i in dm.train_ids[:50]) == fake_lyrics[:50]
    batches = list(dm.train_dataloader())
    assert len(batches) == 8
    x, y, carry = batches[1]
    assert x.shape == y.shape == (32, 35) and x.dtype == torch.long and carry is True
    assert dm.val_dataloader() == []


def test_held_out_part_follows_training_text(fake_lyrics):
    dm = JayChouLyricsDataModule(num_chars=10_000, val_chars=2_000)
    dm.setup("fit")
    assert dm.train_ids.numel() == 10_000
    held_out = fake_lyrics[10_000:12_000]
    assert dm.val_ids.tolist() == [dm.vocab.index(c) for c in held_out if c in dm.vocab]
    x, y, carry = next(iter(dm.val_dataloader()))
    assert carry is True and torch.equal(x[0, 1:], y[0, :-1])


def test_whole_corpus_option(fake_lyrics):
    dm = JayChouLyricsDataModule(num_chars=None, val_chars=1_000)
    dm.setup("fit")
    assert dm.train_ids.numel() == 12_000 and dm.val_ids.numel() == 1_000


def test_random_sampling_option(fake_lyrics):
    dm = JayChouLyricsDataModule(sampling="random")
    dm.setup("fit")
    assert all(carry is False for *_, carry in dm.train_dataloader())


def test_unseen_held_out_characters_are_dropped(tmp_path, monkeypatch):
    path = tmp_path / "cache" / mod.JAYCHOU_LYRICS.filename
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("jaychou_lyrics.txt", ("ab" * 50 + "abXab").encode())
    point_resource_at(monkeypatch, mod, "JAYCHOU_LYRICS", path)
    dm = JayChouLyricsDataModule(num_chars=100, val_chars=5, batch_size=1, num_steps=2)
    dm.setup("fit")
    assert dm.vocab == ["a", "b"] and dm.val_ids.tolist() == [0, 1, 0, 1]


def test_too_large_request(fake_lyrics):
    with pytest.raises(ConfigError, match="too few for num_chars=12000 plus val_chars=5000"):
        _ = JayChouLyricsDataModule(num_chars=12_000, val_chars=5_000).vocab


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"num_chars": 1}, "num_chars must be at least 2"),
    ({"val_chars": -1}, "val_chars must be >= 0"),
    ({"sampling": "shuffle"}, "unknown sampling 'shuffle'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        JayChouLyricsDataModule(**kwargs)


def test_wrong_member_is_a_data_error(tmp_path, monkeypatch):
    path = tmp_path / "cache" / mod.JAYCHOU_LYRICS.filename
    write_lyrics_zip(path, member="other.txt")
    point_resource_at(monkeypatch, mod, "JAYCHOU_LYRICS", path)
    with pytest.raises(DataError, match="has no member 'jaychou_lyrics.txt'"):
        _ = JayChouLyricsDataModule().vocab


def test_missing_file_offline(tmp_path):
    dm = JayChouLyricsDataModule()
    with pytest.raises(DataUnavailableError) as err:
        dm.prepare_data()
    msg = str(err.value)
    assert "jaychou_lyrics.txt.zip" in msg and mod.JAYCHOU_LYRICS.checksum in msg
    assert str(tmp_path / "cache") in msg and mod.JAYCHOU_LYRICS.urls[0] in msg


@pytest.mark.mirror
def test_real_corpus_matches_the_book():
    dm = JayChouLyricsDataModule()
    dm.prepare_data()
    assert dm.vocab_size == 1027  # book 6.3.2: "vocab_size # 1027"
    train, _ = dm._parts
    # book 6.3.1 prints the first 40 characters; line breaks become spaces
    assert train[:40] == "想要有直升机 想要和你飞到宇宙去 想要和你融化在一起 融化在宇宙里 我每天每天每"
    whole = JayChouLyricsDataModule(num_chars=None)
    assert len(whole._parts[0]) == 63_282
