"""Sentiment classifiers (book 10.7, 10.8): the networks against the book's definitions, pretrained embeddings, the
recipes end to end on the real archive layout, and classifying text from a checkpoint."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import datamodules.imdb as imdb
from tests import text_fakes
from tests.conftest import REPO
from tests.examples import EXAMPLES, TEXT_VOCAB, save_checkpoint
from zoo import BiRNN, TextCNN, load_task
from zoo.cli import main
from zoo.errors import ConfigError, DataUnavailableError, PromptError
from zoo.nets.birnn import BiRNNNet
from zoo.nets.textcnn import TextCNNNet
from zoo.ops.convolution import corr1d, corr1d_multi_in


def test_the_books_one_dimensional_cross_correlations():
    """Book 10.8.1: tensor([2., 5., 8., 11., 14., 17.]) and, with 3 input channels, tensor([2., 8., ..., 32.])."""
    assert corr1d(torch.tensor([0, 1, 2, 3, 4, 5, 6]), torch.tensor([1, 2])).tolist() == [2, 5, 8, 11, 14, 17]
    x = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7], [2, 3, 4, 5, 6, 7, 8]])
    k = torch.tensor([[1, 2], [3, 4], [-1, -3]])
    assert corr1d_multi_in(x, k).tolist() == [2, 8, 14, 20, 26, 32]
    assert torch.equal(corr1d_multi_in(x, k), F.conv1d(x[None].float(), k[None].float())[0, 0])


def test_birnn_reads_the_first_and_last_steps_as_the_book():
    torch.manual_seed(0)
    net = BiRNNNet(12, 8, 6, 2).eval()
    tokens = torch.randint(0, 12, (3, 9))
    outputs, _ = net.encoder(net.embedding(tokens.T))  # (T, B, 2H), as the book's forward
    expected = net.decoder(torch.cat((outputs[0], outputs[-1]), -1))
    assert net(tokens).shape == (3, 2) and torch.allclose(net(tokens), expected)


def test_packed_birnn_equals_each_review_read_alone():
    torch.manual_seed(0)
    net = BiRNNNet(12, 8, 6, 2, packed=True).eval()
    tokens, lengths = torch.randint(2, 12, (3, 9)), torch.tensor([9, 4, 1])
    batch = net(tokens, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = BiRNNNet.forward(net, tokens[i:i + 1, :n])  # no padding at all
        assert torch.allclose(batch[i], alone[0], atol=1e-6)


def test_textcnn_is_the_books_network_with_a_fixed_second_embedding():
    torch.manual_seed(0)
    net = TextCNNNet(12, 8, (3, 4, 5), (4, 4, 4)).eval()
    tokens = torch.randint(0, 12, (2, 9))
    emb = torch.cat((net.embedding(tokens), net.constant_embedding(tokens)), dim=2).permute(0, 2, 1)
    pooled = [F.max_pool1d(F.relu(conv(emb)), kernel_size=conv(emb).shape[2]).squeeze(-1) for conv in net.convs]
    assert torch.allclose(net(tokens), net.decoder(torch.cat(pooled, dim=1)))
    assert not net.constant_embedding.weight.requires_grad and net.embedding.weight.requires_grad
    assert net(torch.tensor([[3, 4]])).shape == (1, 2)  # shorter than the widest kernel: padded


def _glove_file(tmp_path, words, dim=8):
    vectors = torch.arange(len(words) * dim, dtype=torch.float32).view(len(words), dim)
    return text_fakes.write_vector_text(tmp_path / "vec.txt", words, vectors), vectors


def test_pretrained_vectors_fill_every_table_and_unknown_words_start_at_zero(tmp_path, capsys):
    path, vectors = _glove_file(tmp_path, ["a", "b", "zz"])
    model = TextCNN(vocab=TEXT_VOCAB, embed_size=8, num_channels=(4, 4, 4), embedding=str(path))
    assert "not loaded yet" in model.initial_embedding and capsys.readouterr().out == ""  # building reads nothing
    model.load_pretrained()
    assert "2 of 12 vocabulary words found in" in capsys.readouterr().out
    for table in (model.net.embedding, model.net.constant_embedding):
        assert torch.equal(table.weight[TEXT_VOCAB.index("a")], vectors[0])
        assert torch.equal(table.weight[TEXT_VOCAB.index("c")], torch.zeros(8))
    frozen = BiRNN(vocab=TEXT_VOCAB, embed_size=8, num_hiddens=4, embedding=str(path), freeze_embedding=True)
    optimized = {id(p) for g in frozen.configure_optimizers().param_groups for p in g["params"]}
    assert not frozen.net.embedding.weight.requires_grad and id(frozen.net.embedding.weight) not in optimized


def test_embedding_errors_say_what_to_do(tmp_path):
    path, _ = _glove_file(tmp_path, ["a"], dim=5)
    with pytest.raises(ConfigError, match="has 5-dimensional vectors, but BiRNN's embedding has 8; set embed_size: 5"):
        BiRNN(vocab=TEXT_VOCAB, embed_size=8, embedding=str(path)).load_pretrained()
    with pytest.raises(DataUnavailableError, match="(?s)glove.6B.100d.zip.*--model.init_args.embedding random"):
        BiRNN(vocab=TEXT_VOCAB, embedding="glove.6B.100d").load_pretrained()
    with pytest.raises(ConfigError, match="needs a vocabulary with <pad> and <unk>"):
        BiRNN(vocab=["a", "b"])


def test_a_model_learns_the_sentiment_words_end_to_end(tmp_path, monkeypatch):
    """Fake reviews whose label shows only in a few sentiment words: the pipeline must keep texts and labels paired."""
    text_fakes.install_imdb(tmp_path / "data", monkeypatch, n_train=400, n_test=100)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "textcnn_imdb", "--trainer.max_epochs=4", "--model.init_args.embedding=random",
              "--model.init_args.num_channels=[16,16,16]", "--model.init_args.lr=0.01", "--data.init_args.max_len=80",
              f"--data.init_args.data_dir={tmp_path / 'data'}", f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    with open(tmp_path / "runs" / "version_0" / "metrics.csv", newline="") as f:
        accuracy = [float(r["test/acc"]) for r in csv.DictReader(f) if r["test/acc"]][-1]
    assert accuracy > 0.9
    model = load_task(tmp_path / "runs" / "version_0" / "checkpoints" / "last.ckpt")
    (positive,), (negative,) = model.classify(["a wonderful brilliant film", "an awful boring waste"])
    assert positive[0] == "positive" and negative[0] == "negative"


@pytest.fixture
def trained_birnn(tmp_path, monkeypatch, capsys):
    """``make recipe NAME=birnn_imdb ARGS="--trainer.max_epochs 2"`` with a mirror holding a real-layout
    aclImdb_v1.tar.gz and a small glove.6B.100d.zip (checksums switched off, as for any reduced copy)."""
    mirror = tmp_path / "mirror"
    text_fakes.write_imdb_tar(mirror / imdb.IMDB.filename, {"train": text_fakes.imdb_reviews(48),
                                                             "test": text_fakes.imdb_reviews(16, 1)})
    glove = text_fakes.install_glove_100d(tmp_path, monkeypatch)
    glove.rename(mirror / glove.name)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    with pytest.raises(SystemExit) as done:
        main(["recipe", "birnn_imdb", "--trainer.max_epochs", "2", "--data.init_args.min_freq=1",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    return tmp_path / "runs" / "version_0", capsys.readouterr().out


def test_the_birnn_recipe_trains_reports_accuracy_and_classifies(trained_birnn):
    trained_birnn, out = trained_birnn
    assert "vocabulary words found in glove.6B.100d" in out and "test/acc" in out and "train/acc" in out
    assert "initial embedding: glove.6B.100d" in out and ": this movie is so great" in out
    checkpoint = trained_birnn / "checkpoints" / "last.ckpt"
    cli = subprocess.run([sys.executable, "-m", "zoo", "classify-text", "--ckpt", str(checkpoint),
                          "this movie is so great", "this movie is so bad"], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "ZOO_DATA_DIR": str(trained_birnn / "nothing")})
    assert cli.returncode == 0, cli.stderr  # no GloVe needed: the checkpoint holds the embedding
    lines = cli.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("'this movie is so great': ")
    assert lines[0].split(": ")[1].split()[0] in ("positive", "negative")


def test_python_m_zoo_predict_prints_a_label_per_text(trained_birnn, capsys):
    run, _ = trained_birnn
    main(["predict", "--config", str(REPO / "recipes" / "birnn_imdb.yaml"), "--data.init_args.min_freq=1",
          "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), f"--trainer.default_root_dir={run.parent}",
          "--data.init_args.predict_texts", '["this movie is so great", "this movie is so bad"]'])
    lines = [line for line in capsys.readouterr().out.splitlines() if ": this movie is so" in line]
    assert len(lines) == 2 and lines[1].endswith(": this movie is so bad")


def test_classify_text_errors_are_one_line_and_exit_1(tmp_path):
    save_checkpoint(EXAMPLES["LeNet"]()[0], tmp_path / "lenet.ckpt")
    text_model = BiRNN(vocab=TEXT_VOCAB, embed_size=8, num_hiddens=4)
    save_checkpoint(text_model, tmp_path / "birnn.ckpt")
    for args, message in [
        (("--ckpt", str(tmp_path / "birnn.ckpt"), "   "), "error: the text is empty"),
        (("--ckpt", str(tmp_path / "missing.ckpt"), "great"), "error: checkpoint"),
        (("--ckpt", str(tmp_path / "lenet.ckpt"), "great"), f"error: {tmp_path / 'lenet.ckpt'} holds a LeNet"),
    ]:
        out = subprocess.run([sys.executable, "-m", "zoo", "classify-text", *args], cwd=REPO, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 1 and out.stderr.startswith(message) and "Traceback" not in out.stderr, out.stderr
    with pytest.raises(PromptError, match="no text to classify"):
        text_model.classify([])


@pytest.mark.mirror
def test_the_recipe_on_the_real_sample_repacked_as_the_real_archive(tmp_path, monkeypatch):
    """Must-hold of the IMDb issue: the 40 real reviews in the real layout, a small GloVe-format file, 2 epochs."""
    mirror = tmp_path / "mirror"
    text_fakes.repack_tiny_imdb(REPO.parent / "shared" / "data" / "aclImdb_tiny.zip", mirror / imdb.IMDB.filename)
    glove = text_fakes.install_glove_100d(tmp_path, monkeypatch)
    glove.rename(mirror / glove.name)
    monkeypatch.setenv("ZOO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZOO_VERIFY_CHECKSUMS", "0")
    for recipe in ("birnn_imdb", "textcnn_imdb"):
        with pytest.raises(SystemExit) as done:
            main(["recipe", recipe, "--trainer.max_epochs", "2", f"--trainer.default_root_dir={tmp_path / recipe}"])
        assert done.value.code == 0
        model = load_task(tmp_path / recipe / "version_0" / "checkpoints" / "last.ckpt")
        assert len(model.classify(["this movie is so great", "this movie is so bad"])) == 2
