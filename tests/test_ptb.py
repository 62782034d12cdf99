"""PTB and the word2vec data pipeline of book 10.3: each step against its definition, on small files in the real
format, and the book's printed counts on the real file (mirror)."""

from __future__ import annotations

import zipfile

import pytest
import torch

from datamodules.ptb import (
    PTB,
    PTBDataModule,
    SkipGramBatches,
    centers_and_contexts,
    encode,
    negatives,
    pack_pairs,
    read_ptb,
    subsample,
    word2vec_vocab,
)
from tests import text_fakes
from zoo.errors import ConfigError, DataError, DataUnavailableError


@pytest.fixture
def ptb_zip(tmp_path):
    return text_fakes.write_ptb_zip(tmp_path / "ptb.zip")


def test_read_ptb_reads_every_split_as_token_lists(ptb_zip):
    train = read_ptb(ptb_zip, "train")
    assert len(train) == 300 and all(isinstance(t, str) for s in train for t in s)
    assert train[0] == text_fakes.ptb_sentences(300)[0].split()
    assert len(read_ptb(ptb_zip, "valid")) == 40 and len(read_ptb(ptb_zip, "test")) == 40


def test_read_ptb_errors_name_the_problem(tmp_path, ptb_zip):
    with pytest.raises(ConfigError, match="PTB has the splits train, valid, test, not 'dev'"):
        read_ptb(ptb_zip, "dev")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match="has no member 'ptb/ptb.train.txt'; is it the PTB archive"):
        read_ptb(other)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="broken.zip is unreadable .* delete it and run again"):
        read_ptb(tmp_path / "broken.zip")


def test_vocabulary_keeps_words_counted_min_count_times_and_encode_drops_the_rest():
    sentences = [["a", "b", "a"], ["c", "a", "b"], ["d"]]
    vocab, counts = word2vec_vocab(sentences, min_count=2)
    assert vocab.tokens == ["a", "b"] and counts.tolist() == [3, 2]
    ids, lengths = encode(sentences, vocab)
    assert ids.tolist() == [0, 1, 0, 0, 1] and lengths.tolist() == [3, 2, 0]
    with pytest.raises(DataError, match="no word occurs 9 times or more"):
        word2vec_vocab(sentences, min_count=9)


def test_subsampling_keeps_each_word_with_probability_min_1_sqrt_t_over_f():
    counts = torch.tensor([900_000, 90_000, 9_000, 1_000])  # frequencies 0.9, 0.09, 0.009, 0.001
    ids = torch.repeat_interleave(torch.arange(4), counts)
    lengths = torch.full((1000,), 1000)
    t = 1e-3
    kept, new_lengths = subsample(ids, lengths, counts, t, torch.Generator().manual_seed(0))
    expected = (t / (counts / counts.sum())).sqrt().clamp(max=1) * counts  # 30,000, 9,487, 3,000, 1,000
    got = torch.bincount(kept, minlength=4).double()
    assert torch.allclose(got, expected.double(), rtol=0.05)  # more than 5 standard deviations each
    assert got[3] == 1_000  # f(w) <= t: never dropped
    assert new_lengths.sum() == len(kept) and len(new_lengths) == 1000
    again, _ = subsample(ids, lengths, counts, t, torch.Generator().manual_seed(0))
    assert torch.equal(kept, again)


def test_centers_and_contexts_on_the_books_tiny_dataset():
    """Book 10.3.1.3: sentences [0..6] and [7, 8, 9] with windows up to 2; contexts stay in their sentence."""
    ids, lengths = torch.arange(10), torch.tensor([7, 3])
    for seed in range(20):
        centers, contexts, n = centers_and_contexts(ids, lengths, 2, torch.Generator().manual_seed(seed))
        assert centers.tolist() == list(range(10)) and contexts.shape == (10, 4)
        for center, row, count in zip(centers.tolist(), contexts.tolist(), n.tolist()):
            words = row[:count]
            assert row[count:] == [-1] * (4 - count) and words == sorted(words) and center not in words
            sentence = range(7) if center < 7 else range(7, 10)
            window = max(abs(w - center) for w in words)
            assert 1 <= window <= 2 and set(words) == {w for w in sentence if 0 < abs(w - center) <= window}
    _, neighbours, n = centers_and_contexts(ids, lengths, 1)  # windows of exactly 1: the adjacent words
    assert neighbours.tolist()[:2] == [[1, -1], [0, 2]] and neighbours[7:].tolist() == [[8, -1], [7, 9], [8, -1]]
    assert n.tolist() == [1, 2, 2, 2, 2, 2, 1, 1, 2, 1]


def test_sentences_of_one_word_have_no_centre():
    centers, _, n = centers_and_contexts(torch.tensor([4, 5, 6]), torch.tensor([1, 2]), 5)
    assert centers.tolist() == [5, 6] and n.tolist() == [1, 1]


def test_negatives_are_never_a_context_word_and_follow_count_to_the_075():
    contexts = torch.tensor([[0, 1, -1, -1], [2, -1, -1, -1]])
    n = torch.tensor([2, 1])
    weights = torch.tensor([8.0, 4.0, 2.0, 1.0, 1.0])
    noise = negatives(contexts, n, weights, 5, torch.Generator().manual_seed(0))
    assert noise.shape == (2, 20)
    assert (noise[0, :10] >= 2).all() and (noise[0, 10:] == -1).all()  # words 0 and 1 are contexts of row 0
    assert (noise[1, :5] != 2).all() and (noise[1, 5:] == -1).all()
    many = negatives(torch.full((20000, 1), -1), torch.ones(20000, dtype=torch.long), weights, 1,
                     torch.Generator().manual_seed(1))
    share = torch.bincount(many[:, 0], minlength=5).double() / 20000
    assert torch.allclose(share, weights.double() / weights.sum(), atol=0.01)


def _book_batchify(rows):
    """The book's batchify (10.3.3) for (center, contexts, negatives) rows, written out as the book does."""
    max_len = max(len(c) + len(n) for _, c, n in rows)
    centers, contexts_negatives, masks, labels = [], [], [], []
    for center, context, negative in rows:
        cur_len = len(context) + len(negative)
        centers += [center]
        contexts_negatives += [context + negative + [0] * (max_len - cur_len)]
        masks += [[1] * cur_len + [0] * (max_len - cur_len)]
        labels += [[1] * len(context) + [0] * (max_len - len(context))]
    return (torch.tensor(centers).view(-1, 1), torch.tensor(contexts_negatives), torch.tensor(masks),
            torch.tensor(labels))


def test_batches_equal_the_books_batchify():
    ids, lengths = torch.randint(0, 50, (200,), generator=torch.Generator().manual_seed(0)), torch.tensor([20] * 10)
    generator = torch.Generator().manual_seed(0)
    centers, contexts, n = centers_and_contexts(ids, lengths, 5, generator)
    noise = negatives(contexts, n, torch.ones(50), 5, generator)
    pairs = pack_pairs(centers, contexts, n, noise, 5)
    picked = [3, 17, 0, 42, 199]
    ours = SkipGramBatches(pairs).__getitems__(picked)
    rows = [(int(centers[i]), contexts[i, :n[i]].tolist(), noise[i, :5 * n[i]].tolist()) for i in picked]
    for got, expected in zip(ours, _book_batchify(rows)):
        assert torch.equal(got, expected.to(got.dtype))


def _datamodule(tmp_path, monkeypatch, **kwargs) -> PTBDataModule:
    text_fakes.install_ptb(tmp_path, monkeypatch)
    return PTBDataModule(data_dir=str(tmp_path), **kwargs)


def test_the_same_seed_gives_the_same_pairs_and_negatives(tmp_path, monkeypatch):
    first, _ = _datamodule(tmp_path, monkeypatch, seed=3).build_pairs("train")
    second, _ = PTBDataModule(data_dir=str(tmp_path), seed=3).build_pairs("train")
    other, _ = PTBDataModule(data_dir=str(tmp_path), seed=4).build_pairs("train")
    assert torch.equal(first.contexts_negatives, second.contexts_negatives)
    assert torch.equal(first.centers, second.centers)
    assert not torch.equal(first.contexts_negatives[:200], other.contexts_negatives[:200])


def test_the_datamodule_serves_the_books_batches_for_every_split(tmp_path, monkeypatch, capsys):
    dm = _datamodule(tmp_path, monkeypatch, batch_size=16, min_count=5)
    assert dm.vocab[:3] == ["the", "<unk>", "N"]  # available before setup, for the CLI's link into the model
    dm.prepare_data()
    dm.setup("fit")
    dm.setup("test")
    centers, contexts_negatives, masks, labels = next(iter(dm.train_dataloader()))
    assert centers.shape == (16, 1) and contexts_negatives.shape == masks.shape == labels.shape
    assert contexts_negatives.shape[1] <= 60 and (labels <= masks).all() and centers.dtype == torch.long
    used = masks.sum(1)
    assert torch.equal(used, labels.sum(1) * 6)  # K = 5 noise words per context word
    for loader in (dm.val_dataloader(), dm.test_dataloader()):
        assert len(next(iter(loader))) == 4


def test_offline_without_ptb_the_error_names_file_urls_checksum_and_folder(tmp_path):
    dm = PTBDataModule(data_dir=str(tmp_path / "empty"))
    with pytest.raises(DataUnavailableError) as info:
        dm.prepare_data()
    message = str(info.value)
    assert PTB.filename in message and PTB.urls[0] in message and PTB.checksum in message
    assert str(tmp_path / "empty") in message


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="PTBDataModule: batch_size must be >= 1, got 0"):
        PTBDataModule(batch_size=0)
    with pytest.raises(ConfigError, match="subsample_t must be >= 0"):
        PTBDataModule(subsample_t=-1)


@pytest.mark.mirror
def test_the_real_ptb_gives_the_books_counts():
    """Book 10.3.1: 42,068 sentences; 887,100 tokens with count >= 5; about 375,875 after subsampling; "the" 50,770
    before (about 2,013 after in the book's draw; the expected value is 2,122); "join" keeps its 45; first batch
    shapes (512, 1) and (512, 60)."""
    dm = PTBDataModule()
    dm.prepare_data()
    pairs, stats = dm.build_pairs("train")
    assert (stats["sentences"], stats["tokens"], len(dm.vocab)) == (42_068, 887_100, 9_858)
    assert abs(stats["subsampled"] - 375_875) < 0.005 * 375_875
    assert stats["examples"]["the"][0] == 50_770 and 1_950 < stats["examples"]["the"][1] < 2_300
    assert stats["examples"]["join"] == (45, 45)
    batch = SkipGramBatches(pairs).__getitems__(list(range(512)))
    assert [tuple(t.shape) for t in batch] == [(512, 1), (512, 60), (512, 60), (512, 60)]


def test_the_recipe_offline_without_ptb_fails_at_once_with_the_message(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "ZOO_DATA_DIR": str(tmp_path / "cache"), "ZOO_OFFLINE": "1"}
    env.pop("ZOO_DATA_MIRROR", None)
    out = subprocess.run([sys.executable, "-m", "zoo", "recipe", "skipgram_ptb"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"\nerror: cannot obtain ptb.zip (sha1 {PTB.checksum})" in out.stderr
    assert PTB.urls[0] in out.stderr and str(tmp_path / "cache") in out.stderr
