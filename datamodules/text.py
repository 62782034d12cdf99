"""The text pipeline every text dataset shares: tokenising, vocabularies, truncation and padding.

Plain Python and torch; torchtext is not used. A `Vocab` is built from token counts with a ``min_freq`` and reserved
tokens (``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``, as a dataset needs them) and travels as a plain list of strings
(``vocab.tokens``), so a model stores it in its hyperparameters and a checkpoint alone can read and write text.

Token order: the reserved tokens first, in the order given, then the corpus' tokens by count, most frequent first,
ties in order of first appearance. (The books keep ``Counter`` insertion order or torchtext's; any fixed order gives
the same model up to a permutation of its embedding rows.)
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from typing import Literal

import torch

from zoo.errors import ConfigError, DataError

__all__ = ["BOS", "EOS", "PAD", "UNK", "Unknown", "Vocab", "count_tokens", "decode_utf8", "pad_or_truncate", "tokenize"]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"

#: What `Vocab.encode` does with a token outside the vocabulary: map it to ``<unk>``, drop it, or raise.
Unknown = Literal["unk", "skip", "error"]


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text; `DataError` naming ``source`` and the first offending byte when it is not UTF-8 (a file
    in another encoding, or a binary file where text was expected)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,} cannot be "
                        "decoded); is it the right file? Delete it and run again") from None


def tokenize(line: str, lower: bool = False) -> list[str]:
    """Split a line on whitespace (the books split on spaces); ``lower`` lower-cases first (book 10.7)."""
    return (line.lower() if lower else line).split()


def count_tokens(sentences: Iterable[Sequence[str]]) -> collections.Counter:
    """Token -> count over tokenised sentences, in order of first appearance."""
    counter: collections.Counter = collections.Counter()
    for sentence in sentences:
        counter.update(sentence)
    return counter


class Vocab:
    """Token <-> index.

    Args:
        tokens: the tokens in index order (reserved ones included); `Vocab.build` makes them from counts.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        if len(set(self.tokens)) != len(self.tokens):
            duplicates = sorted({t for t in self.tokens if self.tokens.count(t) > 1})[:5]
            raise ConfigError(f"a vocabulary lists every token once; repeated: {duplicates}")
        self.index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, counts: collections.Counter, min_freq: int = 1, reserved: Sequence[str] = ()) -> Vocab:
        """Reserved tokens, then every token counted at least ``min_freq`` times, most frequent first."""
        if min_freq < 1:
            raise ConfigError(f"min_freq must be >= 1, got {min_freq}")
        kept = [token for token, count in counts.items() if count >= min_freq and token not in reserved]
        order = {token: i for i, token in enumerate(counts)}
        kept.sort(key=lambda token: (-counts[token], order[token]))
        return cls([*reserved, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def __getitem__(self, token: str) -> int:
        return self.index[token]

    @property
    def unk(self) -> int | None:
        """Index of ``<unk>``, or None when the vocabulary has none."""
        return self.index.get(UNK)

    def encode(self, tokens: Iterable[str], unknown: Unknown = "unk") -> list[int]:
        """Indices of ``tokens``; a token outside the vocabulary follows ``unknown``."""
        ids = []
        for token in tokens:
            i = self.index.get(token)
            if i is None:
                if unknown == "skip":
                    continue
                if unknown == "unk" and self.unk is not None:
                    i = self.unk
                else:
                    reason = "it has no <unk> token" if unknown == "unk" else "unknown tokens are refused"
                    raise ConfigError(f"{token!r} is not in the vocabulary of {len(self)} tokens ({reason})")
            ids.append(i)
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]


def pad_or_truncate(ids: Sequence[int], length: int, pad: int) -> list[int]:
    """The first ``length`` ids, padded with ``pad`` up to ``length`` (book 10.7's ``pad``)."""
    return list(ids[:length]) + [pad] * max(0, length - len(ids))


def to_tensor(rows: Sequence[Sequence[int]], length: int, pad: int) -> torch.Tensor:
    """Padded or truncated rows as one (N, length) int64 tensor."""
    return torch.tensor([pad_or_truncate(row, length, pad) for row in rows], dtype=torch.long).view(-1, length)
