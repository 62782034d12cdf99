"""French-English sentence pairs for machine translation (book 10.12): the book's 20-pair ``fr-en-small.txt`` and the
full Tatoeba ``fra-eng.zip`` (Anki's export, http://www.manythings.org/anki/).

The book's processing (10.12.1), for both sources:

* a line is ``source<TAB>target``; each side is split on spaces;
* ``<eos>`` is appended and the sequence padded with ``<pad>`` to ``max_seq_len`` (book: 7); a pair either side of
  which is longer than ``max_seq_len - 1`` tokens is dropped;
* the source and target languages get separate vocabularies, ``<pad>``, ``<bos>``, ``<eos>`` first, then ``<unk>``
  (for words a user types later, which the book has no token for) and the words of the pairs.

Every line is normalised first by `normalize_sentence` (the book's file already is; the Tatoeba file needs it):
non-breaking spaces become spaces, the text is lower-cased, and a space is put before ``, . ! ?`` where there is
none. A translator applies the same function to the sentences a user types (`zoo.tasks.seq2seq`), so "Ils
regardent." reads as the training text's "ils regardent .". The Tatoeba file is member ``fra-eng/fra.txt``,
"English<TAB>French" a line, sometimes with a third column of attribution. ``direction`` chooses fr->en (the book's)
or en->fr, ``num_examples`` keeps the first pairs, ``val_size`` holds out a seeded validation split.

A batch is ``(source (B, T), source lengths (B,), target (B, T), target lengths (B,))``; a length counts the real
tokens with ``<eos>``. Both vocabularies are linked into the model and stored in its checkpoint. Without a
validation split, the translation metrics are computed on the training pairs (``eval_sets = ("train",)``), as the
book translates sentences it trained on.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader, Dataset

from datamodules.download import Resource, cache_root, fetch, read_member
from datamodules.images import split_indices
from datamodules.text import BOS, EOS, PAD, UNK, Vocab, count_tokens, decode_utf8
from zoo.errors import ConfigError, DataError
from zoo.validation import non_negative_int, positive_int

__all__ = ["FRA_ENG", "FR_EN_SMALL", "FraEngDataModule", "PairBatches", "normalize_sentence", "read_pairs",
           "sequences_to_tensor"]

FR_EN_SMALL = Resource(
    filename="fr-en-small.txt",
    urls=("https://raw.githubusercontent.com/ShusenTang/Dive-into-DL-PyTorch/master/data/fr-en-small.txt",),
    checksum="4192ace3405b0b6a2f9761eb6c19494b1f8a9761",
)
FRA_ENG = Resource(
    filename="fra-eng.zip",
    urls=("http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip",),
    checksum="94646ad1522d915e7b0f9296181140edcf86a4f5",
)
TATOEBA_MEMBER = "fra-eng/fra.txt"
RESERVED = (PAD, BOS, EOS, UNK)


def normalize_sentence(text: str) -> str:
    """Non-breaking spaces to spaces, lower case, a space before ``, . ! ?`` that follow a character directly: the
    preprocessing of every line of the training text and of every sentence given to a trained translator."""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return re.sub(r"(?<=\S)([,.!?])", r" \1", text)


def read_pairs(lines: list[str], source: str) -> list[tuple[list[str], list[str]]]:
    """Token lists of each ``first<TAB>second[<TAB>...]`` line; `DataError` naming a line without a tab."""
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"{source}, line {number}: expected 'sentence<TAB>translation', got {line.strip()[:80]!r}")
        pairs.append((fields[0].strip().split(" "), fields[1].strip().split(" ")))
    if not pairs:
        raise DataError(f"{source} holds no sentence pairs")
    return pairs


def sequences_to_tensor(sequences: list[list[str]], vocab: Vocab, max_seq_len: int) -> tuple[torch.Tensor,
                                                                                             torch.Tensor]:
    """Each token list + ``<eos>``, padded to ``max_seq_len`` (book ``process_one_seq``): ids (N, T) and lengths
    (N,), unknown words as ``<unk>``."""
    ids = torch.full((len(sequences), max_seq_len), vocab[PAD], dtype=torch.long)
    lengths = torch.zeros(len(sequences), dtype=torch.long)
    for i, tokens in enumerate(sequences):
        row = vocab.encode([*tokens, EOS])
        ids[i, : len(row)] = torch.tensor(row)
        lengths[i] = len(row)
    return ids, lengths


class PairBatches(Dataset):
    """Source and target ids with their lengths; ``__getitems__`` serves a whole batch."""

    def __init__(self, source: torch.Tensor, source_len: torch.Tensor, target: torch.Tensor,
                 target_len: torch.Tensor) -> None:
        self.tensors = (source, source_len, target, target_len)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, indices) -> tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return tuple(t.index_select(0, idx) for t in self.tensors)

    def subset(self, indices: torch.Tensor) -> PairBatches:
        return PairBatches(*(t.index_select(0, indices) for t in self.tensors))


def _identity(batch: Any) -> Any:
    return batch


class FraEngDataModule(L.LightningDataModule):
    """Sentence pairs for translation (book 10.12); see the module docstring.

    Args:
        data_dir: cache folder; default ``$ZOO_DATA_DIR`` or ``~/.cache/lightning-zoo``.
        source: ``small`` (the book's 20 pairs, ``fr-en-small.txt``) or ``tatoeba`` (``fra-eng.zip``).
        direction: ``fr-en`` (the book) or ``en-fr``.
        max_seq_len: tokens per sequence with ``<eos>`` and padding (book: 7); longer pairs are dropped.
        num_examples: keep only the first this many pairs of the file (``None``: all).
        batch_size: pairs per batch (book: 2).
        val_size: pairs held out by a seeded split for validation (0: the metrics use the training pairs).
        seed: seed of the validation split.
        predict_sentences: source sentences served by ``predict_dataloader`` (``python -m zoo predict``),
            normalised as the training text (`normalize_sentence`).
    """

    def __init__(self, data_dir: str | None = None, source: Literal["small", "tatoeba"] = "small",
                 direction: Literal["fr-en", "en-fr"] = "fr-en", max_seq_len: int = 7,
                 num_examples: int | None = None, batch_size: int = 2, val_size: int = 0, seed: int = 0,
                 predict_sentences: list[str] | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if source not in ("small", "tatoeba") or direction not in ("fr-en", "en-fr"):
            raise ConfigError(f"{name}: source must be 'small' or 'tatoeba' and direction 'fr-en' or 'en-fr', got "
                              f"{source!r} and {direction!r}")
        positive_int(batch_size, "batch_size", name)
        non_negative_int(val_size, "val_size", name)
        if num_examples is not None:
            positive_int(num_examples, "num_examples", name)
        if positive_int(max_seq_len, "max_seq_len", name) < 2:
            raise ConfigError(f"{name}: max_seq_len must be >= 2 (a word and <eos>), got {max_seq_len}")
        self.save_hyperparameters()
        self.root = cache_root(data_dir)

    @property
    def resource(self) -> Resource:
        return FR_EN_SMALL if self.hparams.source == "small" else FRA_ENG

    def prepare_data(self) -> None:
        fetch(self.resource, self.root)

    def _lines(self, path: Path) -> list[str]:
        if self.hparams.source == "small":
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DataError(f"cannot read {path} ({exc}); delete it and run again") from exc
            text = decode_utf8(data, str(path))
        else:
            text = decode_utf8(read_member(path, TATOEBA_MEMBER, "the Tatoeba archive"), f"{TATOEBA_MEMBER} in {path}")
        return [normalize_sentence(line) for line in text.splitlines()]

    @cached_property
    def pairs(self) -> list[tuple[list[str], list[str]]]:
        """The kept (source tokens, target tokens) pairs, in file order; reads the file on first use."""
        hp = self.hparams
        path = fetch(self.resource, self.root)
        pairs = read_pairs(self._lines(path), str(path))
        if hp.source == "tatoeba":  # English<TAB>French
            pairs = [(fr, en) for en, fr in pairs]
        if hp.direction == "en-fr":
            pairs = [(b, a) for a, b in pairs]
        if hp.num_examples is not None:
            pairs = pairs[: hp.num_examples]
        kept = [p for p in pairs if max(len(p[0]), len(p[1])) <= hp.max_seq_len - 1]
        if not kept:
            raise DataError(f"no pair of {path} fits max_seq_len={hp.max_seq_len}; raise it")
        self.pairs_read = len(pairs)
        return kept

    @rank_zero_only
    def _report(self) -> None:
        src, tgt = self.hparams.direction.split("-")
        print(f"{self.resource.filename}: {len(self.pairs):,} of {self.pairs_read:,} pairs kept (max_seq_len "
              f"{self.hparams.max_seq_len} with <eos>); vocabularies: {len(self.src_vocab):,} {src} tokens, "
              f"{len(self.tgt_vocab):,} {tgt} tokens (with <pad>, <bos>, <eos>, <unk>)", flush=True)

    @cached_property
    def src_vocab(self) -> list[str]:
        """Source tokens (linked into the model)."""
        return Vocab.build(count_tokens(s for s, _ in self.pairs), reserved=RESERVED).tokens

    @cached_property
    def tgt_vocab(self) -> list[str]:
        """Target tokens (linked into the model)."""
        return Vocab.build(count_tokens(t for _, t in self.pairs), reserved=RESERVED).tokens

    @property
    def max_seq_len(self) -> int:
        return self.hparams.max_seq_len

    @property
    def eval_sets(self) -> tuple[str]:
        """What ``val_dataloader`` serves: ``("val",)`` or, without a validation split, ``("train",)``."""
        return ("val",) if self.hparams.val_size else ("train",)

    def dataset(self) -> PairBatches:
        """Every kept pair as tensors (book ``build_data``)."""
        src, tgt, max_len = Vocab(self.src_vocab), Vocab(self.tgt_vocab), self.hparams.max_seq_len
        return PairBatches(*sequences_to_tensor([s for s, _ in self.pairs], src, max_len),
                           *sequences_to_tensor([t for _, t in self.pairs], tgt, max_len))

    def setup(self, stage: str | None = None) -> None:
        if hasattr(self, "train_set"):
            return
        everything = self.dataset()
        self._report()
        train_idx, val_idx = split_indices(len(everything), self.hparams.val_size, self.hparams.seed)
        self.train_set = everything.subset(train_idx)
        self.val_set = everything.subset(val_idx) if val_idx is not None else self.train_set

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True, collate_fn=_identity)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=max(self.hparams.batch_size, 64), collate_fn=_identity)

    def predict_dataloader(self) -> DataLoader:
        sentences = self.hparams.predict_sentences
        if not sentences:
            raise ConfigError(f"{type(self).__name__}: no sentences to translate; set predict_sentences "
                              "(--data.init_args.predict_sentences '[\"ils regardent .\"]')")
        return DataLoader([normalize_sentence(s) for s in sentences], batch_size=1, collate_fn=_identity)
