"""The text-classification task: sentiment of a review (book 10.7, 10.8), from a batch to ``classify this sentence``.

A batch is ``(tokens (B, T), lengths (B,), labels (B,))`` (`datamodules.imdb`). The loss is cross-entropy, the
epoch's loss and accuracy per split come from `zoo.tasks.classifier_metrics` (shared with the image classifiers),
logged as ``train/*`` and, for what the validation loader serves, ``val/*`` or ``test/*``.

Pretrained embeddings (book 10.7.2.1) are an option of the task: ``embedding`` names GloVe (``glove.6B.100d``), a
vector file in the GloVe text format, or a zoo word2vec checkpoint (`zoo.pretrained.word_vectors`); every embedding
table of the network (``embedding``, and ``constant_embedding`` when it has one) starts from those vectors, words
without one from zero (the book's choice; how many were found is printed, which the book meant to and did not).
``freeze_embedding`` keeps ``embedding`` fixed (10.7); a ``constant_embedding`` is always fixed (10.8). The
constructor reads no vectors: `load_pretrained` does (``zoo.create_model``, the command line and the start of a
Trainer run call it), and never after a checkpoint was restored, which holds every tensor.

The vocabulary and the class names travel in the hyperparameters, so ``classify(texts)`` works from a checkpoint
alone: a text is lower-cased and split on spaces as in training, unknown words become ``<unk>``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_only
from torch import nn

from zoo.errors import ConfigError, DataUnavailableError, PromptError
from zoo.optim import build_optimizer
from zoo.pretrained.word_vectors import WordVectors
from zoo.tasks.base import ZooTask
from zoo.tasks.classifier_metrics import ClassifierSteps, EpochMetrics, top_k
from zoo.validation import check_hyperparameters

__all__ = ["TextClassificationTask"]

PAD, UNK = "<pad>", "<unk>"


class TextClassificationTask(ClassifierSteps, ZooTask):
    """Base of the text classifiers; an architecture subclasses it, implements `build_net` (a network mapping tokens
    (B, T) and lengths (B,) to logits (B, num_classes), with an ``embedding`` table) and takes its own arguments
    keyword-only, passing the task's through ``**task``.

    Args:
        vocab: the tokens, index = id, ``<pad>`` and ``<unk>`` among them (``datamodule.vocab``, linked by the CLI).
        classes: class names, index = label (``datamodule.classes``; IMDb: negative, positive).
        max_len: texts given to `classify` are cut to this many tokens, as in training (book: 500).
        embedding: ``random`` (PyTorch's initialisation), ``glove.6B.50d``/``glove.6B.100d``, a vector file or a
            word2vec checkpoint; its dimension must be the network's embedding size.
        freeze_embedding: keep the ``embedding`` table fixed (book 10.7: the GloVe vectors are not trained).
        optimizer, lr, momentum, weight_decay: the optimizer (book: Adam over the trainable parameters).
    """

    def __init__(self, *, vocab: list[str] | None = None, classes: list[str] | None = None, max_len: int = 500,
                 embedding: str = "random", freeze_embedding: bool = False, optimizer: str = "adam",
                 lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        if not vocab or PAD not in vocab or UNK not in vocab:
            raise ConfigError(f"{name} needs a vocabulary with {PAD} and {UNK}: pass vocab=datamodule.vocab (the "
                              "CLI links it from the datamodule)")
        if len(set(vocab)) != len(vocab):
            raise ConfigError("vocab has duplicate entries; every token must appear once")
        classes = list(classes or ["negative", "positive"])
        if len(classes) < 2 or max_len < 1:
            raise ConfigError(f"{name} needs two classes or more and max_len >= 1, got {classes} and {max_len}")
        self.save_hyperparameters()
        check_hyperparameters(self.hparams, type(self).__name__)
        self.vocab = list(vocab)
        self.index = {token: i for i, token in enumerate(self.vocab)}
        self.net = self.build_net()
        self.initial_embedding = "random" if embedding == "random" else f"{embedding}, not loaded yet (load_pretrained)"
        if freeze_embedding:
            self.net.embedding.weight.requires_grad_(False)
        self.metrics = EpochMetrics(len(classes))

    def build_net(self) -> nn.Module:
        """The network, built from ``self.hparams`` and ``len(self.vocab)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_net()")

    @property
    def pad_index(self) -> int:
        return self.index[PAD]

    # ---------------------------------------------------------------- pretrained embeddings (book 10.7.2.1)
    def _load_pretrained(self) -> None:
        """Copy the pretrained vectors named by ``embedding`` into every embedding table."""
        if self.hparams.embedding != "random":
            self.initial_embedding = self._load_embedding()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        if self.hparams.embedding != "random":
            self.initial_embedding = f"the checkpoint's (trained from {self.hparams.embedding})"

    def _load_embedding(self) -> str:
        hp = self.hparams
        tables = [t for t in (self.net.embedding, getattr(self.net, "constant_embedding", None)) if t is not None]
        try:
            vectors = WordVectors.load(hp.embedding)
        except DataUnavailableError as exc:
            raise DataUnavailableError(f"{exc}\nOr train without pretrained vectors (--model.init_args.embedding "
                                       "random), or give a local file in the GloVe text format "
                                       "(--model.init_args.embedding /path/to/vec.txt).") from None
        if vectors.dim != tables[0].embedding_dim:
            raise ConfigError(f"{vectors.name} has {vectors.dim}-dimensional vectors, but {type(self).__name__}'s "
                              f"embedding has {tables[0].embedding_dim}; set embed_size: {vectors.dim}")
        matrix, found = vectors.embedding_for(self.vocab, unknown="zero")
        with torch.no_grad():
            for table in tables:
                table.weight.copy_(matrix)
        self._announce(f"embedding: {found:,} of {len(self.vocab):,} vocabulary words found in {vectors.name}; the "
                       f"other {len(self.vocab) - found:,} start at zero")
        return f"{vectors.name} ({found:,} of {len(self.vocab):,} words found)"

    @rank_zero_only
    def _announce(self, message: str) -> None:
        print(message, flush=True)

    # ---------------------------------------------------------------- training
    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, num_classes) of token ids (B, T); ``lengths`` (B,) counts the tokens before padding."""
        return self.net(tokens, lengths)

    def _step(self, batch: Any, split: str) -> torch.Tensor:
        tokens, lengths, labels = batch  # (B, T), (B,), (B,)
        logits = self(tokens, lengths)
        loss = F.cross_entropy(logits, labels)
        self.metrics.update(split, loss, logits, labels)
        return loss


    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        params = [p for p in self.parameters() if p.requires_grad]  # the book leaves the fixed embedding out
        return build_optimizer(hp.optimizer, params, hp.lr, hp.weight_decay, hp.momentum)

    # ---------------------------------------------------------------- classifying text (book predict_sentiment)
    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as in training: lower-cased, split on spaces, cut at ``max_len``; unknown -> <unk>."""
        if not isinstance(text, str) or not text.strip():
            raise PromptError("the text is empty; give a sentence to classify")
        tokens = [t for t in text.lower().split(" ") if t]
        unk = self.index[UNK]
        return [self.index.get(t, unk) for t in tokens[: self.hparams.max_len]]

    @torch.no_grad()
    def classify(self, texts: list[str], k: int = 1) -> list[list[tuple[str, float]]]:
        """The ``k`` most likely (class, probability) pairs of each text (book 10.7.3: "positive"/"negative")."""
        if not texts:
            raise PromptError("no text to classify")
        rows = [self.encode(t) for t in texts]
        width = max(max(len(r) for r in rows), getattr(self.net, "min_length", 1))
        tokens = torch.full((len(rows), width), self.pad_index, dtype=torch.long)
        for i, row in enumerate(rows):
            tokens[i, : len(row)] = torch.tensor(row)
        lengths = torch.tensor([len(r) for r in rows])
        was_training = self.training
        self.eval()
        try:
            logits = self(tokens.to(self.device), lengths.to(self.device))
        finally:
            self.train(was_training)
        return top_k(logits, self.hparams.classes, k)

    def predict_step(self, batch: list[str], batch_idx: int = 0) -> list[str]:
        """Texts -> ``"positive 0.973: this movie is so great"`` lines."""
        return [f"{top[0][0]} {top[0][1]:.3f}: {text}" for text, top in zip(batch, self.classify(list(batch)))]

    def fit_summary(self) -> str:
        """Where the embedding started from, and the book's two sentences classified."""
        lines = [f"initial embedding: {self.initial_embedding}"]
        lines += [f"{top[0][0]} {top[0][1]:.3f}: {text}"
                  for text, top in zip(BOOK_SENTENCES, self.classify(list(BOOK_SENTENCES)))]
        return "\n".join(lines)


#: The book's two test sentences (10.7.3): positive, then negative.
BOOK_SENTENCES = ("this movie is so great", "this movie is so bad")
