"""Greedy search and beam search (book 10.10) over any step function, usable without Lightning.

A step function maps the tokens of the live hypotheses (k,) and their state to log-probabilities over the next
token (k, V) and the new state; `beam_search` also needs ``reorder(state, rows)`` to keep the states of the
hypotheses it continues (for a recurrent state (L, k, H): ``state[:, rows]``).

Beam search as 10.10 describes it: every step extends each of the ``beam_size`` best hypotheses by every word and
keeps the ``beam_size`` best of all extensions by total log-probability. An extension that ends in ``<eos>`` is
complete and leaves the beam, which narrows by one; the search stops when the beam is empty or ``max_len`` words have
been written. Of the complete hypotheses and those still in the beam, the result is the one with the highest
``log P / L ** alpha``, L its number of words with ``<eos>`` (the book: alpha "usually 0.75"). With ``beam_size``
1 the only hypothesis is the greedy one, so beam search of size 1 is greedy search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["beam_search", "greedy_search"]

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


def greedy_search(step: Step, state: Any, bos: int, eos: int, max_len: int) -> tuple[list[int], float]:
    """The most likely word at every step until ``<eos>`` or ``max_len`` words: (words without <eos>, log P)."""
    token, words, total = torch.tensor([bos]), [], 0.0
    for _ in range(max_len):
        log_probs, state = step(token, state)  # (1, V)
        best = int(log_probs[0].argmax())
        total += float(log_probs[0, best])
        if best == eos:
            break
        words.append(best)
        token = torch.tensor([best])
    return words, total


def beam_search(step: Step, state: Any, bos: int, eos: int, max_len: int, beam_size: int,
                reorder: Callable[[Any, torch.Tensor], Any], alpha: float = 0.75) -> tuple[list[int], float]:
    """The best hypothesis by ``log P / L ** alpha`` (see the module docstring): (words without <eos>, log P)."""
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    words: list[list[int]] = [[]]
    scores = torch.zeros(1)  # (k,) total log-probability of each live hypothesis
    tokens = torch.tensor([bos])
    complete: list[tuple[list[int], float, int]] = []  # (words, log P, length L)
    for _ in range(max_len):
        log_probs, state = step(tokens, state)  # (k, V)
        totals = (scores[:, None] + log_probs.float()).flatten()  # (k * V,)
        best = totals.topk(min(beam_size - len(complete), totals.numel())).indices
        vocab = log_probs.shape[1]
        rows, nexts = best // vocab, best % vocab
        live = []
        for row, nxt, index in zip(rows.tolist(), nexts.tolist(), best.tolist()):
            if nxt == eos:
                complete.append((words[row], float(totals[index]), len(words[row]) + 1))  # L counts <eos>
            else:
                live.append((row, nxt, index))
        if not live:
            break
        keep = torch.tensor([row for row, _, _ in live])
        words = [words[row] + [nxt] for row, nxt, _ in live]
        scores = totals[torch.tensor([index for _, _, index in live])]
        tokens = torch.tensor([nxt for _, nxt, _ in live])
        state = reorder(state, keep)
    else:  # max_len reached: the live hypotheses are candidates too
        complete += [(w, float(s), len(w)) for w, s in zip(words, scores)]
    best_words, best_score, _ = max(complete, key=lambda c: c[1] / c[2] ** alpha)
    return best_words, best_score
