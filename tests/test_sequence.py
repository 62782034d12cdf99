"""The two samplers of book 6.3.3, checked against the book's printed example (0..29, batch 2, 6 steps)."""

from __future__ import annotations

import pytest
import torch

from datamodules.token_windows import LanguageModelBatches, consecutive_windows, random_windows
from zoo.errors import ConfigError

SEQ = torch.arange(30)


def test_consecutive_matches_book_example():
    batches = list(consecutive_windows(SEQ, batch_size=2, num_steps=6))
    assert len(batches) == 2
    (x0, y0), (x1, y1) = batches
    assert x0.tolist() == [[0, 1, 2, 3, 4, 5], [15, 16, 17, 18, 19, 20]]
    assert y0.tolist() == [[1, 2, 3, 4, 5, 6], [16, 17, 18, 19, 20, 21]]
    assert x1.tolist() == [[6, 7, 8, 9, 10, 11], [21, 22, 23, 24, 25, 26]]
    assert y1.tolist() == [[7, 8, 9, 10, 11, 12], [22, 23, 24, 25, 26, 27]]


def test_random_windows_are_the_books_windows_shuffled():
    torch.manual_seed(0)
    batches = list(random_windows(SEQ, batch_size=2, num_steps=6))
    assert len(batches) == 2  # (30 - 1) // 6 = 4 examples -> 2 batches of 2
    rows = sorted(tuple(r) for x, _ in batches for r in x.tolist())
    assert rows == [tuple(range(s, s + 6)) for s in (0, 6, 12, 18)]
    for x, y in batches:
        assert torch.equal(y, x + 1)


def test_random_order_changes_between_passes():
    torch.manual_seed(0)
    orders = {tuple(tuple(x[:, 0].tolist()) for x, _ in random_windows(torch.arange(1000), 4, 5)) for _ in range(5)}
    assert len(orders) > 1


def test_book_batch_count_for_the_lyrics():
    corpus = torch.zeros(10_000, dtype=torch.long)
    assert len(LanguageModelBatches(corpus, 32, 35, "random")) == 8
    assert len(LanguageModelBatches(corpus, 32, 35, "consecutive")) == 8
    assert len(list(LanguageModelBatches(corpus, 32, 35, "consecutive"))) == 8


def test_carry_flag():
    flags = [c for *_, c in LanguageModelBatches(torch.arange(200), 2, 5, "consecutive")]
    assert all(c is True for c in flags)
    assert not any(c for *_, c in LanguageModelBatches(torch.arange(200), 2, 5, "random"))


def test_too_short_corpus_is_a_clear_error():
    with pytest.raises(ConfigError, match="too short for batch_size=32 and num_steps=35"):
        LanguageModelBatches(torch.arange(100), 32, 35, "consecutive")


def test_unknown_sampling():
    with pytest.raises(ConfigError, match="unknown sampling 'shuffled'"):
        LanguageModelBatches(torch.arange(100), 2, 5, "shuffled")
