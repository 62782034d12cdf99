"""Mini-batches of token windows for language models: the two samplers of book section 6.3.3.

Both samplers cut a corpus (a 1-D tensor of token ids) into inputs ``X`` of shape (batch_size, num_steps) and
targets ``Y`` = ``X`` shifted one token to the right, with the book's arithmetic for how many batches an epoch has:

* random sampling (6.3.3.1): windows start at multiples of ``num_steps`` and are shuffled, so two neighbouring
  batches are unrelated and the hidden state must be re-initialised for every batch;
* consecutive sampling (6.3.3.2): the corpus is split into ``batch_size`` rows read left to right, so row ``i`` of a
  batch continues row ``i`` of the previous one and the hidden state can be carried over (detached).

`LanguageModelBatches` wraps either sampler as an iterable dataset whose items are whole batches
``(X, Y, carry_state)``: ``carry_state`` is True when the rows of one batch continue the rows of the previous batch
(consecutive sampling), so the model may start from the previous batch's final state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import torch
from torch.utils.data import IterableDataset

from zoo.errors import ConfigError

__all__ = ["LanguageModelBatches", "Sampling", "consecutive_windows", "random_windows"]

Sampling = Literal["random", "consecutive"]


def _check_size(num_batches: int, corpus: torch.Tensor, batch_size: int, num_steps: int) -> None:
    if num_batches < 1:
        raise ConfigError(f"a corpus of {corpus.numel()} tokens is too short for batch_size={batch_size} and "
                          f"num_steps={num_steps}: not one full batch fits; use smaller values or more text")


def random_windows(
    corpus: torch.Tensor, batch_size: int, num_steps: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Random sampling (book 6.3.3.1): shuffled, non-overlapping windows; yields (X, Y), each (B, T)."""
    num_examples = (corpus.numel() - 1) // num_steps  # minus 1: every target is the next token
    num_batches = num_examples // batch_size
    _check_size(num_batches, corpus, batch_size, num_steps)
    order = torch.randperm(num_examples, generator=generator)[: num_batches * batch_size]
    starts = (order * num_steps).view(num_batches, batch_size, 1)  # (N, B, 1)
    offsets = torch.arange(num_steps)  # (T,)
    for batch_starts in starts:
        positions = batch_starts + offsets  # (B, T)
        yield corpus[positions], corpus[positions + 1]


def consecutive_windows(
    corpus: torch.Tensor, batch_size: int, num_steps: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive sampling (book 6.3.3.2): row i of batch k+1 continues row i of batch k; yields (X, Y)."""
    row_len = corpus.numel() // batch_size
    rows = corpus[: batch_size * row_len].view(batch_size, row_len)  # (B, L)
    num_batches = (row_len - 1) // num_steps
    _check_size(num_batches, corpus, batch_size, num_steps)
    for i in range(0, num_batches * num_steps, num_steps):
        yield rows[:, i : i + num_steps].contiguous(), rows[:, i + 1 : i + num_steps + 1].contiguous()


class LanguageModelBatches(IterableDataset):
    """One epoch of (X, Y, carry_state) batches; use with ``DataLoader(dataset, batch_size=None)``.

    Random sampling draws a new order from torch's global generator on every pass, so ``seed_everything`` makes
    runs repeatable. ``carry_state`` is True for every consecutive batch and False for every random one; whether
    the state also crosses from the end of one pass to the start of the next is the model's choice.
    """

    def __init__(self, corpus: torch.Tensor, batch_size: int, num_steps: int, sampling: Sampling) -> None:
        super().__init__()
        if sampling not in ("random", "consecutive"):
            raise ConfigError(f"unknown sampling {sampling!r}; choose 'random' or 'consecutive'")
        self.corpus = corpus
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.sampling = sampling
        len(self)  # fail now, not in the middle of a run, if the corpus is too short

    def __len__(self) -> int:
        if self.sampling == "random":
            n = (self.corpus.numel() - 1) // self.num_steps // self.batch_size
        else:
            n = (self.corpus.numel() // self.batch_size - 1) // self.num_steps
        _check_size(n, self.corpus, self.batch_size, self.num_steps)
        return n

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, bool]]:
        if self.sampling == "random":
            for x, y in random_windows(self.corpus, self.batch_size, self.num_steps):
                yield x, y, False
        else:
            for x, y in consecutive_windows(self.corpus, self.batch_size, self.num_steps):
                yield x, y, True
