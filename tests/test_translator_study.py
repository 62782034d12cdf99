"""The layers tutorial's translator comparison: its line-aligned data with a frozen vector file, the four
position-by-position translators, and the command that trains them and draws the tutorial's figures."""

from __future__ import annotations

import csv

import pytest
import torch

from datamodules.parallel_text import ParallelTextDataModule
from tests import text_fakes
from zoo import PositionwiseTranslator
from zoo.errors import ConfigError, DataError, DataUnavailableError
from zoo.nets.positionwise_translator import PositionwiseTranslatorNet
from zoo.studies.translator_study import translator_study_command


@pytest.fixture
def folder(tmp_path):
    return text_fakes.write_seed000_files(tmp_path / "translation")


def test_the_seed_files_and_vectors_are_read_as_the_seed_does(folder):
    dm = ParallelTextDataModule(str(folder), max_len=6, batch_size=2, steps=5, eval_size=3)
    vocab = dm.vocab
    assert vocab[0] == "" and vocab[-1] == "<unk>" and "habitaci'on" in vocab  # pad first, file words, <unk> last
    dm.setup("fit")
    src, tgt = dm.train_set.tensors
    assert src.shape == tgt.shape == (4, 6)
    first = [vocab[i] for i in src[0]]
    assert first == ["por", "favor", ",", "una", "habitaci'on", "."]  # cut at max_len 6
    assert [vocab[i] for i in tgt[1]] == ["I", "am", "leaving", "today", ".", ""]  # padded with the empty word
    test_src, _ = dm.eval_set.tensors
    assert vocab.index("<unk>") in test_src.tolist()[0] + test_src.tolist()[1] + test_src.tolist()[2] \
        or len(test_src) == 3
    assert len(list(dm.train_dataloader())) == 5  # batches drawn with replacement, `steps` an epoch


def test_parallel_text_errors_name_the_file(tmp_path, folder):
    (folder / "test-en.txt").write_text("only one line\n", encoding="utf-8")
    with pytest.raises(DataError, match="test-es.txt and test-en.txt have 3 and 1 lines"):
        ParallelTextDataModule(str(folder)).setup()
    with pytest.raises(DataUnavailableError, match="training-es.txt does not exist"):
        _ = ParallelTextDataModule(str(tmp_path / "nothing"), embedding_file=None).vocab
    with pytest.raises(DataUnavailableError, match="embedding_128.txt does not exist"):
        _ = ParallelTextDataModule(str(tmp_path / "nothing")).vocab


def test_the_frozen_vectors_and_the_four_cells(folder):
    dm = ParallelTextDataModule(str(folder), max_len=6)
    for cell in ("rnn", "lstm", "gru", "dnn"):
        model = PositionwiseTranslator(cell=cell, vocab=dm.vocab, word_vectors=dm.word_vectors, max_len=6,
                                       embed_size=8, hidden_size=5).load_pretrained()
        table = model.net.embedding.weight
        assert not table.requires_grad and table[0].abs().sum() == 0 and table[1].abs().sum() > 0
        out = model(torch.randint(0, len(dm.vocab), (3, 6)))
        assert out.shape == (3, 6, len(dm.vocab)) and torch.allclose(out.exp().sum(-1), torch.ones(3, 6))
    with pytest.raises(ConfigError, match="has 8-dimensional vectors, not 128"):
        PositionwiseTranslator(vocab=dm.vocab, word_vectors=dm.word_vectors, max_len=6).load_pretrained()
    with pytest.raises(ValueError, match="cell must be rnn, lstm, gru or dnn"):
        PositionwiseTranslatorNet(5, cell="transformer")


def test_the_study_trains_the_four_and_writes_one_png(folder, tmp_path, capsys):
    out = tmp_path / "study" / "translators.png"
    assert translator_study_command(["--data-dir", str(folder), "--embedding-file", "embedding_128.txt", "--steps",
                                     "20", "--eval-every", "10", "--out", str(out), "--cells", "gru", "dnn"]) == 0
    printed = capsys.readouterr().out
    assert "GRU: loss " in printed and "DNN: loss " in printed and out.is_file() and out.stat().st_size > 5000
    with open(tmp_path / "study" / "gru" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len([r for r in rows if r["train/loss"]]) == 20 and len([r for r in rows if r["val/bleu"]]) == 2
    with pytest.raises(ConfigError, match="--steps and --eval-every must be >= 1"):
        translator_study_command(["--steps", "0"])
