"""The word-embedding task: training word vectors with negative sampling (book 10.3), and using them.

A batch is the book's ``(centers, contexts_negatives, masks, labels)`` (`datamodules.ptb`): centres (B, 1), their
context and noise words (B, L), which positions are real (B, L) and which are contexts (B, L). The network scores
every centre against its row (B, 1, L); the loss is the sigmoid binary cross-entropy over the real positions of each
row, averaged over the batch (`zoo.ops.losses.masked_sigmoid_bce`). Logged once per epoch: ``train/loss``, the mean
of the batch losses as the book prints it (10.3.5.3), and ``val/loss``/``test/loss`` on held-out text.

At the end of training the task prints the nearest words to each of ``probe_words`` (book: "chip") with their cosine
similarity, writes them to ``neighbours.txt`` and the vectors to ``word_vectors.txt`` (GloVe text format) in the
run's folder, and sends the neighbours to the loggers that take text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.utilities import rank_zero_only
from torch import nn
from torchmetrics import MeanMetric

from zoo.errors import ConfigError
from zoo.io.checkpoints import WORD_VECTORS_KEY
from zoo.io.run_files import run_dir
from zoo.ops.losses import masked_sigmoid_bce
from zoo.optim import build_optimizer
from zoo.pretrained.word_vectors import WordVectors
from zoo.tasks.base import ZooTask
from zoo.validation import check_hyperparameters

__all__ = ["WordEmbeddingTask"]


class WordEmbeddingTask(ZooTask):
    """Base of the word-embedding models; an architecture subclasses it, implements `build_net` (a network mapping
    centres (B, 1), context/noise words (B, L) and their mask (B, L) to scores (B, 1, L), with a ``word_vectors()``
    method) and takes
    its own arguments keyword-only, passing the task's through ``**task``.

    Args:
        vocab: the words, index = id (``datamodule.vocab``; linked by the CLI, stored in the checkpoint).
        optimizer: name for `build_optimizer` (book: Adam).
        lr: learning rate (book: 0.01).
        probe_words: words whose nearest neighbours are printed at the end of training (book: "chip").
        num_neighbours: how many neighbours (book: 3).
    """

    def __init__(self, *, vocab: list[str] | None = None, optimizer: str = "adam", lr: float = 0.01,
                 probe_words: list[str] | None = None, num_neighbours: int = 3) -> None:
        super().__init__()
        if not vocab:
            raise ConfigError(f"{type(self).__name__} needs the vocabulary: pass vocab=datamodule.vocab "
                              "(the CLI links it from the datamodule)")
        if len(set(vocab)) != len(vocab):
            raise ConfigError("vocab has duplicate entries; every word must appear once")
        if num_neighbours < 1:
            raise ConfigError(f"num_neighbours must be >= 1, got {num_neighbours}")
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, type(self).__name__)
        self.vocab = list(vocab)
        self.net = self.build_net()
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams`` and ``len(self.vocab)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    # ---------------------------------------------------------------- training
    def forward(self, centers: torch.Tensor, contexts_negatives: torch.Tensor,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B, 1, L); positions where ``masks`` is 0 (padding) may be left at 0."""
        return self.net(centers, contexts_negatives, masks)

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        centers, contexts_negatives, masks, labels = batch  # (B, 1), (B, L), (B, L), (B, L)
        scores = self(centers, contexts_negatives, masks).view(labels.shape)  # (B, 1, L) -> (B, L)
        loss = masked_sigmoid_bce(scores, labels, masks).mean()
        metric = getattr(self, f"{stage}_loss")
        metric.update(loss.detach())  # the mean of the batch losses, as the book prints it
        if metric.update_count == 1:  # hand the metric to Lightning once per epoch; it computes and resets it
            self.log(f"{stage}/loss", metric, on_step=False, on_epoch=True, prog_bar=stage == "train")
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """The optimizer by name; Adam (the book's) runs its fused kernel, the same update in one pass over each
        table: it is most of the step's time for two dense 10,000 x 100 tables."""
        hp = self.hparams
        extra = {"fused": True} if hp.optimizer in ("adam", "adamw") else None
        return build_optimizer(hp.optimizer, self.parameters(), hp.lr, extra=extra)

    # ---------------------------------------------------------------- using the vectors
    def word_vectors(self) -> WordVectors:
        """The trained vectors (the centre embedding) with the vocabulary, for ``similar``, ``analogy`` and export."""
        return WordVectors(self.vocab, self.net.word_vectors().float().cpu(), type(self).__name__)

    def similar(self, word: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` nearest words to ``word`` by cosine similarity (book 10.3.6)."""
        return self.word_vectors().similar(word, k)

    def analogy(self, a: str, b: str, c: str, k: int = 1) -> list[tuple[str, float]]:
        """``a : b :: c : ?`` (book 10.6.2.2)."""
        return self.word_vectors().analogy(a, b, c, k)

    def neighbours_report(self) -> list[str]:
        """The book's lines, ``cosine sim=0.478: hard-disk``, under each probe word."""
        vectors, lines = self.word_vectors(), []
        for word in self.hparams.probe_words or ["chip"]:
            if word not in vectors:
                lines.append(f"{word}: not in the vocabulary")
                continue
            lines.append(f"nearest to {word!r}:")
            lines += [f"  cosine sim={c:.3f}: {w}" for w, c in vectors.similar(word, self.hparams.num_neighbours)]
        return lines

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Name the table that holds the word vectors, so `WordVectors.from_checkpoint` reads them from the file."""
        checkpoint[WORD_VECTORS_KEY] = "net." + self.net.word_vectors_key
        super().on_save_checkpoint(checkpoint)

    def on_train_end(self) -> None:
        self._write_results()

    @rank_zero_only
    def _write_results(self) -> None:
        lines = self.neighbours_report()
        log_dir = run_dir(self.trainer) if self._trainer is not None else None
        if log_dir:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            (Path(log_dir) / "neighbours.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            self.word_vectors().save(Path(log_dir) / "word_vectors.txt")
        for logger in self.loggers:
            if hasattr(logger, "log_text"):  # W&B
                logger.log_text(key="neighbours", columns=["line"], data=[[line] for line in lines])
            elif hasattr(getattr(logger, "experiment", None), "add_text"):  # TensorBoard
                logger.experiment.add_text("neighbours", "\n\n".join(lines), global_step=self.global_step)

    def fit_summary(self) -> str:
        """What the CLI prints after training: the probe words' neighbours and where the vectors went."""
        lines = self.neighbours_report()
        log_dir = run_dir(self.trainer) if self._trainer is not None else None
        if log_dir:
            lines.append(f"word vectors (GloVe text format): {Path(log_dir) / 'word_vectors.txt'}")
        return "\n".join(lines)
