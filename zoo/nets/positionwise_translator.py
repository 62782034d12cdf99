"""The layers tutorial's "translators": networks that read a sentence word by word and write the translation word by
word at the same positions, comparing the tutorial's hand-written recurrent layers (ERNN, LSTM, GRU) with a dense
network (DNN).

The word at position t of the source goes in at step t and the word at position t of the translation comes out at
step t: there is no encoder-decoder, so word order and sentence length must match, which the tutorial's hotel phrases
nearly do. Each step's output goes through a linear layer and log-softmax over the vocabulary. The recurrent layers
are `zoo.nets.recurrent.ScratchRecurrent` (the same equations as the tutorial's ERNN, LSTM and GRU classes, with both
input and hidden biases); as in the tutorial they start from a random state unless ``initial_state="zeros"``. The DNN
reads the whole padded sentence at once: (max_len x embedding) -> hidden -> (max_len x hidden), tanh after each.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from zoo.nets.recurrent import ScratchRecurrent

__all__ = ["PositionwiseTranslatorNet", "DenseSequence"]

Cell = Literal["rnn", "lstm", "gru", "dnn"]


class DenseSequence(nn.Module):
    """The tutorial's DNN: two tanh layers over the flattened sentence, (T, B, E) -> (T, B, H)."""

    def __init__(self, max_len: int, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input = nn.Linear(max_len * input_size, hidden_size)
        self.hidden = nn.Linear(hidden_size, hidden_size * max_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, b, _ = x.shape
        flat = x.transpose(0, 1).reshape(b, -1)  # (B, T * E)
        out = torch.tanh(self.hidden(torch.tanh(self.input(flat))))  # (B, T * H)
        return out.view(b, t, self.hidden_size).transpose(0, 1)  # (T, B, H)


class PositionwiseTranslatorNet(nn.Module):
    """Args:
        vocab_size: words (one vocabulary for both languages, as the tutorial's).
        cell: ``rnn`` (the tutorial's ERNN), ``lstm``, ``gru`` or ``dnn``.
        embed_size: word-vector size (the tutorial: 128).
        hidden_size: hidden units (the tutorial: 128).
        max_len: words per sentence (the DNN's input is the whole padded sentence; the tutorial: 30).
        initial_state: ``random`` (the tutorial: ``torch.randn_like``) or ``zeros``.
        fixed_embedding: the embedding is a constant (the tutorial's GloVe file, copied in by the caller); False learns
            it.
    """

    def __init__(self, vocab_size: int, cell: Cell = "gru", embed_size: int = 128, hidden_size: int = 128,
                 max_len: int = 30, initial_state: Literal["random", "zeros"] = "random",
                 fixed_embedding: bool = False) -> None:
        super().__init__()
        if cell not in ("rnn", "lstm", "gru", "dnn") or initial_state not in ("random", "zeros"):
            raise ValueError(f"cell must be rnn, lstm, gru or dnn and initial_state random or zeros, got {cell!r} "
                             f"and {initial_state!r}")
        self.cell, self.initial_state, self.hidden_size = cell, initial_state, hidden_size
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.embedding.weight.requires_grad_(not fixed_embedding)  # the tutorial's embedding is a constant
        self.body = DenseSequence(max_len, embed_size, hidden_size) if cell == "dnn" \
            else ScratchRecurrent(cell, embed_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) -> log-probabilities (B, T, V) of the translation's word at each position."""
        x = self.embedding(tokens.T)  # (T, B, E)
        if self.cell == "dnn":
            y = self.body(x)
        else:
            state = None
            if self.initial_state == "random":
                h = torch.randn(1, x.shape[1], self.hidden_size, device=x.device)
                state = (h, torch.randn_like(h)) if self.cell == "lstm" else h
            y, _ = self.body(x, state)  # (T, B, H)
        return torch.log_softmax(self.output(y), dim=-1).transpose(0, 1)  # (B, T, V)
