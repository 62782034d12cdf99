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
from torch.utils.data import DataLoader, IterableDataset

from zoo.errors import ConfigError
from zoo.validation import positive_int

__all__ = ["LanguageModelBatches", "ResumedPassLoader", "Sampling", "consecutive_windows", "count_batches",
           "random_windows"]

Sampling = Literal["random", "consecutive"]


def _check_size(num_batches: int, corpus: torch.Tensor | int, batch_size: int, num_steps: int) -> None:
    if num_batches < 1:
        tokens = corpus if isinstance(corpus, int) else corpus.numel()
        raise ConfigError(f"a corpus of {tokens} tokens is too short for batch_size={batch_size} and "
                          f"num_steps={num_steps}: not one full batch fits; use smaller values or more text")


def count_batches(num_tokens: int, batch_size: int, num_steps: int, sampling: Sampling) -> int:
    """Batches of one epoch over ``num_tokens`` tokens (the book's arithmetic); `ConfigError` when not one fits, or
    when ``batch_size`` or ``num_steps`` is not a positive integer."""
    positive_int(batch_size, "batch_size")
    positive_int(num_steps, "num_steps")
    if sampling == "random":
        n = (num_tokens - 1) // num_steps // batch_size
    else:
        n = (num_tokens // batch_size - 1) // num_steps
    _check_size(n, num_tokens, batch_size, num_steps)
    return n


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

    Under DDP (``world_size`` > 1) every rank reads the same batches but only the rows ``rank::world_size`` of each:
    a row is a stream the hidden state follows, so rows, not batches, are what can be split. The ranks together
    then see exactly the single-process batches, DDP's averaged gradient is the single-process gradient, and a
    recipe's ``batch_size`` (which must be a multiple of ``world_size``) keeps the book's meaning on any number of
    processes. Random sampling needs every rank to draw the same order: they do, as ``seed_everything`` seeds them
    alike.

    A run resumed from a checkpoint taken in the middle of a pass continues that pass exactly: `pass_state` is
    what to save (the generator state the pass's order was drawn from) and `resume` makes the next pass replay that
    order, skipping the batches already trained.
    """

    def __init__(self, corpus: torch.Tensor, batch_size: int, num_steps: int, sampling: Sampling,
                 rank: int = 0, world_size: int = 1) -> None:
        super().__init__()
        if sampling not in ("random", "consecutive"):
            raise ConfigError(f"unknown sampling {sampling!r}; choose 'random' or 'consecutive'")
        if world_size < 1 or not 0 <= rank < world_size or batch_size % world_size:
            raise ConfigError(f"batch_size={batch_size} must be a multiple of the number of processes ({world_size}):"
                              " each process reads batch_size / processes rows of every batch")
        self.corpus = corpus
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.sampling = sampling
        self.rank = rank
        self.world_size = world_size
        self._pass_rng: torch.Tensor | None = None  # generator state the current pass's order came from
        self._resume: tuple[torch.Tensor | None, int] | None = None
        len(self)  # fail now, not in the middle of a run, if the corpus is too short

    def __len__(self) -> int:
        if self.sampling == "random":
            n = (self.corpus.numel() - 1) // self.num_steps // self.batch_size
        else:
            n = (self.corpus.numel() // self.batch_size - 1) // self.num_steps
        _check_size(n, self.corpus, self.batch_size, self.num_steps)
        return n

    def pass_state(self) -> torch.Tensor | None:
        """The generator state the current pass's random order was drawn from (None under consecutive sampling)."""
        return self._pass_rng

    def resume(self, pass_state: torch.Tensor | None, batches_done: int) -> None:
        """Make the next pass replay the pass drawn from ``pass_state`` and start after ``batches_done`` batches."""
        if not 0 <= batches_done <= len(self):
            raise ConfigError(f"cannot resume after batch {batches_done} of a {len(self)}-batch pass: the checkpoint "
                              "was written with other data or batch settings")
        self._resume = (pass_state, batches_done)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, bool]]:
        pass_state, skip = self._resume or (None, 0)
        self._resume = None
        if self.sampling == "random":
            generator = None
            if pass_state is not None:  # replay the interrupted pass's order without touching the global generator
                generator = torch.Generator().set_state(pass_state)
            else:
                pass_state = torch.get_rng_state()  # the order below is drawn from this state
            self._pass_rng = pass_state
            windows = random_windows(self.corpus, self.batch_size, self.num_steps, generator)
        else:
            windows = consecutive_windows(self.corpus, self.batch_size, self.num_steps)
        carry = self.sampling == "consecutive"
        for i, (x, y) in enumerate(windows):
            if i < skip:
                continue
            if self.world_size > 1:
                x, y = x[self.rank :: self.world_size].contiguous(), y[self.rank :: self.world_size].contiguous()
            yield x, y, carry  # (B / world_size, T) each


class ResumedPassLoader(DataLoader):
    """``DataLoader(batches, batch_size=None)`` for a run resumed in the middle of a pass.

    Creating a DataLoader iterator draws a number from torch's global generator (a base seed for workers). An
    uninterrupted run drew it when the pass began, before the checkpoint's generator states were saved; a resumed run
    would draw it again when it re-creates the iterator for the rest of the pass, and every later random draw would
    be one step off. This loader draws that one number from a private generator, then behaves as a plain DataLoader.
    """

    def __init__(self, batches: LanguageModelBatches) -> None:
        super().__init__(batches, batch_size=None, generator=torch.Generator())

    def __iter__(self):
        iterator = super().__iter__()
        self.generator = None  # the passes after the resumed one draw from the global generator, as usual
        return iterator
