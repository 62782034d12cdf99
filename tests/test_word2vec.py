"""word2vec (book 10.3): the masked loss, the skip-gram scores and their gradients, training through the recipe,
and the trained vectors used afterwards (similar words, export, the command line)."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from tests import text_fakes
from tests.conftest import REPO
from tests.examples import EXAMPLES, save_checkpoint
from zoo import SkipGram, load_task
from zoo.cli import main
from zoo.errors import ConfigError
from zoo.nets.skip_gram import SkipGramNet, skip_gram_scores
from zoo.ops.losses import masked_sigmoid_bce
from zoo.pretrained.word_vectors import WordVectors


def test_the_books_loss_sanity_check():
    """Book 10.3.5.1: ``loss(pred, label, mask) * mask.shape[1] / mask.float().sum(dim=1)`` -> [0.8740, 1.2100]."""
    pred = torch.tensor([[1.5, 0.3, -1, 2], [1.1, -0.6, 2.2, 0.4]])
    label = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    assert masked_sigmoid_bce(pred, label, mask).tolist() == pytest.approx([0.8740, 1.2100], abs=5e-5)
    book = F.binary_cross_entropy_with_logits(pred, label.float(), weight=mask.float(), reduction="none").mean(1)
    assert torch.allclose(masked_sigmoid_bce(pred, label, mask), book * 4 / mask.sum(1))


def test_skip_gram_scores_equal_the_books_bmm_and_have_correct_gradients():
    generator = torch.Generator().manual_seed(0)
    centers, words = torch.randint(0, 9, (4, 1), generator=generator), torch.randint(0, 9, (4, 6), generator=generator)
    v = torch.randn(9, 5, dtype=torch.double, requires_grad=True)
    u = torch.randn(9, 5, dtype=torch.double, requires_grad=True)
    book = torch.bmm(F.embedding(centers, v), F.embedding(words, u).permute(0, 2, 1))  # (B, 1, L), book 10.3.4.3
    assert torch.allclose(skip_gram_scores(centers, words, v, u), book.squeeze(1))
    assert torch.autograd.gradcheck(lambda a, b: skip_gram_scores(centers, words, a, b), (v, u))
    net = SkipGramNet(9, 5)
    assert net(centers, words).shape == (4, 1, 6) and net.word_vectors().shape == (9, 5)


def test_skip_gram_needs_a_vocabulary():
    with pytest.raises(ConfigError, match="SkipGram needs the vocabulary"):
        SkipGram()


@pytest.fixture
def trained(tmp_path, monkeypatch, capsys):
    """The recipe, 2 epochs on a fake PTB in the real format; returns (run folder, printed output)."""
    text_fakes.install_ptb(tmp_path / "data", monkeypatch)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "skipgram_ptb", "--trainer.max_epochs=2", "--data.init_args.batch_size=32",
              f"--data.init_args.data_dir={tmp_path / 'data'}", "--model.init_args.embed_size=16",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    return tmp_path / "runs" / "version_0", capsys.readouterr().out


def test_the_recipe_trains_reports_neighbours_and_exports_the_vectors(trained):
    run, out = trained
    assert "PTB train: 300 sentences" in out and "centre/context pairs" in out
    assert "nearest to 'chip':" in out and out.count("cosine sim=") == 3
    with open(run / "metrics.csv", newline="") as f:
        losses = [float(r["train/loss"]) for r in csv.DictReader(f) if r["train/loss"]]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert (run / "neighbours.txt").read_text(encoding="utf-8").startswith("nearest to 'chip':")
    model = load_task(run / "checkpoints" / "last.ckpt")
    assert isinstance(model, SkipGram) and model.vocab[:3] == ["the", "<unk>", "N"]  # the vocabulary travels
    exported = WordVectors.load(run / "word_vectors.txt")
    assert exported.tokens == model.vocab
    assert torch.allclose(exported.vectors, model.net.center.weight.detach(), atol=1e-4)
    assert model.similar("chip", 3) == WordVectors.load(run / "checkpoints" / "last.ckpt").similar("chip", 3)


def test_python_m_zoo_similar_with_a_checkpoint_prints_the_runs_neighbours(trained):
    run, out = trained
    cli = subprocess.run([sys.executable, "-m", "zoo", "similar", "--ckpt", str(run / "checkpoints" / "last.ckpt"),
                          "chip"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    printed = [line.strip() for line in out.splitlines() if line.strip().startswith("cosine sim=")]
    assert [line.strip() for line in cli.stdout.splitlines()[1:]] == printed
    analogy = subprocess.run([sys.executable, "-m", "zoo", "analogy", "--ckpt", str(run / "checkpoints" / "last.ckpt"),
                              "the", "of", "to"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert analogy.returncode == 0 and analogy.stdout.startswith("the : of :: to : "), analogy.stderr


def test_similar_with_a_checkpoint_of_another_model_is_refused(tmp_path):
    save_checkpoint(EXAMPLES["LeNet"]()[0], tmp_path / "lenet.ckpt")
    with pytest.raises(ConfigError, match="holds a LeNet, which has no word vectors"):
        WordVectors.load(tmp_path / "lenet.ckpt")


@pytest.mark.mirror
def test_the_first_epoch_on_the_real_ptb_matches_the_book(tmp_path):
    """Book 10.3.5.3: "epoch 1, loss 1.97" (Adam 0.01, batch 512, embeddings of 100)."""
    with pytest.raises(SystemExit) as done:
        main(["recipe", "skipgram_ptb", "--trainer.max_epochs=1", "--trainer.limit_val_batches=0",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    with open(tmp_path / "runs" / "version_0" / "metrics.csv", newline="") as f:
        loss = [float(r["train/loss"]) for r in csv.DictReader(f) if r["train/loss"]][-1]
    assert loss == pytest.approx(1.97, abs=0.02)
