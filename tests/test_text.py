"""The shared text pipeline: tokens, vocabularies (reserved tokens, min_freq, order), encoding and padding."""

from __future__ import annotations

import pytest

from datamodules.text import BOS, EOS, PAD, UNK, Vocab, count_tokens, pad_or_truncate, to_tensor, tokenize
from zoo.errors import ConfigError


def test_tokenize_splits_on_whitespace_and_lowercases_on_request():
    assert tokenize("This movie  is\tGREAT .") == ["This", "movie", "is", "GREAT", "."]
    assert tokenize("This movie is GREAT", lower=True) == ["this", "movie", "is", "great"]


def test_vocab_reserved_first_then_by_count_ties_in_order_of_first_appearance():
    counts = count_tokens([["b", "a", "c", "a"], ["d", "c", "a", "b", "e"]])
    vocab = Vocab.build(counts, min_freq=2, reserved=[PAD, BOS, EOS, UNK])
    assert vocab.tokens == [PAD, BOS, EOS, UNK, "a", "b", "c"]  # a: 3; b, c: 2 (b seen first); d, e dropped
    assert (len(vocab), vocab["a"], vocab.unk, "d" in vocab) == (7, 4, 3, False)


def test_encode_follows_the_unknown_policy_and_decode_inverts_it():
    vocab = Vocab.build(count_tokens([["x", "y", "y"]]), reserved=[PAD, UNK])
    assert vocab.encode(["y", "z", "x"]) == [2, 1, 3]  # z -> <unk>
    assert vocab.encode(["y", "z", "x"], unknown="skip") == [2, 3]
    with pytest.raises(ConfigError, match="'z' is not in the vocabulary of 4 tokens .unknown tokens are refused"):
        vocab.encode(["z"], unknown="error")
    no_unk = Vocab(["a", "b"])
    with pytest.raises(ConfigError, match="it has no <unk> token"):
        no_unk.encode(["c"])
    assert vocab.decode([2, 3]) == ["y", "x"]


def test_a_vocabulary_lists_every_token_once_and_needs_min_freq_at_least_one():
    with pytest.raises(ConfigError, match="repeated: \\['a'\\]"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ConfigError, match="min_freq must be >= 1"):
        Vocab.build(count_tokens([["a"]]), min_freq=0)


def test_pad_or_truncate_to_a_fixed_length():
    assert pad_or_truncate([5, 6, 7], 5, 0) == [5, 6, 7, 0, 0]
    assert pad_or_truncate([5, 6, 7], 2, 0) == [5, 6]
    assert to_tensor([[1], [2, 3, 4]], 2, 0).tolist() == [[1, 0], [2, 3]]
    assert to_tensor([], 3, 0).shape == (0, 3)
