"""Penn Treebank (Mikolov's language-model version), the corpus of book 10.3: skip-gram training data for word2vec.

``ptb.zip`` holds ``ptb/ptb.{train,valid,test}.txt``: one sentence a line, tokens separated by spaces, rare words
already replaced by ``<unk>`` and numbers by ``N``. The book's pipeline (10.3.1 to 10.3.3), one tested function a
step, each vectorised over the whole corpus so that building an epoch's data takes about a second:

1. `read_ptb`: sentences of tokens (train: 42,068 sentences);
2. `word2vec_vocab` and `encode`: keep the words counted at least ``min_count`` = 5 times in the training text
   (887,100 tokens of 9,858 words);
3. `subsample`: keep each token with probability min(1, sqrt(t / f(w))), f the word's share of those tokens,
   t = 1e-4 (about 375,875 tokens are kept; "the" goes from 50,770 to about 2,013, "join" keeps all 45);
4. `centers_and_contexts`: every token of a sentence of two or more tokens is a centre; its contexts are the
   tokens at most ``w`` positions away in the same sentence, ``w`` drawn uniformly from 1..``max_window`` (5);
5. `negatives`: ``K`` = 5 noise words per context word, drawn with weights count^0.75 and never equal to one of the
   centre's context words;
6. `pack_pairs`: per centre one row of contexts then negatives, padded; a batch carries the book's ``(centers,
   contexts_negatives, masks, labels)``, shapes (B, 1), (B, L), (B, L), (B, L) with L the batch's longest row.

Every random draw comes from a ``torch.Generator`` seeded with ``seed``, so the same seed gives the same pairs and
negatives; the validation and test splits (``ptb.valid.txt``, ``ptb.test.txt``) go through the same steps with
the training vocabulary and frequencies, for a held-out loss. As in the book the data are drawn once, then shuffled
every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader, Dataset

from datamodules.download import Resource, cache_root, fetch, read_member
from datamodules.text import Vocab, count_tokens, decode_utf8
from zoo.errors import ConfigError, DataError
from zoo.validation import non_negative_float, non_negative_int, positive_int

__all__ = ["PTB", "PTBDataModule", "SkipGramBatches", "SkipGramPairs", "centers_and_contexts", "encode", "negatives",
           "pack_pairs", "read_ptb", "subsample", "word2vec_vocab"]

PTB = Resource(
    filename="ptb.zip",
    urls=("http://d2l-data.s3-accelerate.amazonaws.com/ptb.zip",),
    checksum="319d85e578af0cdc590547f26231e4e31cdf1e42",
)
SPLITS = ("train", "valid", "test")
NEGATIVE_CHUNK = 65_536  # centres per chunk when redrawing noise words that hit a context word (bounds memory)


def read_ptb(archive: Path, split: str = "train") -> list[list[str]]:
    """The sentences of ``ptb/ptb.<split>.txt`` in ``archive``, each a list of tokens (book 10.3.1)."""
    if split not in SPLITS:
        raise ConfigError(f"PTB has the splits {', '.join(SPLITS)}, not {split!r}")
    member = f"ptb/ptb.{split}.txt"
    text = decode_utf8(read_member(archive, member, "the PTB archive"), f"{member} in {archive}")
    return [line.split() for line in text.splitlines()]


def word2vec_vocab(sentences: list[list[str]], min_count: int = 5) -> tuple[Vocab, torch.Tensor]:
    """The words counted at least ``min_count`` times (most frequent first) and their counts (V,) (book 10.3.1.1)."""
    counts = count_tokens(sentences)
    vocab = Vocab.build(counts, min_freq=min_count)
    if not len(vocab):
        raise DataError(f"no word occurs {min_count} times or more; lower min_count or use a larger corpus")
    return vocab, torch.tensor([counts[t] for t in vocab.tokens], dtype=torch.long)


def encode(sentences: list[list[str]], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """The corpus as token ids (N,) and sentence lengths (S,); words outside ``vocab`` are dropped (as the book)."""
    index = vocab.index
    rows = [[index[t] for t in sentence if t in index] for sentence in sentences]
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    ids = torch.tensor([i for r in rows for i in r], dtype=torch.long)
    return ids, lengths


def subsample(ids: torch.Tensor, lengths: torch.Tensor, counts: torch.Tensor, t: float = 1e-4,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop each token with probability max(0, 1 - sqrt(t / f(w))), f(w) = count(w) / total (book 10.3.1.2).

    ``counts`` are the training counts (V,), so held-out text is subsampled with the training frequencies.
    Returns the kept ids and the new sentence lengths.
    """
    frequency = counts.double() / counts.sum()
    keep_probability = (t / frequency).sqrt().clamp(max=1.0)  # (V,)
    keep = torch.rand(ids.shape, generator=generator, dtype=torch.float64) < keep_probability[ids]
    sentence = torch.repeat_interleave(torch.arange(len(lengths)), lengths)  # (N,) sentence of every token
    return ids[keep], torch.bincount(sentence[keep], minlength=len(lengths))


def centers_and_contexts(ids: torch.Tensor, lengths: torch.Tensor, max_window: int,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every token of a sentence with two or more tokens as a centre, with its contexts (book 10.3.1.3).

    Returns centres (M,), contexts (M, 2 * max_window) in sentence order, packed to the left and padded with -1,
    and the number of contexts of each centre (M,), at least 1.
    """
    if max_window < 1:
        raise ConfigError(f"max_window must be >= 1, got {max_window}")
    starts = torch.cumsum(lengths, 0) - lengths  # (S,)
    sentence = torch.repeat_interleave(torch.arange(len(lengths)), lengths)  # (N,)
    position = torch.arange(len(ids)) - starts[sentence]  # (N,) index within the sentence
    length = lengths[sentence]  # (N,)
    is_center = length >= 2
    window = torch.randint(1, max_window + 1, ids.shape, generator=generator)  # (N,) drawn for every token
    offsets = torch.cat([torch.arange(-max_window, 0), torch.arange(1, max_window + 1)])  # (2W,)
    target = position[:, None] + offsets  # (N, 2W) positions of the candidate contexts
    valid = (offsets.abs() <= window[:, None]) & (target >= 0) & (target < length[:, None])  # (N, 2W)
    gathered = ids[(starts[sentence][:, None] + target).clamp(0, len(ids) - 1)]  # (N, 2W)
    contexts = torch.where(valid, gathered, torch.full_like(gathered, -1))[is_center]
    valid = valid[is_center]
    order = torch.sort((~valid).to(torch.int8), dim=1, stable=True).indices  # valid entries first, in order
    return ids[is_center], contexts.gather(1, order), valid.sum(dim=1)


def negatives(contexts: torch.Tensor, n_contexts: torch.Tensor, weights: torch.Tensor, k: int,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """``k`` noise words per context word, drawn with ``weights`` (V,), none equal to a context of its centre.

    Returns (M, k * contexts.shape[1]): the first ``k * n_contexts[i]`` entries of row ``i`` are its noise words,
    the rest -1 (book 10.3.2, ``get_negatives``; a draw that hits a context word is drawn again).
    """
    if k < 1:
        raise ConfigError(f"the number of negatives per context word must be >= 1, got {k}")
    m, width = contexts.shape[0], k * contexts.shape[1]
    needed = torch.arange(width) < (k * n_contexts)[:, None]  # (M, k * 2W)
    out = torch.full((m, width), -1, dtype=torch.long)
    for start in range(0, m, NEGATIVE_CHUNK):
        rows = slice(start, start + NEGATIVE_CHUNK)
        todo = needed[rows].clone()
        chunk = out[rows]
        while todo.any():
            draws = torch.multinomial(weights.double(), int(todo.sum()), replacement=True, generator=generator)
            chunk[todo] = draws
            hits = (chunk[:, :, None] == contexts[rows][:, None, :]).any(dim=2)  # (m, k * 2W) equal to a context
            todo = todo & hits
    return out


@dataclass
class SkipGramPairs:
    """Centres (M,), one row per centre of its contexts then its noise words (M, width) padded with 0, and the
    number of contexts per centre (M,); ``k`` noise words per context."""

    centers: torch.Tensor
    contexts_negatives: torch.Tensor
    n_contexts: torch.Tensor
    k: int

    def __len__(self) -> int:
        return len(self.centers)

    @property
    def num_pairs(self) -> int:
        """Centre/context pairs (each with its k noise words)."""
        return int(self.n_contexts.sum())


def pack_pairs(centers: torch.Tensor, contexts: torch.Tensor, n_contexts: torch.Tensor, noise: torch.Tensor,
               k: int) -> SkipGramPairs:
    """One row per centre: its contexts, then its noise words, then padding (book 10.3.3, ``batchify``), stored in the
    smallest integer type that holds the vocabulary."""
    both = torch.cat([contexts, noise], dim=1)  # (M, 2W (1 + k)) with -1 holes
    order = torch.sort((both < 0).to(torch.int8), dim=1, stable=True).indices
    packed = both.gather(1, order).clamp(min=0)  # valid entries first, padding 0 as the book
    small = torch.int16 if packed.numel() == 0 or int(packed.max()) < 2**15 else torch.int32
    return SkipGramPairs(centers.clone(), packed.to(small), n_contexts.to(torch.uint8), k)


class SkipGramBatches(Dataset):
    """Batches of `SkipGramPairs` as the book's ``batchify`` makes them; ``__getitems__`` serves a whole batch with a
    few tensor operations (use ``collate_fn=lambda batch: batch``)."""

    def __init__(self, pairs: SkipGramPairs) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        p = self.pairs
        n_contexts = p.n_contexts.index_select(0, idx).long()  # (B,)
        used = n_contexts * (p.k + 1)  # (B,) contexts + noise words per row
        width = int(used.max())
        columns = torch.arange(width)
        rows = p.contexts_negatives.index_select(0, idx)[:, :width].long()  # (B, L)
        masks = (columns < used[:, None]).float()  # (B, L)
        labels = (columns < n_contexts[:, None]).float()  # (B, L)
        return p.centers.index_select(0, idx).view(-1, 1), rows, masks, labels


def _identity(batch: Any) -> Any:
    return batch


class PTBDataModule(L.LightningDataModule):
    """Skip-gram centre/context/noise batches from PTB (book 10.3); see the module docstring for the pipeline.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        min_count: keep words counted at least this many times in the training text (book: 5).
        subsample_t: the subsampling constant t (book: 1e-4); 0 keeps every token.
        max_window: largest context window (book: 5).
        num_negatives: noise words per context word, K (book: 5).
        batch_size: centres per batch (book: 512).
        seed: seed of the subsampling, windows and noise words (the model's initialisation and the shuffling follow
            ``seed_everything``).
        num_workers: DataLoader worker processes (a batch is a few tensor operations: 0 is fastest).
    """

    def __init__(self, data_dir: str | None = None, min_count: int = 5, subsample_t: float = 1e-4,
                 max_window: int = 5, num_negatives: int = 5, batch_size: int = 512, seed: int = 0,
                 num_workers: int = 0) -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (("min_count", min_count), ("max_window", max_window), ("num_negatives", num_negatives),
                           ("batch_size", batch_size)):
            positive_int(value, key, name)
        non_negative_int(num_workers, "num_workers", name)
        non_negative_float(subsample_t, "subsample_t", name)
        self.save_hyperparameters()
        self.root = cache_root(data_dir)
        self.pairs: dict[str, SkipGramPairs] = {}

    def prepare_data(self) -> None:
        fetch(PTB, self.root)

    @cached_property
    def _train(self) -> tuple[list[list[str]], Vocab, torch.Tensor]:
        """(training sentences, vocabulary, counts); reads the archive on first use."""
        sentences = read_ptb(fetch(PTB, self.root), "train")
        vocab, counts = word2vec_vocab(sentences, self.hparams.min_count)
        return sentences, vocab, counts

    @property
    def vocab(self) -> list[str]:
        """The words of the model, most frequent first (linked into the model by the CLI)."""
        return self._train[1].tokens

    def build_pairs(self, split: str) -> tuple[SkipGramPairs, dict[str, Any]]:
        """The split's skip-gram data and the counts of each step (for the book's printed numbers)."""
        hp = self.hparams
        train_sentences, vocab, counts = self._train
        sentences = train_sentences if split == "train" else read_ptb(fetch(PTB, self.root), split)
        generator = torch.Generator().manual_seed(hp.seed + SPLITS.index(split))
        ids, lengths = encode(sentences, vocab)
        kept, kept_lengths = subsample(ids, lengths, counts, hp.subsample_t, generator) if hp.subsample_t \
            else (ids, lengths)
        centers, contexts, n_contexts = centers_and_contexts(kept, kept_lengths, hp.max_window, generator)
        noise = negatives(contexts, n_contexts, counts.double() ** 0.75, hp.num_negatives, generator)
        pairs = pack_pairs(centers, contexts, n_contexts, noise, hp.num_negatives)
        examples = {w: (int((ids == vocab[w]).sum()), int((kept == vocab[w]).sum())) for w in ("the", "join")
                    if w in vocab}
        stats = {"sentences": len(sentences), "tokens": len(ids), "subsampled": len(kept), "centers": len(pairs),
                 "pairs": pairs.num_pairs, "examples": examples}
        return pairs, stats

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "valid"), "validate": ("valid",), "test": ("test",)}.get(stage, SPLITS)
        for split in splits:
            if split not in self.pairs:
                self.pairs[split], stats = self.build_pairs(split)
                if rank_zero_only.rank == 0:  # the book's counts, printed once per split
                    print(describe(split, stats, len(self.vocab), self.hparams.min_count), flush=True)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        return DataLoader(SkipGramBatches(self.pairs[split]), batch_size=self.hparams.batch_size, shuffle=shuffle,
                          collate_fn=_identity, num_workers=self.hparams.num_workers,
                          persistent_workers=self.hparams.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


def describe(split: str, stats: dict[str, Any], vocab_size: int, min_count: int) -> str:
    """The book's counts (10.3.1) for one split, in one paragraph."""
    examples = "; ".join(f"{w}: before={b:,}, after={a:,}" for w, (b, a) in stats["examples"].items())
    return (f"PTB {split}: {stats['sentences']:,} sentences; {stats['tokens']:,} tokens of the {vocab_size:,} "
            f"words counted >= {min_count} times in train; {stats['subsampled']:,} tokens after subsampling"
            + (f" ({examples})" if examples else "")
            + f"; {stats['centers']:,} centres with {stats['pairs']:,} centre/context pairs")
