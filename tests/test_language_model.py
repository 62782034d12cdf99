"""The language-model task: state handling, clipping, perplexity, generation, checkpoints, errors."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from datamodules.token_windows import LanguageModelBatches
from zoo import GRULanguageModel, LSTMLanguageModel, RNNLanguageModel, load_task
from zoo.errors import ConfigError, PromptError

VOCAB = list("abcdefgh ")


def loader(sampling="consecutive", text="abcdefgh " * 60, batch_size=4, num_steps=6):
    ids = torch.tensor([VOCAB.index(c) for c in text])
    return DataLoader(LanguageModelBatches(ids, batch_size, num_steps, sampling), batch_size=None)


def trainer(tmp_path=None, **kwargs):
    defaults = dict(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False, accelerator="cpu", default_root_dir=tmp_path)
    return L.Trainer(**{**defaults, **kwargs})


def small(cls=GRULanguageModel, **kwargs):
    torch.manual_seed(0)
    args = dict(vocab=VOCAB, hidden_size=16, lr=1e-2, pred_period=0, pred_len=8, prefixes=["ab"])
    return cls(**{**args, **kwargs})


class StateSpy(torch.nn.Module):
    """Wraps the net and records whether each training call received a carried state."""

    def __init__(self, net):
        super().__init__()
        self.inner, self.calls = net, []

    def forward(self, tokens, state=None):
        if torch.is_grad_enabled():
            self.calls.append(state is not None)
        return self.inner(tokens, state)


@pytest.mark.parametrize(("sampling", "across_epochs"), [("consecutive", False), ("consecutive", True),
                                                         ("random", False), ("random", True)])
def test_state_carried_only_under_consecutive_sampling(sampling, across_epochs):
    model = small(state_across_epochs=across_epochs)
    spy = StateSpy(model.net)
    model.net = spy
    data = loader(sampling, text="abcdefgh " * 30)
    n = len(data)
    trainer(max_epochs=2).fit(model, data)
    if sampling == "random":
        assert spy.calls == [False] * 2 * n
    elif across_epochs:  # the concise loop of book 6.5.2: zeros only at the very start
        assert spy.calls == [False] + [True] * (2 * n - 1)
    else:  # the scratch loop of book 6.4.7: zeros at the start of every epoch
        assert spy.calls == ([False] + [True] * (n - 1)) * 2


def test_carried_state_is_detached():
    model = small()
    data = loader()
    trainer(limit_train_batches=2).fit(model, data)
    assert not model._state.requires_grad


def test_learns_a_repeating_pattern_and_generates_it():
    model = small(lr=5e-2, clipping_theta=1.0)
    trainer(max_epochs=40).fit(model, loader())
    assert model.trainer.callback_metrics["train/ppl"] < 1.2
    assert model.generate("abc", 12) == "abcdefgh abcdef"


@pytest.mark.parametrize("cls", [RNNLanguageModel, GRULanguageModel, LSTMLanguageModel])
@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_every_cell_and_impl_trains(cls, impl):
    model = small(cls, impl=impl, init_std=0.01 if impl == "scratch" else None, optimizer="sgd", lr=1.0)
    data = loader()
    before = trainer().validate(model, data, verbose=False)[0]["val/loss"]
    trainer(max_epochs=3).fit(model, data)
    after = trainer().validate(model, data, verbose=False)[0]["val/loss"]
    assert after < before


def test_gradients_clipped_to_theta(monkeypatch):
    theta, norms = 1e-3, []
    original = torch.optim.Adam.step

    def spy(self, closure=None):
        loss = closure() if closure is not None else None
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norms.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())
        original(self)
        return loss

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    trainer(limit_train_batches=3).fit(small(clipping_theta=theta), loader())
    assert len(norms) == 3 and all(n <= theta * 1.001 for n in norms)


def test_perplexity_is_exp_of_mean_cross_entropy():
    model = small()
    data = loader(text="abcdefgh " * 40)
    logged = trainer().validate(model, data, verbose=False)[0]["val/ppl"]
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y, carry in data:
            logits, state = model.net(x, state if carry else None)
            total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
            count += y.numel()
    assert logged == pytest.approx(math.exp(total / count), rel=1e-4)


def test_loss_perplexity_equals_torchmetrics_perplexity():
    from torchmetrics.text import Perplexity

    from zoo.tasks.language_model import LossPerplexity

    ours, reference = LossPerplexity(), Perplexity()
    generator = torch.Generator().manual_seed(0)
    for batch, steps in [(4, 7), (3, 5), (1, 11)]:  # batches of different sizes weigh by their token counts
        logits = 3 * torch.randn(batch, steps, 30, generator=generator)
        target = torch.randint(0, 30, (batch, steps), generator=generator)
        ours.update(F.cross_entropy(logits.flatten(0, 1), target.flatten()), weight=target.numel())
        reference.update(logits, target)
    assert float(ours.compute()) == pytest.approx(float(reference.compute()), rel=1e-5)


def test_bidirectional_perplexities_are_those_of_each_direction():
    model = small(bidirectional=True)
    data = loader(text="abcdefgh " * 40)
    logged = trainer().validate(model, data, verbose=False)[0]
    model.eval()
    sums, count_next, count_prev = [0.0, 0.0], 0, 0
    with torch.no_grad():
        for x, y, _ in data:
            forward_logits, backward_logits = model.net(x)[0].unbind(dim=2)
            sums[0] += F.cross_entropy(forward_logits.flatten(0, 1), y.flatten(), reduction="sum").item()
            sums[1] += F.cross_entropy(backward_logits[:, 1:].flatten(0, 1), x[:, :-1].flatten(),
                                       reduction="sum").item()
            count_next, count_prev = count_next + y.numel(), count_prev + x[:, :-1].numel()
    assert logged["val/ppl"] == pytest.approx(math.exp(sums[0] / count_next), rel=1e-4)
    assert logged["val/ppl_backward"] == pytest.approx(math.exp(sums[1] / count_prev), rel=1e-4)


def test_generation_greedy_and_sampled():
    model = small()
    assert model.generate("ab", 5) == model.generate("ab", 5)
    assert model.generate("ab", 5).startswith("ab") and len(model.generate("ab", 5)) == 7
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert model.generate("ab", 20, temperature=1.5, generator=g1) == model.generate("ab", 20, 1.5, g2)
    assert model.training  # generation restores the mode it found


@pytest.mark.parametrize(("prefix", "message"), [("abz", "'z'"), ("", "empty")])
def test_bad_prefix_is_a_prompt_error(prefix, message):
    with pytest.raises(PromptError, match=message):
        small().generate(prefix, 5)


def test_negative_temperature():
    with pytest.raises(ConfigError, match="temperature must be >= 0"):
        small().generate("ab", 3, temperature=-1)


def test_bidirectional_encoder_trains_but_refuses_to_generate():
    model = small(bidirectional=True)
    trainer(max_epochs=2).fit(model, loader())
    metrics = model.trainer.callback_metrics
    assert "train/ppl_backward" in metrics and torch.isfinite(metrics["train/ppl"])
    with pytest.raises(ConfigError, match="bidirectional model .* cannot write text"):
        model.generate("ab", 3)


def test_stacked_bidirectional_rejected():
    with pytest.raises(ConfigError, match="num_layers=1 with bidirectional=True"):
        small(bidirectional=True, num_layers=2)


def test_deep_model_runs():
    model = small(num_layers=2, dropout=0.1, embedding_dim=8)
    trainer(limit_train_batches=2).fit(model, loader())
    assert len(model.generate("ab", 4)) == 6


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"vocab": None}, "needs the vocabulary"),
    ({"vocab": ["a", "a"]}, "duplicate"),
    ({"optimizer": "lbfgs-ish"}, "unknown optimizer 'lbfgs-ish'"),
])
def test_bad_configuration(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        model = small(**kwargs)
        model.configure_optimizers()


def test_checkpoint_alone_generates_the_same_text(tmp_path):
    model = small()
    t = trainer(tmp_path, enable_checkpointing=True, logger=False, max_epochs=2)
    t.fit(model, loader())
    path = t.checkpoint_callback.best_model_path
    restored = load_task(path)
    assert type(restored) is GRULanguageModel
    assert restored.vocab == VOCAB
    assert restored.generate("abc", 10) == model.generate("abc", 10)
    for value in restored.hparams.values():  # primitives only: no nn.Module or tensor in the checkpoint's hparams
        assert isinstance(value, (str, int, float, bool, list, type(None))), value


def test_load_task_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_task(tmp_path / "nope.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable checkpoint"):
        load_task(junk)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ConfigError, match="not written by a lightning-zoo model"):
        load_task(foreign)


def test_samples_printed_and_saved_every_period(tmp_path, capsys):
    model = small(pred_period=2, prefixes=["ab", "ba"])
    t = trainer(tmp_path, max_epochs=4, logger=L.pytorch.loggers.CSVLogger(tmp_path, name=""))
    t.fit(model, loader())
    out = capsys.readouterr().out
    assert "epoch 2, perplexity" in out and "epoch 4, perplexity" in out and " - ab" in out and " - ba" in out
    saved = (tmp_path / "version_0" / "samples.txt").read_text(encoding="utf-8")
    assert saved.count(" - ab") == 2 and saved.count(" - ba") == 2


def test_a_run_shorter_than_pred_period_still_saves_its_final_samples(tmp_path, capsys):
    model = small(pred_period=40, prefixes=["ab", "ba"])
    t = trainer(tmp_path, max_epochs=3, logger=L.pytorch.loggers.CSVLogger(tmp_path, name=""))
    t.fit(model, loader())
    assert " - ab" not in capsys.readouterr().out  # not printed during training: the run summary prints them
    saved = (tmp_path / "version_0" / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert saved[0].startswith("epoch 3, perplexity ") and len(saved) == 3
    assert saved[1:] == [f" - {text}" for text in model.samples()]
    assert model.fit_summary().splitlines() == saved[1:]  # the summary shows what was saved
    assert model.held_out_note() is None  # no validation, nothing to explain


def test_final_samples_are_not_written_twice_and_pred_period_0_writes_none(tmp_path):
    model = small(pred_period=2, prefixes=["ab"])
    trainer(tmp_path, max_epochs=3, logger=L.pytorch.loggers.CSVLogger(tmp_path, name="")).fit(model, loader())
    saved = (tmp_path / "version_0" / "samples.txt").read_text(encoding="utf-8")
    assert [line.split(",")[0] for line in saved.splitlines() if line.startswith("epoch")] == ["epoch 2", "epoch 3"]
    quiet = small(pred_period=0)
    trainer(tmp_path / "quiet", max_epochs=1, logger=L.pytorch.loggers.CSVLogger(tmp_path / "quiet", name="")).fit(
        quiet, loader())
    assert not (tmp_path / "quiet" / "version_0" / "samples.txt").exists()


def test_the_summary_explains_the_held_out_perplexity_of_the_lyrics(tmp_path):
    class Lyrics(L.LightningDataModule):
        def __init__(self):
            super().__init__()
            self.save_hyperparameters({"num_chars": 10_000, "val_chars": 2_000})

        def train_dataloader(self):
            return loader()

        def val_dataloader(self):
            return loader(text="hgfedcba " * 20)

    model = small(pred_period=0)
    trainer(tmp_path, max_epochs=1).fit(model, datamodule=Lyrics())
    note = model.held_out_note()
    assert note.startswith("note: val/ppl is the perplexity of the 2,000 characters held out after the training text")
    assert "memorises its 10,000 training characters" in note and "train/ppl, the number the book reports" in note
    assert model.fit_summary().splitlines()[0] == note
