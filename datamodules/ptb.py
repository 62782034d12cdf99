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

``pipeline="word2vec_c"`` prepares the data as word2vec.c (Mikolov et al.) and gensim do, for
`zoo.SkipGramSGNS` (recipe ``skipgram_sgns_ptb``), and draws it again every epoch:

1. the same sentences, vocabulary and encoding;
2. `subsample` with word2vec.c's rule (``rule="word2vec_c"``, gensim's ``sample``): keep each token with probability
   min(1, (sqrt(f / t) + 1) t / f), t = 1e-3 (gensim's default): only words above 0.1 % of the text lose tokens;
3. `skip_gram_pairs`: each centre's window drawn uniformly from 1..``max_window``, and one pair per context word,
   word2vec.c's (input word, predicted word) = (context word, centre); then the pairs in a random order;
4. `unigram_table` and `noise_groups`: word2vec.c's table of 10 million slots, word w in a share count(w)^0.75 / sum
   of them, and ``num_negatives`` noise words per pair drawn from it; ``noise_sharing`` consecutive (so random)
   pairs share one draw, so that their scores against it are one small matrix product (Ji et al. 2016 share a
   draw over a window; sharing it among the contexts of one centre gives worse vectors);
5. `SkipGramEpochs`: batches of about ``batch_size`` pairs (inputs (B,), targets (B,), noise (B / noise_sharing,
   K)), the same number every epoch, the epoch's draw seeded by (``seed``, epoch) so that a resumed run draws what
   the uninterrupted one did.

All of it is a few vectorised passes over the corpus (no Python loop per token or pair): about 0.3 s per epoch of
PTB on one core.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader, Dataset, Sampler

from datamodules.download import Resource, cache_root, fetch, read_member
from datamodules.text import Vocab, count_tokens, decode_utf8
from zoo.errors import ConfigError, DataError
from zoo.validation import non_negative_float, non_negative_int, positive_int

__all__ = ["PIPELINES", "PTB", "EpochSampler", "PTBDataModule", "SkipGramBatches", "SkipGramEpochs", "SkipGramPairs",
           "centers_and_contexts", "encode", "keep_probability", "negatives", "noise_groups", "pack_pairs", "read_ptb",
           "skip_gram_pairs", "subsample", "unigram_table", "word2vec_vocab"]

PTB = Resource(
    filename="ptb.zip",
    urls=("http://d2l-data.s3-accelerate.amazonaws.com/ptb.zip",),
    checksum="319d85e578af0cdc590547f26231e4e31cdf1e42",
)
SPLITS = ("train", "valid", "test")
NEGATIVE_CHUNK = 65_536  # centres per chunk when redrawing noise words that hit a context word (bounds memory)
#: The data pipelines: the book's (10.3), and word2vec.c's (drawn again every epoch, for `zoo.SkipGramSGNS`).
PIPELINES = ("book", "word2vec_c")
#: Slots of word2vec.c's table of noise words (word2vec.c has 1e8; 1e7 gives every PTB word at least 30 slots).
UNIGRAM_TABLE_SIZE = 10_000_000


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


def keep_probability(counts: torch.Tensor, t: float, rule: str = "book") -> torch.Tensor:
    """The probability (V,) of keeping a token of each word when subsampling, f(w) = count(w) / total:

    * ``"book"`` (10.3.1.2): min(1, sqrt(t / f(w)));
    * ``"word2vec_c"`` (word2vec.c, gensim's ``sample``): min(1, (sqrt(f(w) / t) + 1) t / f(w)), which keeps every
      token of a word with f(w) <= 2.6 t and (t / f)^0.5 of the most frequent ones.
    """
    frequency = counts.double() / counts.sum()
    if rule == "book":
        return (t / frequency).sqrt().clamp(max=1.0)
    if rule == "word2vec_c":
        return (((frequency / t).sqrt() + 1) * t / frequency).clamp(max=1.0)
    raise ConfigError(f"the subsampling rule must be 'book' or 'word2vec_c', got {rule!r}")


def subsample(ids: torch.Tensor, lengths: torch.Tensor, counts: torch.Tensor, t: float = 1e-4,
              generator: torch.Generator | None = None, rule: str = "book") -> tuple[torch.Tensor, torch.Tensor]:
    """Drop each token with probability 1 - `keep_probability` of its word (book 10.3.1.2: max(0, 1 - sqrt(t / f(w))),
    f(w) = count(w) / total; ``rule="word2vec_c"``: word2vec.c's).

    ``counts`` are the training counts (V,), so held-out text is subsampled with the training frequencies.
    Returns the kept ids and the new sentence lengths.
    """
    keep = torch.rand(ids.shape, generator=generator, dtype=torch.float64) < keep_probability(counts, t, rule)[ids]
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


# ---------------------------------------------------------------- word2vec.c's pipeline (pipeline="word2vec_c")
def skip_gram_pairs(ids: torch.Tensor, lengths: torch.Tensor, max_window: int,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """word2vec.c's skip-gram pairs: every token a centre; its window ``b`` drawn uniformly from 1..``max_window``;
    one pair per context word at most ``b`` positions away in the same sentence.

    Returns (inputs, targets), each (P,) int32: the context word and its centre, word2vec.c's (input word, predicted
    word); grouped by offset (all pairs of offset -1, then +1, -2, +2, ...), in corpus order within an offset.
    """
    if max_window < 1:
        raise ConfigError(f"max_window must be >= 1, got {max_window}")
    words = ids.to(torch.int32)
    starts = torch.cumsum(lengths, 0) - lengths  # (S,)
    sentence = torch.repeat_interleave(torch.arange(len(lengths)), lengths)  # (N,)
    position = (torch.arange(len(ids)) - starts[sentence]).to(torch.int32)  # (N,) index within the sentence
    window = torch.randint(1, max_window + 1, ids.shape, generator=generator, dtype=torch.int32)  # (N,)
    left = torch.minimum(window, position)  # (N,) contexts before the centre
    right = torch.minimum(window, lengths[sentence].to(torch.int32) - 1 - position)  # and after it
    inputs, targets = [], []
    for offset in range(1, max_window + 1):
        for sign, room in ((-1, left), (1, right)):
            centre = (room >= offset).nonzero().squeeze(1)
            inputs.append(words[centre + sign * offset])
            targets.append(words[centre])
    return torch.cat(inputs), torch.cat(targets)


def unigram_table(counts: torch.Tensor, power: float = 0.75, size: int = UNIGRAM_TABLE_SIZE) -> torch.Tensor:
    """word2vec.c's table of noise words (``InitUnigramTable``): ``size`` slots, word w filling a run of
    count(w)^power / sum_v count(v)^power of them (to the nearest slot), in vocabulary order; a noise word is the
    word of a uniformly drawn slot. int16 (or int32 for 32,768 words or more)."""
    weights = counts.double() ** power
    edges = torch.round(torch.cumsum(weights, 0) / weights.sum() * size).long()  # (V,) where each run ends
    slots = torch.diff(edges, prepend=edges.new_zeros(1))
    small = torch.int16 if len(counts) < 2**15 else torch.int32
    return torch.repeat_interleave(torch.arange(len(counts), dtype=small), slots)


def noise_groups(table: torch.Tensor, groups: int, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``groups`` x ``k`` noise words (long), each the word of a uniformly drawn slot of ``table`` (`unigram_table`)."""
    if k < 1:
        raise ConfigError(f"the number of negatives per pair must be >= 1, got {k}")
    return table[torch.randint(len(table), (groups, k), generator=generator)].long()


class SkipGramEpochs(Dataset):
    """word2vec.c's training data (`skip_gram_pairs`, `noise_groups`), drawn again every epoch; item ``(epoch, b)``
    is batch ``b`` of that epoch: (inputs (B,), targets (B,), noise (B / sharing, k)), pair ``i`` scored against
    the ``k`` noise words of row ``i // sharing``. `EpochSampler` serves an epoch's items.

    An epoch's draw (subsampling, windows, order, noise words) is seeded by (``seed``, epoch), so an epoch is the
    same in a resumed run; without ``redraw`` (held-out text) every epoch serves the draw of epoch 0. While an epoch
    is served, a background thread draws the next one (``prefetch``). Every epoch has the number of batches of epoch
    0 (its pairs split evenly: the number of pairs varies by a few hundred in millions), and the last ``< sharing``
    pairs of an epoch are left out.

    Args:
        ids, lengths: the encoded corpus (`encode`).
        keep: the probability of keeping a token of each word (`keep_probability`), or None to keep all.
        table: the noise words' table (`unigram_table`).
        max_window, k, sharing: largest window, noise words per pair, pairs that share one draw of them.
        batch_size: pairs per batch (the epoch's groups of ``sharing`` pairs are split evenly: about this many).
        seed: the draws' seed.
        redraw: draw every epoch (training) or once (held-out text).
        prefetch: draw the next epoch in the background (with ``redraw``).
    """

    def __init__(self, ids: torch.Tensor, lengths: torch.Tensor, keep: torch.Tensor | None, table: torch.Tensor,
                 max_window: int, k: int, sharing: int, batch_size: int, seed: int, redraw: bool = True,
                 prefetch: bool = True) -> None:
        self.ids, self.lengths, self.keep, self.table = ids, lengths, keep, table
        self.max_window, self.k, self.sharing, self.batch_size = max_window, k, sharing, batch_size
        self.seed, self.redraw, self.prefetch = seed, redraw, prefetch
        self.stats: dict[str, int] = {}  # of the epoch served last
        self._drawn: tuple[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor], dict[str, int]] | None = None
        self._next: tuple[int, Future] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._num_batches: int | None = None

    def draw(self, epoch: int) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], dict[str, int]]:
        """((inputs (P,), targets (P,), noise (P / sharing, k)), counts) of ``epoch``, P a multiple of ``sharing``;
        the counts: tokens, tokens after subsampling, pairs."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        ids, lengths = self.ids, self.lengths
        if self.keep is not None:
            kept = torch.rand(ids.shape, generator=generator, dtype=torch.float64) < self.keep[ids]
            sentence = torch.repeat_interleave(torch.arange(len(lengths)), lengths)
            ids, lengths = ids[kept], torch.bincount(sentence[kept], minlength=len(lengths))
        inputs, targets = skip_gram_pairs(ids, lengths, self.max_window, generator)
        used = len(inputs) - len(inputs) % self.sharing
        packed = (inputs.long() << 32) | targets.long()  # one gather shuffles both
        packed = packed[torch.randperm(len(packed), generator=generator)[:used]]  # pairs in a random order
        noise = noise_groups(self.table, used // self.sharing, self.k, generator)
        stats = {"tokens": len(self.ids), "subsampled": len(ids), "pairs": used}
        return ((packed >> 32).long(), (packed & 0xFFFFFFFF).long(), noise), stats

    def epoch(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The draw of ``epoch`` (of epoch 0 without ``redraw``), kept until another epoch is asked for."""
        epoch = epoch if self.redraw else 0
        if self._drawn is None or self._drawn[0] != epoch:
            self._drawn = None  # free the last epoch's tensors first
            pending, self._next = self._next, None
            data, stats = pending[1].result() if pending is not None and pending[0] == epoch else self.draw(epoch)
            self._drawn, self.stats = (epoch, data, stats), stats
            if self.redraw and self.prefetch:
                self._next = (epoch + 1, self._background().submit(self.draw, epoch + 1))
        return self._drawn[1]

    def _background(self) -> ThreadPoolExecutor:
        if self._thread is None:  # PyTorch on one core there: the training has the others
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="skip-gram-epochs",
                                              initializer=torch.set_num_threads, initargs=(1,))
        return self._thread

    def __getstate__(self) -> dict[str, Any]:  # DataLoader workers get no threads (each starts its own)
        return {**self.__dict__, "_next": None, "_thread": None}

    def __len__(self) -> int:
        if self._num_batches is None:
            noise = self.epoch(0)[2] if self._drawn is None or self._drawn[0] == 0 else self.draw(0)[0][2]
            self._num_batches = min(len(noise), max(1, round(len(noise) * self.sharing / self.batch_size)))
        return self._num_batches

    def __getitem__(self, index: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        epoch, b = index
        n = len(self)
        if not 0 <= b < n:
            raise IndexError(f"batch {b} of {n}")
        inputs, targets, noise = self.epoch(epoch)
        first, last = b * len(noise) // n, (b + 1) * len(noise) // n  # groups, split evenly
        pairs = slice(first * self.sharing, last * self.sharing)
        return inputs[pairs], targets[pairs], noise[first:last]


class EpochSampler(Sampler[tuple[int, int]]):
    """The items ``(epoch, 0)``, ``(epoch, 1)``, ... of a `SkipGramEpochs`: Lightning names the epoch through
    ``set_epoch`` at every epoch's start; a plain loop (no ``set_epoch``) gets the next epoch at each pass."""

    def __init__(self, epochs: SkipGramEpochs) -> None:
        self.epochs = epochs
        self.epoch = 0
        self._named = False
        self._passes = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._named = epoch, True

    def __iter__(self):
        if not self._named and self._passes:
            self.epoch += 1
        self._named = False
        self._passes += 1
        epoch = self.epoch
        return iter([(epoch, b) for b in range(len(self.epochs))])

    def __len__(self) -> int:
        return len(self.epochs)


def _identity(batch: Any) -> Any:
    return batch


class PTBDataModule(L.LightningDataModule):
    """Skip-gram training data from PTB: the book's centre/context/noise batches (10.3, for `zoo.SkipGram`), or with
    ``pipeline="word2vec_c"`` word2vec.c's (context, centre) pairs and noise words, drawn again every epoch (for
    `zoo.SkipGramSGNS`); see the module docstring for both pipelines.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        min_count: keep words counted at least this many times in the training text (book: 5).
        subsample_t: the subsampling constant t (book: 1e-4 with the book's rule; word2vec.c's rule with
            ``pipeline="word2vec_c"``, where gensim's default is 1e-3); 0 keeps every token.
        max_window: largest context window (book: 5).
        num_negatives: noise words per context word, K (book: 5).
        batch_size: centres per batch (book: 512); with ``pipeline="word2vec_c"``, about this many pairs (whole groups
            of ``noise_sharing``).
        seed: seed of the subsampling, windows and noise words (the model's initialisation and the book pipeline's
            shuffling follow ``seed_everything``).
        num_workers: DataLoader worker processes (a batch is a few tensor operations: 0 is fastest).
        pipeline: ``"book"`` or ``"word2vec_c"`` (`PIPELINES`).
        noise_sharing: with ``pipeline="word2vec_c"``, how many consecutive pairs share one draw of the K noise words
            (1: each pair its own, as word2vec.c).
    """

    def __init__(self, data_dir: str | None = None, min_count: int = 5, subsample_t: float = 1e-4,
                 max_window: int = 5, num_negatives: int = 5, batch_size: int = 512, seed: int = 0,
                 num_workers: int = 0, pipeline: str = "book", noise_sharing: int = 1) -> None:
        super().__init__()
        name = type(self).__name__
        for key, value in (("min_count", min_count), ("max_window", max_window), ("num_negatives", num_negatives),
                           ("batch_size", batch_size), ("noise_sharing", noise_sharing)):
            positive_int(value, key, name)
        non_negative_int(num_workers, "num_workers", name)
        non_negative_float(subsample_t, "subsample_t", name)
        if pipeline not in PIPELINES:
            raise ConfigError(f"{name}: pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
        self.save_hyperparameters()
        self.root = cache_root(data_dir)
        self.pairs: dict[str, SkipGramPairs] = {}  # the book's pipeline
        self.epochs: dict[str, SkipGramEpochs] = {}  # word2vec.c's

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

    def build_epochs(self, split: str) -> SkipGramEpochs:
        """The split's data for word2vec.c's pipeline: training text drawn again every epoch, held-out text once,
        both with the training vocabulary, frequencies and noise table."""
        hp = self.hparams
        train_sentences, vocab, counts = self._train
        sentences = train_sentences if split == "train" else read_ptb(fetch(PTB, self.root), split)
        ids, lengths = encode(sentences, vocab)
        keep = keep_probability(counts, hp.subsample_t, "word2vec_c") if hp.subsample_t else None
        return SkipGramEpochs(ids, lengths, keep, self._noise_table, hp.max_window, hp.num_negatives,
                              hp.noise_sharing, hp.batch_size, hp.seed + SPLITS.index(split), redraw=split == "train")

    @cached_property
    def _noise_table(self) -> torch.Tensor:
        return unigram_table(self._train[2])

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "valid"), "validate": ("valid",), "test": ("test",)}.get(stage, SPLITS)
        for split in splits:
            if self.hparams.pipeline == "word2vec_c":
                if split not in self.epochs:
                    self.epochs[split] = epochs = self.build_epochs(split)
                    if rank_zero_only.rank == 0:
                        print(describe_epochs(split, epochs, self.hparams, len(self.vocab)), flush=True)
            elif split not in self.pairs:
                self.pairs[split], stats = self.build_pairs(split)
                if rank_zero_only.rank == 0:  # the book's counts, printed once per split
                    print(describe(split, stats, len(self.vocab), self.hparams.min_count), flush=True)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        workers = self.hparams.num_workers
        if self.hparams.pipeline == "word2vec_c":
            epochs = self.epochs[split]  # shuffled when drawn
            return DataLoader(epochs, batch_size=None, sampler=EpochSampler(epochs), collate_fn=_identity,
                              num_workers=workers, persistent_workers=workers > 0)
        return DataLoader(SkipGramBatches(self.pairs[split]), batch_size=self.hparams.batch_size, shuffle=shuffle,
                          collate_fn=_identity, num_workers=workers, persistent_workers=workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)


def describe_epochs(split: str, epochs: SkipGramEpochs, hp: Any, vocab_size: int) -> str:
    """word2vec.c's pipeline for one split, in one paragraph (numbers of the first epoch's draw)."""
    batches = len(epochs)  # draws epoch 0
    stats = epochs.stats
    kept = f"{stats['subsampled']:,} after subsampling (word2vec.c's rule, t = {hp.subsample_t:g})" \
        if hp.subsample_t else "no subsampling"
    shared = f", one draw per {hp.noise_sharing} pairs" if hp.noise_sharing > 1 else ""
    return (f"PTB {split} (word2vec.c's pipeline): {stats['tokens']:,} tokens of the {vocab_size:,} words counted >= "
            f"{hp.min_count} times in train; {kept}; {stats['pairs']:,} (context, centre) pairs with windows of "
            f"1..{hp.max_window} in {batches:,} batches, {hp.num_negatives} noise words per pair from the "
            f"unigram^0.75 table{shared}" + ("; drawn again every epoch" if epochs.redraw else ""))


def describe(split: str, stats: dict[str, Any], vocab_size: int, min_count: int) -> str:
    """The book's counts (10.3.1) for one split, in one paragraph."""
    examples = "; ".join(f"{w}: before={b:,}, after={a:,}" for w, (b, a) in stats["examples"].items())
    return (f"PTB {split}: {stats['sentences']:,} sentences; {stats['tokens']:,} tokens of the {vocab_size:,} "
            f"words counted >= {min_count} times in train; {stats['subsampled']:,} tokens after subsampling"
            + (f" ({examples})" if examples else "")
            + f"; {stats['centers']:,} centres with {stats['pairs']:,} centre/context pairs")
