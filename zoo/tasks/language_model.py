"""The language-model task: training, evaluation and text generation for the recurrent models of book chapter 6.

Training follows ``train_and_predict_rnn`` (6.4.7) and its concise twin (6.5.2):

* cross-entropy over every position, perplexity = exp(mean cross-entropy) (6.4.6), via torchmetrics;
* gradient clipping by the global L2 norm of all gradients, ``clipping_theta`` (6.4.5);
* under consecutive sampling the hidden state of one batch, detached, starts the next; under random sampling every
  batch starts from zeros. Batches say which applies (their third element, see `datamodules.token_windows`). At the
  start of an epoch the from-scratch loop of 6.4.7 starts from zeros again, while the concise loop of 6.5.2 keeps
  the state of the previous epoch's last batch: ``state_across_epochs`` chooses;
* every ``pred_period`` epochs the model writes ``pred_len`` characters after each prefix (6.4.4), and once more at
  the end of training unless the last epoch already did: printed and appended to ``samples.txt`` in the run folder.

Validating on held-out text (the lyrics' ``val_chars``) measures what the book never does: how well a model that
memorises its few thousand training characters predicts text it never saw. That perplexity is high by design, and
`fit_summary` says so beside the samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn
from torch import nn
from torchmetrics import MeanMetric, MetricCollection

from zoo.errors import ConfigError, PromptError
from zoo.io.resume import gather_per_rank, load_metric_states, metric_states, saved_mid_epoch
from zoo.io.run_files import run_dir
from zoo.optim import build_optimizer
from zoo.tasks.base import ZooTask
from zoo.validation import check_hyperparameters

__all__ = ["BOOK_PREFIXES", "LanguageModelTask", "LossPerplexity"]

#: The book's prompts for the Jay Chou lyrics (6.4.4): the samples' default when ``prefixes`` is not given.
BOOK_PREFIXES = ("分开", "不分开")


class LossPerplexity(MeanMetric):
    """Perplexity of an epoch, exp(mean cross-entropy per token) (book 6.4.6), from the losses the steps computed.

    Update it with each batch's mean loss and ``weight`` = its number of tokens. The result is that of
    `torchmetrics.text.Perplexity` on the same scores (tested), without a second softmax over the vocabulary at every
    step, which cost about 2% of a step of the book's GRU on the CPU.
    """

    def compute(self) -> torch.Tensor:
        return torch.exp(super().compute())


def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def _device_of(state) -> torch.device:
    return (state[0] if isinstance(state, tuple) else state).device


def _batch_of(state) -> int | None:
    if state is None:
        return None
    return (state[0] if isinstance(state, tuple) else state).shape[1]


class LanguageModelTask(ZooTask):
    """Base of the language models; an architecture subclasses it, implements `build_net` (a network mapping tokens
    (B, T) and a state to next-token logits (B, T, V) and the new state, such as `zoo.nets.recurrent_lm.RecurrentLM`)
    and takes its own arguments keyword-only, passing the task's through ``**task``.

    Args:
        vocab: the token strings, index = id (``datamodule.vocab``; linked automatically by the CLI). Stored in the
            hyperparameters, so a checkpoint can generate text on its own.
        optimizer: name for `build_optimizer` (``"sgd"``, ``"adam"``, ...).
        lr, momentum, weight_decay: optimizer settings.
        clipping_theta: clip the global gradient norm to this value (book: 0.01); ``None`` to disable.
        state_across_epochs: under consecutive sampling, keep the last hidden state of an epoch for the first batch of
            the next, as the book's concise loop does (6.5.2); False restarts from zeros as its scratch loop (6.4.7).
        pred_period: write samples every this many epochs (0 to disable).
        pred_len: characters to write after each prefix.
        prefixes: prompts for the samples (default: the book's, `BOOK_PREFIXES`).
        temperature: 0 for greedy (the book); > 0 samples from softmax(logits / temperature).
        compile: run the network through ``torch.compile`` (`ZooTask.configure_model`); the same numbers, the same
            checkpoint keys. Off by default: on the CPU it does not pay for its compile time (``bench/compile_cpu.py``).
    """

    def __init__(
        self,
        *,
        vocab: list[str] | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        clipping_theta: float | None = 1e-2,
        state_across_epochs: bool = False,
        pred_period: int = 50,
        pred_len: int = 50,
        prefixes: list[str] | None = None,
        temperature: float = 0.0,
        compile: bool = False,
    ) -> None:
        super().__init__()
        if not vocab:
            raise ConfigError(f"{type(self).__name__} needs the vocabulary: pass vocab=datamodule.vocab "
                              "(the CLI links it from the datamodule)")
        if len(set(vocab)) != len(vocab):
            raise ConfigError("vocab has duplicate entries; every token must appear once")
        self.save_hyperparameters()  # collects the subclass's arguments too
        check_hyperparameters(self.hparams, type(self).__name__)
        self.vocab = list(vocab)
        self.index = {tok: i for i, tok in enumerate(self.vocab)}
        self.net = self.build_net()
        # per stage: perplexity of the (left-to-right) next-token scores, the mean loss, and for a bidirectional
        # model the perplexity of its right-to-left half, updated every step and logged once per epoch
        for stage in ("train", "val", "test"):
            metrics = {"ppl": LossPerplexity(), "loss": MeanMetric(), "ppl_backward": LossPerplexity()}
            setattr(self, f"{stage}_metrics", MetricCollection(metrics, compute_groups=False))
        self._state: Any = None  # hidden state carried between consecutive batches
        self._sampled_epoch: int | None = None  # the last epoch whose samples were written
        self._final_samples: list[str] | None = None  # those written at the end of training, for the summary
        self._relog: set[str] = set()  # stages whose restored metrics must be handed to Lightning again

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams`` and ``len(self.vocab)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    @property
    def bidirectional(self) -> bool:
        """Whether the network also reads right to left (then it cannot generate; see `RecurrentLM`)."""
        return bool(self.hparams.get("bidirectional", False))

    # ---------------------------------------------------------------- training
    def forward(self, tokens: torch.Tensor, state=None):
        return self.net(tokens, state)

    def _step(self, batch, stage: str) -> torch.Tensor:
        x, y, carry = batch  # (B, T), (B, T), bool
        if self.bidirectional:
            carry = False  # the right-to-left half cannot continue across batches
        state = self._state if carry and _batch_of(self._state) == x.shape[0] else None
        if state is not None and _device_of(state) != x.device:  # restored from a checkpoint onto the CPU
            state = tuple(s.to(x.device) for s in state) if isinstance(state, tuple) else state.to(x.device)
        logits, state = self.net(x, state)
        self._state = _detach(state)
        metrics = getattr(self, f"{stage}_metrics")
        if self.bidirectional:
            forward_logits, backward_logits = logits.unbind(dim=2)  # each (B, T, V)
            loss_next = F.cross_entropy(forward_logits.flatten(0, 1), y.flatten())
            loss_prev = F.cross_entropy(backward_logits[:, 1:].flatten(0, 1), x[:, :-1].flatten())
            loss = (loss_next + loss_prev) / 2
            metrics["ppl_backward"].update(loss_prev.detach(), weight=x[:, :-1].numel())
        else:
            loss = loss_next = F.cross_entropy(logits.flatten(0, 1), y.flatten())  # mean over B*T positions
        metrics["ppl"].update(loss_next.detach(), weight=y.numel())
        metrics["loss"].update(loss.detach(), weight=y.numel())
        if metrics["loss"].update_count == 1 or stage in self._relog:  # first batch since Lightning reset them
            self._relog.discard(stage)
            self._log_epoch_metrics(stage)
        return loss

    def _log_epoch_metrics(self, stage: str) -> None:
        """Hand the epoch's metric objects to Lightning, which computes, logs and resets them at the epoch's end.

        Once per epoch is enough: the steps update the metrics themselves, and a ``self.log`` call costs about a
        millisecond, a few percent of a step of the book's models.
        """
        metrics = getattr(self, f"{stage}_metrics")
        self.log(f"{stage}/ppl", metrics["ppl"], on_step=False, on_epoch=True, prog_bar=True)
        self.log(f"{stage}/loss", metrics["loss"], on_step=False, on_epoch=True)
        if self.bidirectional:
            self.log(f"{stage}/ppl_backward", metrics["ppl_backward"], on_step=False, on_epoch=True)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: str | list[str], batch_idx: int = 0) -> str | list[str]:
        """A prefix (or a list of prefixes) -> the generated text, ``pred_len`` characters after it."""
        if isinstance(batch, str):
            return self.generate(batch, self.hparams.pred_len)
        return [self.generate(p, self.hparams.pred_len) for p in batch]

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()  # restores the generators on resume (ZooTask)
        if not self.hparams.state_across_epochs:  # (Lightning skips this hook when it resumes mid-epoch)
            self._state = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Also save what only exists during an epoch, from every rank: the carried hidden state and the training
        metrics' partial sums, so a run resumed from a mid-epoch checkpoint ends where an uninterrupted one does."""
        super().on_save_checkpoint(checkpoint)
        if self._trainer is None or self.trainer.state.fn != "fit":
            return
        per_rank = gather_per_rank(self, {"state": self._state, "metrics": metric_states(self.train_metrics)})
        checkpoint["zoo_epoch_state"] = {"mid_epoch": saved_mid_epoch(self.trainer), "ranks": per_rank}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get("zoo_epoch_state")
        if saved is None or self._trainer is None or self.trainer.state.fn != "fit":
            return
        ranks = saved["ranks"]
        if len(ranks) != self.trainer.world_size:
            rank_zero_warn(f"the checkpoint was written by {len(ranks)} processes and this run has "
                           f"{self.trainer.world_size}: the carried hidden state starts from zeros")
            return
        mine = ranks[self.trainer.global_rank]
        self._state = mine["state"]
        if saved["mid_epoch"]:  # the epoch goes on: its metrics too
            load_metric_states(self.train_metrics, mine["metrics"])
            self._relog.add("train")

    def on_validation_epoch_start(self) -> None:
        self._train_state_backup, self._state = self._state, None

    def on_validation_epoch_end(self) -> None:
        self._state = getattr(self, "_train_state_backup", None)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        params = [p for p in self.parameters() if p.requires_grad]
        return build_optimizer(hp.optimizer, params, hp.lr, hp.weight_decay, hp.momentum)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Clip by ``clipping_theta`` (the model's own setting) unless the Trainer asks for something else."""
        theta = gradient_clip_val or self.hparams.clipping_theta
        if theta:
            self.clip_gradients(optimizer, gradient_clip_val=theta, gradient_clip_algorithm=gradient_clip_algorithm
                                or "norm")

    # ---------------------------------------------------------------- generation
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; raises `PromptError` naming any character the model has never seen."""
        if not text:
            raise PromptError("the prefix is empty; give at least one character to start from")
        unknown = sorted({ch for ch in text if ch not in self.index})
        if unknown:
            raise PromptError(f"the prefix {text!r} has characters outside the model's {len(self.vocab)}-character "
                              f"vocabulary: {' '.join(repr(c) for c in unknown)}. Use characters from the training "
                              "text (the model has no token for unseen ones).")
        return [self.index[ch] for ch in text]

    @torch.no_grad()
    def generate(self, prefix: str, length: int, temperature: float | None = None,
                 generator: torch.Generator | None = None) -> str:
        """The prefix followed by ``length`` generated characters (book 6.4.4; sampling with temperature, the RNN
        tutorial).

        ``temperature`` 0 picks the most likely character each step; > 0 samples from softmax(logits / temperature).
        """
        if self.bidirectional:
            raise ConfigError("a bidirectional model reads the future as well as the past, so it cannot write text "
                              "one character at a time; train a unidirectional model (bidirectional=False) to generate")
        temperature = self.hparams.temperature if temperature is None else temperature
        if temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {temperature}")
        ids = self.encode(prefix)
        was_training = self.training
        self.eval()
        # a compiled network (``compile``) generates eagerly: every new length would compile the network once more
        net = self.net.forward if getattr(self.net, "_compiled_call_impl", None) is not None else self.net
        try:
            logits, state = net(torch.tensor([ids], device=self.device))  # (1, P, V)
            for _ in range(length):
                scores = logits[0, -1]  # (V,)
                if temperature == 0:
                    nxt = int(scores.argmax())
                else:
                    probs = torch.softmax(scores.float() / temperature, dim=-1).cpu()
                    nxt = int(torch.multinomial(probs, 1, generator=generator))
                ids.append(nxt)
                logits, state = net(torch.tensor([[nxt]], device=self.device), state)
        finally:
            self.train(was_training)
        return "".join(self.vocab[i] for i in ids)

    def samples(self) -> list[str]:
        """One generated text per configured prefix."""
        return [self.generate(p, self.hparams.pred_len) for p in self.prompts()]

    def prompts(self) -> list[str]:
        """The configured ``prefixes``, else the book's."""
        return list(self.hparams.prefixes or BOOK_PREFIXES)

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()  # marks the epoch's end for the checkpoint (ZooTask)
        period = self.hparams.pred_period
        epoch = self.current_epoch + 1
        if period and epoch % period == 0 and not self.bidirectional:
            self._report_samples(epoch)
            self._sampled_epoch = epoch

    def on_train_end(self) -> None:
        """The final samples too, when the last epoch was not a multiple of ``pred_period`` (a short run would
        otherwise leave no ``samples.txt``). Not printed here: the run summary prints them (`fit_summary`)."""
        super().on_train_end()
        self._final_samples = None
        epoch = self.current_epoch  # epochs completed
        if self.hparams.pred_period and not self.bidirectional and (self._sampled_epoch is None
                                                                     or epoch > self._sampled_epoch):
            self._final_samples = self.samples()
            self._report_samples(epoch, self._final_samples, echo=False)
            self._sampled_epoch = epoch

    @rank_zero_only
    def _report_samples(self, epoch: int, texts: list[str] | None = None, echo: bool = True) -> None:
        ppl = self.trainer.callback_metrics.get("train/ppl")
        lines = [f"epoch {epoch}" + (f", perplexity {float(ppl):.6f}" if ppl is not None else "")]
        lines += [f" - {text}" for text in (self.samples() if texts is None else texts)]
        if echo:
            self.print("\n".join(lines))
        log_dir = run_dir(self.trainer)  # not trainer.log_dir: a collective, and only rank 0 runs this
        if log_dir:
            with open(Path(log_dir) / "samples.txt", "a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        for logger in self.loggers:
            if hasattr(logger, "log_text"):  # W&B
                logger.log_text(key="samples", columns=["epoch", "text"], data=[[epoch, t] for t in lines[1:]])
            elif hasattr(getattr(logger, "experiment", None), "add_text"):  # TensorBoard
                logger.experiment.add_text("samples", "\n\n".join(lines[1:]), global_step=epoch)

    def fit_summary(self) -> str:
        """What the CLI prints after training: what the held-out perplexity means, when there is one, and the
        samples for every prefix (those written to ``samples.txt`` at the end of training)."""
        lines = [note] if (note := self.held_out_note()) else []
        if self.bidirectional:
            return "\n".join([*lines, "(bidirectional encoder: no text generation)"])
        texts = self._final_samples if self._final_samples is not None else self.samples()
        return "\n".join([*lines, *(f" - {text}" for text in texts)])

    def held_out_note(self) -> str | None:
        """Why ``val/ppl`` is far above ``train/ppl`` when the run validated on held-out text (the lyrics'
        ``val_chars``): None when it did not."""
        trainer = self._trainer
        if trainer is None or "val/ppl" not in trainer.callback_metrics:
            return None
        hp = getattr(getattr(trainer, "datamodule", None), "hparams", {})
        held, trained = hp.get("val_chars"), hp.get("num_chars")
        held = f"the {held:,} characters held out after the training text" if held else "the held-out text"
        trained = f"{trained:,} training characters" if trained else "its training text"
        return (f"note: val/ppl is the perplexity of {held}. The model memorises its {trained}, so as training "
                "goes on val/ppl climbs (into the thousands or more) while train/ppl, the number the book reports, "
                "falls towards 1: expected, not a fault.")
