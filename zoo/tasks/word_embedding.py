"""The word-embedding task: training word vectors with negative sampling (book 10.3), and using them.

A batch is the book's ``(centers, contexts_negatives, masks, labels)`` (`datamodules.ptb`): centres (B, 1), their
context and noise words (B, L), which positions are real (B, L) and which are contexts (B, L). The network scores
every centre against its row (B, 1, L); the loss is the sigmoid binary cross-entropy over the real positions of each
row, averaged over the batch (`zoo.ops.losses.masked_sigmoid_bce`). Logged once per epoch: ``train/loss``, the mean
of the batch losses as the book prints it (10.3.5.3), and ``val/loss``/``test/loss`` on held-out text.

`SGNSTask` trains the same kind of vectors as word2vec.c and gensim do (``skipgram_sgns_ptb``): batches of
(context word, centre) pairs with noise words (`datamodules.ptb`, ``pipeline="word2vec_c"``), plain SGD on the
summed loss applied only to the rows a batch touches (the network computes those rows by hand, no autograd), the
rate decaying linearly per batch from ``lr`` (word2vec.c: 0.025) to ``lr * min_lr_ratio`` (1e-4) at the end of
the last epoch. The optimizer is `RowSGD`, so the rate lives in its ``param_groups`` and a ``LambdaLR`` schedule
decays it as for any other optimizer. Logged once per epoch: ``train/loss``, the mean over batches of the loss per
scored word (the target and the K noise words of a pair, as the book averages over a row), and ``val/loss`` /
``test/loss``.

At the end of training both tasks print the nearest words to each of ``probe_words`` (book: "chip") with their
cosine similarity, write them to ``neighbours.txt`` and the vectors to ``word_vectors.txt`` (GloVe text format) in
the run's folder, and send the neighbours to the loggers that take text; checkpoints name the table of the word
vectors, so ``python -m zoo similar --ckpt`` and ``analogy --ckpt`` read any of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from zoo.validation import check_hyperparameters, fraction, positive_int

__all__ = ["RowSGD", "SGNSTask", "WordEmbeddingTask"]


class _WordVectorsMixin:
    """What every word-embedding task does with its vectors (``self.vocab``, ``self.net.word_vectors()``): queries,
    the end-of-training report and files, and the checkpoint entry naming the vectors' table."""

    def _check_vocabulary(self, vocab: list[str] | None, num_neighbours: int) -> None:
        if not vocab:
            raise ConfigError(f"{type(self).__name__} needs the vocabulary: pass vocab=datamodule.vocab "
                              "(the CLI links it from the datamodule)")
        if len(set(vocab)) != len(vocab):
            raise ConfigError("vocab has duplicate entries; every word must appear once")
        if num_neighbours < 1:
            raise ConfigError(f"num_neighbours must be >= 1, got {num_neighbours}")

    def word_vectors(self) -> WordVectors:
        """The trained vectors with the vocabulary (``net.word_vectors()``: the book's centre embedding, word2vec.c's
        input vectors), for ``similar``, ``analogy`` and export."""
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


class WordEmbeddingTask(_WordVectorsMixin, ZooTask):
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
        self._check_vocabulary(vocab, num_neighbours)
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


class RowSGD(torch.optim.Optimizer):
    """Plain SGD for a network that writes its own update: ``step(closure)`` calls ``closure()``, which subtracts
    ``lr`` times the gradient from the rows a batch touches, in place, and returns the loss (`SGNSTask`: the gradient
    of a batch of 8,192 pairs touches about 20,000 rows of two 10,000-row tables, and is never a dense tensor). The
    rate lives in ``param_groups[0]["lr"]`` as for any optimizer, so an LR scheduler decays it; no state."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        if closure is None:
            raise ConfigError("RowSGD.step needs the closure that updates the rows (it has no gradients to apply)")
        return closure()


class SGNSTask(_WordVectorsMixin, ZooTask):
    """Base of the word-embedding models trained as word2vec.c trains them (see the module docstring). A batch is
    (inputs (B,), targets (B,), noise (B / G, K)) (`datamodules.ptb.SkipGramEpochs`). An architecture implements
    `build_net`: a network with ``rows(inputs, targets, noise, scale)`` (the summed loss and ``scale`` times its
    gradient as rows, `zoo.nets.skip_gram.SGNSRows`), ``add(rows, table)``, ``loss(inputs, targets, noise)``,
    ``word_vectors()`` and ``word_vectors_key``; it takes its own arguments keyword-only and passes the task's through
    ``**task``.

    Args:
        vocab: the words, index = id (``datamodule.vocab``; linked by the CLI, stored in the checkpoint).
        lr: starting rate of plain SGD on the summed loss of a batch (word2vec.c's ``alpha``: 0.025).
        min_lr_ratio: the rate decays linearly, batch by batch, to ``lr * min_lr_ratio`` at the end of the run
            (word2vec.c: 1e-4); the run's length is the Trainer's ``max_epochs`` (or ``max_steps``).
        threads: threads that compute a batch's update, each running PyTorch on one core (PyTorch's own threads
            meet at each of the ~15 small operations of a batch, and lose more than they gain on a busy machine);
            with 2 or more, they share the pairs of a batch and then write the two tables at once: the same update
            (up to the order of float additions) in less time where cores are free.
        probe_words: words whose nearest neighbours are printed at the end of training.
        num_neighbours: how many neighbours.
    """

    def __init__(self, *, vocab: list[str] | None = None, lr: float = 0.025, min_lr_ratio: float = 1e-4,
                 threads: int = 1, probe_words: list[str] | None = None, num_neighbours: int = 3) -> None:
        super().__init__()
        self._check_vocabulary(vocab, num_neighbours)
        name = type(self).__name__
        fraction(min_lr_ratio, "min_lr_ratio", name)
        positive_int(threads, "threads", name)
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, name)
        self.vocab = list(vocab)
        self.net = self.build_net()
        self.automatic_optimization = False  # RowSGD: the network writes its own update
        self.train_loss, self.val_loss, self.test_loss = MeanMetric(), MeanMetric(), MeanMetric()
        self._pool: ThreadPoolExecutor | None = None

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams`` and ``len(self.vocab)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    def forward(self, centers: torch.Tensor, contexts_negatives: torch.Tensor,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (B, 1, L) of words (B, 1) against words (B, L), as `WordEmbeddingTask`'s."""
        return self.net(centers, contexts_negatives, masks)

    # ---------------------------------------------------------------- training
    def _run(self, work: Callable[[], Any]) -> Any:
        """``work()`` on one of the task's threads, where PyTorch runs on one core."""
        return self._threads().submit(work).result()

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.hparams.threads, thread_name_prefix="sgns",
                                            initializer=torch.set_num_threads, initargs=(1,))
        return self._pool

    def _update(self, inputs: torch.Tensor, targets: torch.Tensor, noise: torch.Tensor, lr: float) -> torch.Tensor:
        """One SGD step on the rows the batch touches; returns the batch's summed loss before it."""
        net, parts = self.net, min(self.hparams.threads, len(noise))
        if parts <= 1:
            def step() -> torch.Tensor:
                rows = net.rows(inputs, targets, noise, -lr)
                net.add(rows)
                return rows.loss
            return self._run(step)
        pool, size = self._threads(), len(inputs) // len(noise)
        bounds = [len(noise) * i // parts for i in range(parts + 1)]  # groups of noise words per thread
        found = [pool.submit(net.rows, inputs[a * size:b * size], targets[a * size:b * size], noise[a:b], -lr)
                 for a, b in zip(bounds, bounds[1:])]
        rows = [f.result() for f in found]  # every part read the tables before any is written
        written = [pool.submit(lambda table=table: [net.add(r, table) for r in rows]) for table in ("input", "output")]
        for f in written:
            f.result()
        return torch.stack([r.loss for r in rows]).sum()

    def _log_loss(self, loss_sum: torch.Tensor, pairs: int, k: int, stage: str) -> torch.Tensor:
        loss = loss_sum / (pairs * (k + 1))  # per scored word: the target and the K noise words of each pair
        metric = getattr(self, f"{stage}_loss")
        metric.update(loss)
        if metric.update_count == 1:  # hand the metric to Lightning once per epoch; it computes and resets it
            self.log(f"{stage}/loss", metric, on_step=False, on_epoch=True, prog_bar=stage == "train")
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inputs, targets, noise = batch
        optimizer = self.optimizers()
        lr = optimizer.param_groups[0]["lr"]
        loss_sum = optimizer.step(closure=lambda: self._update(inputs, targets, noise, lr))
        self.lr_schedulers().step()
        return self._log_loss(loss_sum, len(inputs), noise.shape[1], "train")

    def _held_out_step(self, batch: Any, stage: str) -> None:
        inputs, targets, noise = batch
        loss_sum = self._run(lambda: self.net.loss(inputs, targets, noise))
        self._log_loss(loss_sum, len(inputs), noise.shape[1], stage)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._held_out_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._held_out_step(batch, "test")

    def configure_optimizers(self) -> dict[str, Any]:
        """`RowSGD` at ``lr``, decayed linearly per batch to ``lr * min_lr_ratio`` over the whole run."""
        hp = self.hparams
        total = self.trainer.estimated_stepping_batches
        if not math.isfinite(total) or total < 1:
            raise ConfigError(f"{type(self).__name__}'s learning rate decays over the whole run: give the Trainer "
                              "max_epochs or max_steps")
        optimizer = RowSGD(self.net.parameters(), hp.lr)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, _LinearDecay(total, hp.min_lr_ratio))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def teardown(self, stage: str) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["_pool"] = None  # threads are not copied; a copy starts its own
        return state


class _LinearDecay:
    """word2vec.c's rate: the factor ``max(floor, 1 - step / total)`` of the starting rate at batch ``step``."""

    def __init__(self, total: float, floor: float) -> None:
        self.total, self.floor = float(total), float(floor)

    def __call__(self, step: int) -> float:
        return max(self.floor, 1.0 - step / self.total)
