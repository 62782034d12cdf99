"""The sequence-to-sequence task: machine translation with an encoder-decoder (book 10.9-10.12).

Training (10.12.3): teacher forcing, the decoder reading ``<bos>`` and then the true previous target word; the loss
is cross-entropy over the target words, padding masked, summed and divided by the number of real target words
(``<eos>`` included) of the batch, as d2l's ``batch_loss`` intends. ``train/loss`` is the mean of the epoch's batch
losses, as the book prints it. The PyTorch port's code (whose 0.025 the book prints) stops its mask at ``<pad>``
instead of ``<eos>``, so it also trains on and counts the first ``<pad>`` after ``<eos>``, an easy word that lowers
the average: ``count_first_pad=True`` does the same, to compare with the printed numbers. Optional gradient clipping
by the global norm.

Evaluation: every epoch the validation sentences (or, without a validation split, the training pairs) are
translated by greedy search and scored with corpus BLEU (torchmetrics ``BLEUScore``, n-grams up to ``bleu_k``),
logged as ``<split>/bleu`` with ``<split>/loss``.

Decoding (10.10): `translate` runs greedy search or, with ``beam_size`` > 1, beam search (`zoo.ops.decoding`), and
returns the attention weights of the attention models for inspection. A sentence is split on spaces as given, so it
must be in the training text's form ("ils regardent ."): ``python -m zoo translate`` and the datamodule's predict
sentences put it there with the datamodule's own preprocessing (`datamodules.fra_eng.normalize_sentence`, which this
task layer may not import). Source words that are not in the vocabulary are read as ``<unk>`` and reported. Both
vocabularies travel in the hyperparameters, so a checkpoint alone translates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.text import BLEUScore

from zoo.errors import ConfigError, PromptError
from zoo.ops.bleu import bleu
from zoo.ops.decoding import beam_search, greedy_search
from zoo.optim import build_optimizer
from zoo.tasks.base import ZooTask
from zoo.tasks.classifier_metrics import evaluated_split
from zoo.validation import check_hyperparameters

__all__ = ["BOOK_SENTENCES", "Seq2SeqTask", "Translation"]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
#: The book's two test sentences and references (10.12.5): a training pair, and one it never saw.
BOOK_SENTENCES = [["ils regardent .", "they are watching ."], ["ils sont canadiens .", "they are canadian ."]]


@dataclass
class Translation:
    """A translated sentence: its words, log-probability, the attention weights (target words x source tokens, or
    None), the source tokens as the model read them, and the source words it did not know."""

    words: list[str]
    log_prob: float
    attention: torch.Tensor | None
    source_tokens: list[str]
    unknown: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _check_vocab(name: str, vocab: list[str] | None, kind: str) -> None:
    if not vocab or any(t not in vocab for t in (PAD, BOS, EOS, UNK)):
        raise ConfigError(f"{name} needs a {kind} vocabulary with {PAD}, {BOS}, {EOS} and {UNK}: pass "
                          f"{kind}_vocab=datamodule.{kind}_vocab (the CLI links it from the datamodule)")


class Seq2SeqTask(ZooTask):
    """Base of the encoder-decoder translators; an architecture subclasses it, implements `build_net` (a
    `zoo.nets.encoder_decoder.Seq2SeqNet`-like network with ``encode``, ``decoder`` and teacher-forced ``forward``)
    and takes its own arguments keyword-only, passing the task's through ``**task``.

    Args:
        src_vocab, tgt_vocab: source and target tokens (linked from the datamodule; stored in the checkpoint).
        max_seq_len: source sentences are padded to this length as in training, and translations stop after it
            (linked from the datamodule; book: 7).
        optimizer, lr: the optimizer (book: Adam 0.01).
        clip_gradients: clip the global gradient norm to this value (the book: none).
        beam_size: 1 for greedy search (the book), more for beam search in ``predict``.
        length_penalty: alpha of beam search's log P / L^alpha (book 10.10: 0.75).
        bleu_k: n-grams up to this length in BLEU (book: 2).
        probes: [source, reference] pairs translated after training (default: the book's two).
        count_first_pad: also train on and count the first <pad> after <eos>, as the book's printed code does.
    """

    def __init__(self, *, src_vocab: list[str] | None = None, tgt_vocab: list[str] | None = None, max_seq_len: int = 7,
                 optimizer: str = "adam", lr: float = 0.01, clip_gradients: float | None = None, beam_size: int = 1,
                 length_penalty: float = 0.75, bleu_k: int = 2, probes: list[list[str]] | None = None,
                 count_first_pad: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        _check_vocab(name, src_vocab, "src")
        _check_vocab(name, tgt_vocab, "tgt")
        if max_seq_len < 2 or beam_size < 1 or bleu_k < 1:
            raise ConfigError(f"{name}: max_seq_len must be >= 2, beam_size and bleu_k >= 1; got {max_seq_len}, "
                              f"{beam_size}, {bleu_k}")
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, type(self).__name__)
        self.src_index = {t: i for i, t in enumerate(src_vocab)}
        self.tgt_index = {t: i for i, t in enumerate(tgt_vocab)}
        self.net = self.build_net()
        self.train_loss, self.val_loss = MeanMetric(), MeanMetric()
        self.bleu = BLEUScore(n_gram=bleu_k)

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams`` and the vocabulary sizes."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    # ---------------------------------------------------------------- training (book 10.12.3)
    def masked_loss(self, src, src_len, tgt) -> torch.Tensor:
        """Teacher-forced cross-entropy of a batch per real target word (padding masked; with ``count_first_pad``
        the first <pad> after <eos> counts too, as in the book's printed code)."""
        bos = torch.full_like(tgt[:, :1], self.tgt_index[BOS])
        logits = self.net(src, src_len, torch.cat((bos, tgt[:, :-1]), dim=1))  # (B, T, V)
        losses = F.cross_entropy(logits.transpose(1, 2), tgt, reduction="none")  # (B, T)
        mask = tgt != self.tgt_index[PAD]  # (B, T)
        if self.hparams.count_first_pad:
            mask = torch.cat((torch.ones_like(mask[:, :1]), mask[:, :-1]), dim=1)  # real words and the first <pad>
        return (losses * mask).sum() / mask.sum()

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        src, src_len, tgt, _ = batch  # (B, T), (B,), (B, T), (B,)
        loss = self.masked_loss(src, src_len, tgt)
        self.train_loss.update(loss.detach())  # the mean of the batch losses, as the book prints it
        if self.train_loss.update_count == 1:
            self.log("train/loss", self.train_loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        theta = gradient_clip_val or self.hparams.clip_gradients
        if theta:
            self.clip_gradients(optimizer, gradient_clip_val=theta, gradient_clip_algorithm=gradient_clip_algorithm
                                or "norm")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(self.hparams.optimizer, self.parameters(), self.hparams.lr)

    # ---------------------------------------------------------------- evaluation
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        src, src_len, tgt, tgt_len = batch
        self.val_loss.update(self.masked_loss(src, src_len, tgt), weight=int(tgt_len.sum()))
        for i in range(src.shape[0]):
            words, _, _ = self._search(src[i:i + 1, : int(src_len[i])], beam_size=1)
            reference = [self.hparams.tgt_vocab[int(t)] for t in tgt[i, : int(tgt_len[i]) - 1]]
            self.bleu.update([" ".join(words)], [[" ".join(reference)]])

    def on_validation_epoch_end(self) -> None:
        prefix = evaluated_split(self)
        if self.val_loss.update_called:
            self.log(f"{prefix}/bleu", self.bleu.compute(), prog_bar=True)
            self.log(f"{prefix}/loss" if prefix != "train" else "train/teacher_forced_loss", self.val_loss.compute())
        self.bleu.reset()
        self.val_loss.reset()

    # ---------------------------------------------------------------- translating (book 10.10, 10.12.4)
    def encode_source(self, sentence: str) -> tuple[list[int], list[str], list[str]]:
        """Ids of ``sentence`` + <eos> (split on spaces), its tokens, and the words not in the vocabulary."""
        if not isinstance(sentence, str) or not sentence.strip():
            raise PromptError("the sentence is empty; give a sentence to translate")
        tokens = sentence.strip().split()
        unknown = [t for t in tokens if t not in self.src_index]
        ids = [self.src_index.get(t, self.src_index[UNK]) for t in tokens] + [self.src_index[EOS]]
        return ids, [t if t in self.src_index else UNK for t in tokens] + [EOS], unknown

    @torch.no_grad()
    def _search(self, src: torch.Tensor, beam_size: int) -> tuple[list[str], float, torch.Tensor | None]:
        """Decode one source (1, S): (words, log P, attention (words + 1, S) or None)."""
        pad = self.src_index[PAD]
        width = max(self.hparams.max_seq_len, src.shape[1])  # padded as in training
        src = F.pad(src, (0, width - src.shape[1]), value=pad)
        src_len = (src != pad).sum(dim=1)
        outputs, enc_state, mask = self.net.encode(src, src_len)  # (S, 1, H), (L, 1, H), (S, 1)
        weights: list[torch.Tensor] = []

        def step(tokens: torch.Tensor, state: torch.Tensor):
            k = tokens.shape[0]
            logits, state, alpha = self.net.decoder(tokens.to(self.device), state, outputs.expand(-1, k, -1),
                                                    mask.expand(-1, k), enc_state.expand(-1, k, -1))
            if alpha is not None and k == 1:
                weights.append(alpha[:, 0].cpu())
            return F.log_softmax(logits.float(), dim=-1).cpu(), state

        bos, eos, max_len = self.tgt_index[BOS], self.tgt_index[EOS], self.hparams.max_seq_len
        if beam_size == 1:
            ids, log_prob = greedy_search(step, enc_state, bos, eos, max_len)
        else:
            ids, log_prob = beam_search(step, enc_state, bos, eos, max_len, beam_size,
                                        lambda state, rows: state[:, rows.to(state.device)],
                                        self.hparams.length_penalty)
        attention = torch.stack(weights)[:, : int(src_len[0])] if weights else None
        return [self.hparams.tgt_vocab[i] for i in ids], log_prob, attention

    def translate(self, sentence: str, beam_size: int | None = None) -> Translation:
        """Translate one sentence, in the training text's form (`datamodules.fra_eng.normalize_sentence` makes it),
        by greedy search (``beam_size`` 1, the book) or beam search."""
        beam_size = self.hparams.beam_size if beam_size is None else beam_size
        if beam_size < 1:
            raise ConfigError(f"beam_size must be >= 1, got {beam_size}")
        ids, tokens, unknown = self.encode_source(sentence)
        was_training = self.training
        self.eval()
        try:
            words, log_prob, attention = self._search(torch.tensor([ids], device=self.device), beam_size)
        finally:
            self.train(was_training)
        if beam_size > 1:
            attention = None  # the weights of the greedy path; beam search keeps none
        return Translation(words, log_prob, attention, tokens, unknown)

    def predict_step(self, batch: list[str], batch_idx: int = 0) -> list[str]:
        """Sentences -> ``"ils regardent . -> they are watching ."`` lines."""
        return [f"{s} -> {self.translate(s).text}" for s in batch]

    def fit_summary(self) -> str:
        """The probe sentences (the book's two by default) translated, with the book's BLEU (k = bleu_k)."""
        lines = []
        for source, reference in self.hparams.probes or BOOK_SENTENCES:
            result = self.translate(source)
            score = bleu(result.words, reference.split(), self.hparams.bleu_k)
            lines.append(f"{source} -> {result.text}  (bleu {score:.3f} against '{reference}')")
        return "\n".join(lines)
