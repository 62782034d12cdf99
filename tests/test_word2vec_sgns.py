"""word2vec.c's way of training skip-gram (recipe skipgram_sgns_ptb): its data pipeline checked by hand on toy
corpora (subsampling, windows, the unigram^0.75 noise table, epochs drawn again), the hand-written gradient against
autograd, the sparse update (only the batch's rows move), the linear decay of the rate, a short run on a real slice of
PTB, and the checkpoint read by ``python -m zoo similar``."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from datamodules.ptb import (
    EpochSampler,
    PTBDataModule,
    SkipGramEpochs,
    keep_probability,
    noise_groups,
    skip_gram_pairs,
    subsample,
    unigram_table,
)
from tests import text_fakes
from tests.conftest import REPO
from tests.fakes import point_resource_at
from zoo import SkipGramSGNS, load_task
from zoo.cli import main
from zoo.errors import ConfigError
from zoo.nets.skip_gram import SGNSNet, sgns_loss, sgns_rows
from zoo.pretrained.word_vectors import WordVectors

VOCAB = [f"w{i}" for i in range(12)]


# ---------------------------------------------------------------- the pipeline, by hand
def test_word2vec_c_keeps_a_token_with_probability_sqrt_f_over_t_plus_1_times_t_over_f():
    counts = torch.tensor([900_000, 90_000, 9_000, 1_000])  # f = 0.9, 0.09, 0.009, 0.001; t = 1e-3: f/t = 900, 90, 9, 1
    keep = keep_probability(counts, 1e-3, "word2vec_c")
    by_hand = [(30 + 1) / 900, (90**0.5 + 1) / 90, (3 + 1) / 9, 1.0]  # (sqrt(f/t) + 1) t/f, at most 1
    assert keep.tolist() == pytest.approx(by_hand, rel=1e-12)
    assert keep_probability(counts, 1e-3).tolist() == pytest.approx([(1 / 900) ** 0.5, (1 / 90) ** 0.5, 1 / 3, 1.0])
    ids = torch.repeat_interleave(torch.arange(4), counts)
    kept, lengths = subsample(ids, torch.full((1000,), 1000), counts, 1e-3, torch.Generator().manual_seed(0),
                              rule="word2vec_c")
    got = torch.bincount(kept, minlength=4).double()
    assert torch.allclose(got, torch.tensor(by_hand, dtype=torch.float64) * counts, rtol=0.03)  # > 5 sd each
    assert got[3] == 1_000 and lengths.sum() == len(kept)
    with pytest.raises(ConfigError, match="rule must be 'book' or 'word2vec_c'"):
        keep_probability(counts, 1e-3, "gensim")


def test_the_noise_table_gives_each_word_its_count_to_the_075_share_of_slots():
    counts = torch.tensor([16, 81, 1, 256])  # ^0.75: 8, 27, 1, 64 of 100
    table = unigram_table(counts, size=1000)
    assert table.dtype == torch.int16 and len(table) == 1000
    assert torch.bincount(table.long(), minlength=4).tolist() == [80, 270, 10, 640]
    assert table[:80].eq(0).all() and table[-640:].eq(3).all()  # runs in vocabulary order, as word2vec.c's
    assert torch.bincount(unigram_table(counts, power=1.0, size=354).long()).tolist() == [16, 81, 1, 256]
    drawn = noise_groups(table, 20_000, 5, torch.Generator().manual_seed(0))
    assert drawn.shape == (20_000, 5) and drawn.dtype == torch.long
    share = torch.bincount(drawn.flatten(), minlength=4).double() / drawn.numel()
    assert torch.allclose(share, torch.tensor([0.08, 0.27, 0.01, 0.64], dtype=torch.float64), atol=0.005)


def test_pairs_are_every_context_within_the_centres_window():
    """The book's tiny dataset (sentences [0..6] and [7, 8, 9]): a pair is (context, centre), contexts stay in their
    sentence, every centre's window is one number in 1..2 and it keeps all the words within it."""
    ids, lengths = torch.arange(10), torch.tensor([7, 3])
    windows = set()
    for seed in range(20):
        inputs, targets = skip_gram_pairs(ids, lengths, 2, torch.Generator().manual_seed(seed))
        offsets = (inputs - targets).tolist()
        assert offsets == sorted(offsets, key=lambda o: (abs(o), o))  # by offset: -1, +1, -2, +2
        for centre in range(10):
            contexts = sorted(inputs[targets == centre].tolist())
            sentence = range(7) if centre < 7 else range(7, 10)
            window = max(abs(c - centre) for c in contexts)
            windows.add(window)
            assert contexts == [w for w in sentence if 0 < abs(w - centre) <= window]
    assert windows == {1, 2}
    inputs, targets = skip_gram_pairs(ids, lengths, 1)
    assert sorted(zip(targets.tolist(), inputs.tolist())) == [
        (0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (5, 4), (5, 6), (6, 5),
        (7, 8), (8, 7), (8, 9), (9, 8)]
    inputs, targets = skip_gram_pairs(torch.tensor([4, 5, 6]), torch.tensor([1, 2]), 5)  # one-word sentence: none
    assert sorted(zip(targets.tolist(), inputs.tolist())) == [(5, 6), (6, 5)]


def _epochs(sharing: int = 4, batch_size: int = 64, seed: int = 0, redraw: bool = True) -> SkipGramEpochs:
    generator = torch.Generator().manual_seed(5)
    counts = torch.tensor([400, 200, 100, 80, 60, 50, 40, 30, 20, 10, 6, 4])
    ids = torch.multinomial(counts.double(), 1000, replacement=True, generator=generator)
    lengths = torch.tensor([20] * 50)
    return SkipGramEpochs(ids, lengths, keep_probability(counts, 0.05, "word2vec_c"), unigram_table(counts), 3, 5,
                          sharing, batch_size, seed, redraw)


def test_epochs_are_drawn_again_the_same_for_the_same_seed_and_epoch_with_a_fixed_number_of_batches():
    epochs = _epochs()
    first = [epochs[0, b] for b in range(len(epochs))]
    n = len(epochs)
    assert n > 10 and all(len(i) == len(t) == 4 * len(z) for i, t, z in first)
    assert all(abs(len(i) - 64) <= 4 for i, _, _ in first) and all(z.shape[1] == 5 for _, _, z in first)
    again = _epochs()  # a resumed run asks for epoch 1 first: the same batches as the uninterrupted run's
    assert all(torch.equal(x, y) for b in range(n) for x, y in zip(epochs[1, b], again[1, b]))
    second = [epochs[1, b] for b in range(n)]
    assert len(epochs) == n and not torch.equal(first[0][0], second[0][0])  # drawn again
    assert not torch.equal(_epochs(seed=1)[0, 0][0], first[0][0])
    held_out = _epochs(redraw=False)
    assert all(torch.equal(x, y) for x, y in zip(held_out[0, 3], held_out[7, 3]))
    sampler = EpochSampler(epochs)  # a plain loop: every pass is the next epoch; Lightning names it
    assert list(sampler)[0] == (0, 0) and list(sampler)[0] == (1, 0)
    sampler.set_epoch(5)
    assert list(sampler)[-1] == (5, n - 1) and len(sampler) == n
    with pytest.raises(IndexError):
        epochs[0, n]


def test_the_datamodule_serves_word2vec_c_batches_and_keeps_the_books_pipeline_the_default(tmp_path, monkeypatch,
                                                                                             capsys):
    text_fakes.install_ptb(tmp_path, monkeypatch)
    dm = PTBDataModule(data_dir=str(tmp_path), pipeline="word2vec_c", subsample_t=1e-3, batch_size=64,
                       noise_sharing=8)
    dm.prepare_data()
    dm.setup("fit")
    assert "PTB train (word2vec.c's pipeline)" in capsys.readouterr().out and not dm.pairs
    loader = dm.train_dataloader()
    first = list(loader)
    second = list(loader)  # a plain loop: the next epoch, drawn again
    assert len(first) == len(second) == len(loader) > 5
    inputs, targets, noise = first[0]
    assert inputs.shape == targets.shape and len(inputs) == 8 * len(noise) and noise.shape[1] == 5
    assert abs(len(inputs) - 64) <= 8 and inputs.dtype == targets.dtype == noise.dtype == torch.long
    assert not torch.equal(first[0][0], second[0][0])
    valid = dm.val_dataloader()
    assert all(torch.equal(a[0], b[0]) for a, b in zip(valid, valid))  # held-out text: drawn once
    assert PTBDataModule(data_dir=str(tmp_path)).hparams.pipeline == "book"
    with pytest.raises(ConfigError, match="pipeline must be one of book, word2vec_c, got 'gensim'"):
        PTBDataModule(pipeline="gensim")
    with pytest.raises(ConfigError, match="noise_sharing must be >= 1"):
        PTBDataModule(noise_sharing=0)


# ---------------------------------------------------------------- the model
def test_the_hand_written_gradient_equals_autograds():
    generator = torch.Generator().manual_seed(0)
    w_in = torch.randn(9, 4, dtype=torch.double, generator=generator, requires_grad=True)
    w_out = torch.randn(9, 4, dtype=torch.double, generator=generator, requires_grad=True)
    inputs, targets = torch.randint(0, 9, (6,), generator=generator), torch.randint(0, 9, (6,), generator=generator)
    noise = torch.randint(0, 9, (2, 3), generator=generator)  # pairs 0-2 share row 0, pairs 3-5 row 1
    negative = torch.stack([w_in[inputs[i]] @ w_out[noise[i // 3]].T for i in range(6)])
    loss = -(F.logsigmoid((w_in[inputs] * w_out[targets]).sum(1)).sum() + F.logsigmoid(-negative).sum())
    loss.backward()
    rows = sgns_rows(w_in.detach(), w_out.detach(), inputs, targets, noise, scale=-0.5)
    assert rows.loss.item() == pytest.approx(loss.item())
    assert sgns_loss(w_in.detach(), w_out.detach(), inputs, targets, noise).item() == pytest.approx(loss.item())
    got_in = torch.zeros_like(w_in).index_add_(0, rows.input_rows, rows.input_update)
    got_out = torch.zeros_like(w_out).index_add_(0, rows.output_rows, rows.output_update)
    assert torch.allclose(got_in, -0.5 * w_in.grad) and torch.allclose(got_out, -0.5 * w_out.grad)


def test_the_network_starts_as_word2vec_c_and_needs_no_autograd():
    torch.manual_seed(0)
    net = SGNSNet(50, 10)
    assert net.input.weight.abs().max() <= 0.05 and net.input.weight.std() > 0.02  # uniform in +-0.5 / D
    assert net.output.weight.eq(0).all()
    assert not any(p.requires_grad for p in net.parameters()) and net.word_vectors_key == "input.weight"


class _Record(L.Callback):
    """The rate of every batch, and the tables before the first one."""

    def __init__(self) -> None:
        self.rates: list[float] = []
        self.before: dict[str, torch.Tensor] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if not self.before:
            self.before = {k: v.clone() for k, v in pl_module.net.state_dict().items()}
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


def _fit(model, batches, epochs: int, **trainer):
    record = _Record()
    L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, accelerator="cpu", callbacks=[record], **trainer).fit(
        model, DataLoader(batches, batch_size=None))
    return record


@pytest.mark.parametrize("threads", [1, 2])
def test_one_step_moves_only_the_rows_of_the_batch_by_lr_times_the_gradient(threads):
    torch.manual_seed(0)
    model = SkipGramSGNS(vocab=VOCAB, embed_size=6, lr=0.5, threads=threads)
    with torch.no_grad():
        model.net.output.weight.normal_()  # word2vec.c starts them at 0: no gradient would reach the input rows
    inputs, targets, noise = torch.tensor([0, 3, 0, 5]), torch.tensor([1, 2, 1, 4]), torch.tensor([[6, 7], [2, 8]])
    record = _fit(model, [(inputs, targets, noise)], 1)
    before, after = record.before, model.net.state_dict()
    moved_in = (after["input.weight"] != before["input.weight"]).any(1).nonzero().flatten().tolist()
    moved_out = (after["output.weight"] != before["output.weight"]).any(1).nonzero().flatten().tolist()
    assert moved_in == [0, 3, 5] and moved_out == [1, 2, 4, 6, 7, 8]  # words 9-11 and the others stay put
    expected = sgns_rows(before["input.weight"], before["output.weight"], inputs, targets, noise, scale=-0.5)
    assert torch.allclose(after["input.weight"] - before["input.weight"],
                          torch.zeros(12, 6).index_add_(0, expected.input_rows, expected.input_update), atol=1e-6)
    assert torch.allclose(after["output.weight"] - before["output.weight"],
                          torch.zeros(12, 6).index_add_(0, expected.output_rows, expected.output_update), atol=1e-6)


def test_the_rate_decays_linearly_per_batch_to_lr_times_min_lr_ratio():
    torch.manual_seed(0)
    model = SkipGramSGNS(vocab=VOCAB, embed_size=4, lr=0.025, min_lr_ratio=0.05)
    batch = (torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[4, 5]]))
    record = _fit(model, [batch] * 10, 3)  # 30 batches: 0.025 (1 - s / 30), from batch 29 on at least 0.05 x 0.025
    expected = [0.025 * max(0.05, 1 - s / 30) for s in range(30)]
    assert record.rates == pytest.approx(expected, rel=1e-9)
    assert record.rates[1] - record.rates[0] == pytest.approx(-0.025 / 30) and record.rates[-1] == 0.025 * 0.05
    with pytest.raises(ConfigError, match="min_lr_ratio must be in"):
        SkipGramSGNS(vocab=VOCAB, min_lr_ratio=1.5)


def test_training_without_an_end_is_refused():
    model = SkipGramSGNS(vocab=VOCAB, embed_size=4)
    batch = (torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[4, 5]]))
    with pytest.raises(ConfigError, match="learning rate decays over the whole run"):
        L.Trainer(max_epochs=-1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                  accelerator="cpu").fit(model, DataLoader([batch], batch_size=None))


# ---------------------------------------------------------------- the recipe on real text
def _ptb_slice(tmp_path: Path, monkeypatch, sentences: int) -> Path:
    """The first ``sentences`` sentences of the real PTB training text (and the first 2,000 of valid and test) as a
    ptb.zip the datamodule accepts."""
    import datamodules.ptb as ptb

    real = Path(os.environ["ZOO_DATA_MIRROR"]) / "ptb.zip"
    path = tmp_path / "data" / "ptb.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(path, "w") as target:
        target.writestr("ptb/", "")
        for split, n in (("train", sentences), ("valid", 2000), ("test", 2000)):
            lines = source.read(f"ptb/ptb.{split}.txt").decode("utf-8").splitlines(keepends=True)
            target.writestr(f"ptb/ptb.{split}.txt", "".join(lines[:n]))
    point_resource_at(monkeypatch, ptb, "PTB", path)
    return path.parent


@pytest.fixture(scope="module")
def ptb_run(tmp_path_factory):
    """The recipe, 4 epochs on the first 20,000 sentences of PTB (about 10 s): (run folder, printed output)."""
    if not os.environ.get("ZOO_DATA_MIRROR"):
        pytest.skip("needs the real data files: set ZOO_DATA_MIRROR to a folder that holds them (CI does)")
    tmp_path = tmp_path_factory.mktemp("sgns")
    monkeypatch = pytest.MonkeyPatch()
    try:
        data = _ptb_slice(tmp_path, monkeypatch, 20_000)
        capture = _Capture()
        with capture, pytest.raises(SystemExit) as done:
            main(["recipe", "skipgram_sgns_ptb", "--trainer.max_epochs=4", f"--data.init_args.data_dir={data}",
                  "--model.init_args.probe_words=[monday, million]", f"--trainer.default_root_dir={tmp_path}"])
        assert done.value.code == 0
    finally:
        monkeypatch.undo()
    return tmp_path / "version_0", capture.text


class _Capture:
    """stdout of a block (a module-scoped fixture has no capsys)."""

    def __enter__(self):
        import io

        self._stdout, sys.stdout = sys.stdout, io.StringIO()
        return self

    def __exit__(self, *exc):
        self.text = sys.stdout.getvalue()
        sys.stdout = self._stdout


@pytest.mark.mirror
def test_a_short_run_on_real_text_lowers_the_loss_and_finds_related_words(ptb_run):
    run, out = ptb_run
    assert "(word2vec.c's pipeline)" in out and "drawn again every epoch" in out
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    train = [float(r["train/loss"]) for r in rows if r.get("train/loss")]
    held_out = [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    assert len(train) == 4 and all(b < a for a, b in zip(train, train[1:])), train
    assert held_out[-1] < held_out[0], held_out
    model = load_task(run / "checkpoints" / "last.ckpt")
    assert isinstance(model, SkipGramSGNS)
    days = {"tuesday", "wednesday", "thursday", "friday"}
    near = model.similar("monday", 5)  # of 6,846 words
    assert len(days & {w for w, _ in near}) >= 3, near
    untrained = SkipGramSGNS(vocab=model.vocab)
    assert not days & {w for w, _ in untrained.similar("monday", 5)}


@pytest.mark.mirror
def test_python_m_zoo_similar_and_analogy_read_the_checkpoint(ptb_run):
    run, out = ptb_run
    checkpoint = run / "checkpoints" / "last.ckpt"
    vectors = WordVectors.load(checkpoint)  # the input table, named in the checkpoint
    model = load_task(checkpoint)
    assert vectors.tokens == model.vocab and torch.equal(vectors.vectors, model.net.input.weight)
    cli = subprocess.run([sys.executable, "-m", "zoo", "similar", "--ckpt", str(checkpoint), "million"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    printed = [line.strip() for line in out.split("nearest to 'million':")[1].splitlines()[1:4]]
    assert [line.strip() for line in cli.stdout.splitlines()[1:4]] == printed
    analogy = subprocess.run([sys.executable, "-m", "zoo", "analogy", "--ckpt", str(checkpoint), "million", "billion",
                              "monday"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert analogy.returncode == 0 and analogy.stdout.startswith("million : billion :: monday : "), analogy.stderr
    exported = WordVectors.load(run / "word_vectors.txt")
    assert exported.tokens == model.vocab and torch.allclose(exported.vectors, vectors.vectors, atol=1e-4)


def test_the_recipe_trains_on_a_fake_ptb_and_its_checkpoint_answers_similar(tmp_path, monkeypatch):
    text_fakes.install_ptb(tmp_path / "data", monkeypatch)
    with pytest.raises(SystemExit) as done:
        main(["recipe", "skipgram_sgns_ptb", "--trainer.max_epochs=2", f"--data.init_args.data_dir={tmp_path / 'data'}",
              "--data.init_args.batch_size=256", "--model.init_args.embed_size=8",
              f"--trainer.default_root_dir={tmp_path / 'runs'}"])
    assert done.value.code == 0
    checkpoint = tmp_path / "runs" / "version_0" / "checkpoints" / "last.ckpt"
    assert WordVectors.load(checkpoint).similar("chip", 3) == load_task(checkpoint).similar("chip", 3)
