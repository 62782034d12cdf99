"""Recurrent language-model network: token input, a recurrent stack, a linear head over the vocabulary.

This is the book's ``RNNModel`` (6.5) generalised: one-hot input as in the book or a learned embedding, any of the
three cells, fused or from scratch (`zoo.nets.recurrent`), several layers (6.9) and a bidirectional variant (6.10).

A bidirectional network is trained as two language models sharing the input layer, in the manner of ELMo
(Peters et al. 2018, https://arxiv.org/abs/1802.05365): the left-to-right half predicts the next token, the
right-to-left half the previous one. Its `encode` output, both halves concatenated, is what an encoder passes on.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.nets.recurrent import Cell, RecurrentImpl, make_recurrent

__all__ = ["RecurrentLM"]


class RecurrentLM(nn.Module):
    """Next-token logits from a recurrent network (book 6.4/6.5/6.7/6.8).

    Args:
        vocab_size: size of the token vocabulary (input and output).
        cell: ``"rnn"``, ``"gru"`` or ``"lstm"``.
        hidden_size: hidden units per direction (book: 256).
        num_layers: stacked recurrent layers.
        bidirectional: add a right-to-left half (see the module docstring).
        impl: ``"fused"`` (``nn.GRU`` etc.) or ``"scratch"`` (the book's equations).
        embedding_dim: ``None`` feeds one-hot vectors as the book does; an int learns an embedding of that size.
        dropout: dropout between stacked layers.
        init_std: ``None`` keeps PyTorch's initialisation; a float draws every weight from N(0, init_std) and
            zeroes every bias, as the book's from-scratch models do (std 0.01).
        hidden_bias: ``False`` holds the hidden-side biases (``bias_hh_*``) at zero, leaving one bias per gate as the
            book's from-scratch models have (6.4.2, 6.7.3, 6.8.3); the state-dict keys stay PyTorch's.
    """

    def __init__(
        self,
        vocab_size: int,
        cell: Cell = "gru",
        hidden_size: int = 256,
        num_layers: int = 1,
        bidirectional: bool = False,
        impl: RecurrentImpl = "fused",
        embedding_dim: int | None = None,
        dropout: float = 0.0,
        init_std: float | None = None,
        hidden_bias: bool = True,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.rnn = make_recurrent(cell, impl, embedding_dim or vocab_size, hidden_size, num_layers, bidirectional,
                                  dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        self.head_backward = nn.Linear(hidden_size, vocab_size) if bidirectional else None
        if init_std is not None:
            for name, p in self.named_parameters():
                nn.init.normal_(p, 0.0, init_std) if "weight" in name else nn.init.zeros_(p)
        if not hidden_bias:
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_hh"):
                    nn.init.zeros_(p)
                    p.requires_grad_(False)

    def _inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        steps = tokens.T  # (B, T) -> (T, B): the fused kernels are sequence-first
        if self.embedding is not None:
            return self.embedding(steps)  # (T, B, E)
        one_hot = torch.zeros(*steps.shape, self.vocab_size, device=tokens.device)
        return one_hot.scatter_(-1, steps.unsqueeze(-1), 1.0)  # (T, B, V)

    def encode(self, tokens: torch.Tensor, state=None):
        """Hidden features (B, T, D*H) and the final state, for use as an encoder."""
        features, state = self.rnn(self._inputs(tokens), state)  # (T, B, D*H)
        return features.transpose(0, 1), state

    def forward(self, tokens: torch.Tensor, state=None):
        """tokens (B, T) -> logits and the final state.

        Logits are (B, T, V) next-token scores, or for a bidirectional network (B, T, 2, V): index 0 scores the next
        token (left-to-right half), index 1 the previous token (right-to-left half).
        """
        features, state = self.rnn(self._inputs(tokens), state)  # (T, B, D*H)
        if self.head_backward is None:
            return self.head(features).transpose(0, 1), state  # (B, T, V)
        forward_half, backward_half = features.chunk(2, dim=-1)  # each (T, B, H)
        logits = torch.stack([self.head(forward_half), self.head_backward(backward_half)], dim=2)  # (T, B, 2, V)
        return logits.transpose(0, 1), state
