"""IMDb movie reviews (Maas et al. 2011, "Learning Word Vectors for Sentiment Analysis"), the sentiment data of book
10.7 and 10.8: 25,000 training and 25,000 test reviews, half positive, half negative.

``aclImdb_v1.tar.gz`` (about 80 MB, 100,000 files) is fetched like every dataset (cache, ``$ZOO_DATA_MIRROR``, the
d2l and Stanford URLs, sha1) and unpacked once, safely (`datamodules.download.extract`: no member may land outside
the folder, links are refused), into ``<cache>/aclImdb/{train,test}/{pos,neg}/*.txt``. The book's preprocessing
(10.7.1):

* a review is lower-cased with its line breaks removed and split on single spaces (``text.split(" ")``, as the book's
  tokenizer; two spaces in a row make an empty token, as there);
* the vocabulary is the training reviews' tokens counted at least ``min_freq`` = 5 times, after ``<pad>`` and
  ``<unk>`` (the book, with torchtext's two specials: 46,151 words on the full data set);
* every review is truncated or padded to ``max_len`` = 500 tokens; label 1 = positive, 0 = negative.

Reading and tokenising 50,000 files takes a while once; the tokenised corpus (every distinct token once, and each
review as indices into that list) is cached as ``aclImdb/tokenised.pt`` (`datamodules.cache`), rebuilt when the
archive changes, so later runs read it in about a second.

A batch is ``(tokens (B, T) int64, lengths (B,), labels (B,))``; ``lengths`` counts the tokens before padding. The
training data are shuffled (the book shuffles once; here every epoch); ``val_size`` holds out a seeded part of the
training set, and the test split is never split. ``length_buckets`` (off by default, so the book's recipes stay the
book's) groups reviews of similar length into a batch and cuts the batch at its longest review, which skips most
padding for models that take variable lengths (`zoo.text_classifiers`).
"""

from __future__ import annotations

import collections
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from datamodules.cache import load_cached
from datamodules.download import Resource, cache_root, ensure_extracted, fetch
from datamodules.images import split_indices
from datamodules.splits import SplitLoaders
from datamodules.text import PAD, UNK, Vocab, decode_utf8
from zoo.errors import ConfigError, DataError
from zoo.validation import non_negative_int, positive_int

__all__ = ["IMDB", "IMDB_CLASSES", "IMDbDataModule", "LengthBuckets", "ReviewBatches", "read_imdb", "tokenize_review"]

IMDB = Resource(
    filename="aclImdb_v1.tar.gz",
    urls=("http://d2l-data.s3-accelerate.amazonaws.com/aclImdb_v1.tar.gz",
          "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
    checksum="01ada507287d82875905620988597833ad4e0903",
)
IMDB_CLASSES = ["negative", "positive"]  # label 0 = neg, 1 = pos
FOLDER = "aclImdb"
CACHE_VERSION = 1


def read_imdb(root: Path, split: str) -> tuple[list[str], list[int]]:
    """The reviews of ``root/{split}/{pos,neg}``, lower-cased without line breaks, and their labels (book 10.7.1.1);
    files in name order, positive first."""
    texts, labels = [], []
    for folder, label in (("pos", 1), ("neg", 0)):
        directory = root / split / folder
        if not directory.is_dir():
            raise DataError(f"{directory} is missing; is {root} the aclImdb folder? Delete it and run again to unpack "
                            "the archive afresh")
        for path in sorted(directory.glob("*.txt")):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read the review {path} ({exc}); delete {root} and run again") from exc
            text = decode_utf8(data, f"the review {path}")
            texts.append(text.replace("\n", "").lower())
            labels.append(label)
    if not texts:
        raise DataError(f"{root / split} holds no reviews")
    return texts, labels


def tokenize_review(text: str) -> list[str]:
    """The book's tokenizer: lower-case, split on single spaces."""
    return text.lower().split(" ")


def _tokenise_corpus(root: Path) -> dict[str, Any]:
    """Every distinct token once (in order of first appearance) and each split's reviews as indices into it."""
    table: dict[str, int] = {}
    data: dict[str, Any] = {}
    for split in ("train", "test"):
        texts, labels = read_imdb(root, split)
        ids, lengths = [], []
        for text in texts:
            tokens = tokenize_review(text)
            ids += [table.setdefault(t, len(table)) for t in tokens]
            lengths.append(len(tokens))
        data[split] = {"ids": torch.tensor(ids, dtype=torch.int32), "lengths": torch.tensor(lengths),
                       "labels": torch.tensor(labels)}
    data["tokens"] = list(table)
    return data


class ReviewBatches(Dataset):
    """Reviews as (N, max_len) indices with their lengths and labels; ``__getitems__`` serves a whole batch, cut at
    its longest review when ``trim`` is set."""

    def __init__(self, tokens: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, trim: bool = False) -> None:
        self.tokens, self.lengths, self.labels, self.trim = tokens, lengths, labels, trim

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        lengths = self.lengths.index_select(0, idx)  # (B,)
        tokens = self.tokens.index_select(0, idx)  # (B, max_len)
        if self.trim:
            tokens = tokens[:, : max(int(lengths.max()), 1)]
        return tokens.long(), lengths, self.labels.index_select(0, idx)


class LengthBuckets(Sampler[list[int]]):
    """Batches of reviews of similar length: each epoch the reviews are shuffled, cut into pools of ``pool`` batches,
    sorted by length within a pool and batched, and the batches shuffled."""

    def __init__(self, lengths: torch.Tensor, batch_size: int, pool: int = 50) -> None:
        self.lengths, self.batch_size, self.pool = lengths, batch_size, pool

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.lengths))
        batches = []
        size = self.batch_size * self.pool
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            chunk = chunk[torch.argsort(self.lengths[chunk], stable=True)]
            batches += [chunk[i:i + self.batch_size].tolist() for i in range(0, len(chunk), self.batch_size)]
        for i in torch.randperm(len(batches)).tolist():
            yield batches[i]


def _identity(batch: Any) -> Any:
    return batch


class IMDbDataModule(SplitLoaders, L.LightningDataModule):
    """IMDb reviews as (tokens, lengths, labels) batches (book 10.7); see the module docstring.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        min_freq: keep training tokens counted at least this many times (book: 5).
        max_len: truncate or pad every review to this many tokens (book: 500).
        batch_size: reviews per batch (book: 64).
        val_size: training reviews held out by a seeded split for validation; 0 (the book) evaluates on the test
            split during training, logged as ``test/*``. The test split is never split.
        seed: seed of the validation split.
        length_buckets: batch reviews of similar length and cut each batch at its longest review (less padding; not
            the book's batches).
        num_workers: DataLoader worker processes (a batch is two indexing operations: 0 is fastest).
        predict_texts: texts served by ``predict_dataloader`` (``python -m zoo predict``).
    """

    classes: ClassVar[list[str]] = IMDB_CLASSES

    def __init__(self, data_dir: str | None = None, min_freq: int = 5, max_len: int = 500, batch_size: int = 64,
                 val_size: int = 0, seed: int = 0, length_buckets: bool = False, num_workers: int = 0,
                 predict_texts: list[str] | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (("min_freq", min_freq), ("max_len", max_len), ("batch_size", batch_size)):
            positive_int(value, key, name)
        non_negative_int(val_size, "val_size", name)
        non_negative_int(num_workers, "num_workers", name)
        self.save_hyperparameters()
        self.root = cache_root(data_dir)

    @property
    def max_len(self) -> int:
        """Tokens per review (linked into the model, which cuts the texts it classifies the same way)."""
        return self.hparams.max_len

    def prepare_data(self) -> None:
        ensure_extracted(fetch(IMDB, self.root), self.root, FOLDER)

    @cached_property
    def corpus(self) -> dict[str, Any]:
        """The tokenised corpus, from its cache when the archive is unchanged; unpacks the archive if needed."""
        archive = fetch(IMDB, self.root)
        folder = ensure_extracted(archive, self.root, FOLDER)
        return load_cached(folder / "tokenised.pt", [archive], lambda: _tokenise_corpus(folder), CACHE_VERSION)

    @cached_property
    def vocab(self) -> list[str]:
        """``<pad>``, ``<unk>`` and the training tokens counted >= ``min_freq`` times (linked into the model)."""
        train = self.corpus["train"]
        counts = torch.bincount(train["ids"].long(), minlength=len(self.corpus["tokens"]))
        counter = collections.Counter(dict(zip(self.corpus["tokens"], counts.tolist())))
        return Vocab.build(counter, self.hparams.min_freq, reserved=[PAD, UNK]).tokens

    def encode_split(self, split: str) -> ReviewBatches:
        """The split's reviews as vocabulary indices, truncated or padded to ``max_len`` (book ``preprocess_imdb``)."""
        data, max_len = self.corpus[split], self.hparams.max_len
        vocab = Vocab(self.vocab)
        to_vocab = torch.tensor([vocab.index.get(t, vocab.unk) for t in self.corpus["tokens"]], dtype=torch.int32)
        lengths = data["lengths"]
        starts = torch.cumsum(lengths, 0) - lengths
        kept = lengths.clamp(max=max_len)  # (N,)
        tokens = torch.full((len(lengths), max_len), vocab[PAD], dtype=torch.int32)
        column = torch.arange(max_len)
        inside = column < kept[:, None]  # (N, max_len)
        positions = (starts[:, None] + column)[inside]
        tokens[inside] = to_vocab[data["ids"][positions].long()]
        return ReviewBatches(tokens, kept, data["labels"], trim=self.hparams.length_buckets)

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if stage in (None, "fit", "validate") and not hasattr(self, "train_set"):
            train = self.encode_split("train")
            train_idx, val_idx = split_indices(len(train), hp.val_size, hp.seed)
            self.train_set = _subset(train, train_idx)
            self.val_set = _subset(train, val_idx) if val_idx is not None else None
        if (stage in (None, "test") or not hp.val_size) and not hasattr(self, "test_set"):
            self.test_set = self.encode_split("test")

    def _loader(self, dataset: ReviewBatches, training: bool) -> DataLoader:
        workers = self.hparams.num_workers
        common = {"collate_fn": _identity, "num_workers": workers, "persistent_workers": workers > 0}
        if training and self.hparams.length_buckets:
            return DataLoader(dataset, batch_sampler=LengthBuckets(dataset.lengths, self.hparams.batch_size), **common)
        return DataLoader(dataset, batch_size=self.hparams.batch_size, shuffle=training, **common)

    def predict_dataloader(self) -> DataLoader:
        texts = self.hparams.predict_texts
        if not texts:
            raise ConfigError(f"{type(self).__name__}: no texts to classify; set predict_texts (--data.init_args."
                              "predict_texts '[\"this movie is so great\"]')")
        return DataLoader(list(texts), batch_size=self.hparams.batch_size, collate_fn=_identity)


def _subset(dataset: ReviewBatches, indices: torch.Tensor) -> ReviewBatches:
    return ReviewBatches(dataset.tokens.index_select(0, indices), dataset.lengths.index_select(0, indices),
                         dataset.labels.index_select(0, indices), dataset.trim)
