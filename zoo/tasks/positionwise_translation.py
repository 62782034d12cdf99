"""The position-by-position translation task of the layers tutorial: a network writes the word at each position of
the translation from the source read so far (`zoo.nets.positionwise_translator`); no encoder-decoder.

As the tutorial: the loss is ``NLLLoss`` of the log-softmax outputs over every position, padding included (the models
learn to write the empty padding word after a sentence ends); Adam 1e-3 with ``LambdaLR(0.99 ** (step / 50))``,
the rate decayed every step. ``train/loss`` is logged every step (the tutorial's fig8 averages windows of 50 steps).
On validation (every ``val_check_interval`` steps) the test pairs are translated, padding dropped, and scored with
corpus BLEU (torchmetrics ``BLEUScore``, 4-grams, on words), logged as ``val/bleu`` (the tutorial's fig9). (The seed
computes BLEU every step on 100 new random test sentences, and through ``nltk`` on the sentences' characters, since
it passes strings where nltk expects word lists; words are what BLEU is about.)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.text import BLEUScore

from zoo.errors import ConfigError
from zoo.optim import build_optimizer
from zoo.pretrained.word_vectors import WordVectors
from zoo.tasks.base import ZooTask
from zoo.validation import check_hyperparameters

__all__ = ["PositionwiseTranslationTask"]


class PositionwiseTranslationTask(ZooTask):
    """Base of the position-by-position translators; an architecture subclasses it, implements `build_net`
    (tokens (B, T) -> log-probabilities (B, T, V)) and takes its own arguments keyword-only, passing the task's
    through ``**task``.

    Args:
        vocab: the words, index 0 the empty padding word (linked from the datamodule; stored in the checkpoint).
        word_vectors: a vector file in the GloVe text format to fix the embedding to (linked; the tutorial's
            ``embedding_128.txt``); None learns the embedding.
        max_len: words per sentence (linked; the tutorial: 30).
        optimizer, lr: the tutorial's Adam 1e-3.
        lr_decay: the rate is multiplied by ``lr_decay ** (step / 50)`` (the tutorial: 0.99); 1 for none.
    """

    def __init__(self, *, vocab: list[str] | None = None, word_vectors: str | None = None, max_len: int = 30,
                 optimizer: str = "adam", lr: float = 1e-3, lr_decay: float = 0.99) -> None:
        super().__init__()
        if not vocab or vocab[0] != "":
            raise ConfigError(f"{type(self).__name__} needs the vocabulary with the empty padding word first: pass "
                              "vocab=datamodule.vocab (the CLI links it)")
        if not 0 < lr_decay <= 1 or max_len < 1:
            raise ConfigError(f"lr_decay must be in (0, 1] and max_len >= 1, got {lr_decay} and {max_len}")
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, type(self).__name__)
        self.vocab = list(vocab)
        self.net = self.build_net()
        self.bleu = BLEUScore(n_gram=4)

    def build_net(self) -> nn.Module:
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    def _load_pretrained(self) -> None:
        """Copy the rows of ``word_vectors`` for the vocabulary into the fixed embedding (zeros for the padding word
        and unknown words)."""
        if not self.hparams.word_vectors:
            return
        table = self.net.embedding.weight
        vectors = WordVectors.from_file(self.hparams.word_vectors)
        if vectors.dim != table.shape[1]:
            raise ConfigError(f"{self.hparams.word_vectors} has {vectors.dim}-dimensional vectors, not "
                              f"{table.shape[1]}; set embed_size: {vectors.dim}")
        with torch.no_grad():
            table.copy_(vectors.embedding_for(self.vocab, unknown="zero")[0])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net(tokens)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        src, tgt = batch  # (B, T), (B, T)
        log_probs = self(src)  # (B, T, V)
        loss = F.nll_loss(log_probs.flatten(0, 1), tgt.flatten())  # every position, padding too (the tutorial's)
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def sentences(self, ids: torch.Tensor) -> list[str]:
        """Rows of ids (B, T) as text, the padding word dropped."""
        return [" ".join(self.vocab[i] for i in row if i != 0) for row in ids.tolist()]

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        src, tgt = batch
        predicted = self(src).argmax(dim=-1)  # (B, T)
        self.bleu.update(self.sentences(predicted), [[ref] for ref in self.sentences(tgt)])

    def on_validation_epoch_end(self) -> None:
        self.log("val/bleu", self.bleu.compute(), prog_bar=True)
        self.bleu.reset()

    def configure_optimizers(self) -> dict[str, Any]:
        hp = self.hparams
        optimizer = build_optimizer(hp.optimizer, [p for p in self.parameters() if p.requires_grad], hp.lr)
        decay = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: hp.lr_decay ** (step / 50.0))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": decay, "interval": "step"}}
