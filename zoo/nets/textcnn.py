"""textCNN (book 10.8; Kim 2014, "Convolutional Neural Networks for Sentence Classification",
https://arxiv.org/abs/1408.5882): two embeddings side by side (one trained, one fixed), 1-D convolutions of several
widths, max-over-time pooling, dropout and a linear layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TextCNNNet"]


class TextCNNNet(nn.Module):
    """Args:
        vocab_size: tokens in the vocabulary.
        embed_size: size of each embedding (book: 100; the convolutions see 2 x embed_size channels).
        kernel_sizes: widths of the convolutions (book: 3, 4, 5).
        num_channels: output channels of each (book: 100 each).
        dropout: before the linear layer (book: 0.5).
        num_classes: outputs (book: 2).
        pad_index: token used to lengthen a text shorter than the widest kernel.
    """

    def __init__(self, vocab_size: int, embed_size: int = 100, kernel_sizes: Sequence[int] = (3, 4, 5),
                 num_channels: Sequence[int] = (100, 100, 100), dropout: float = 0.5, num_classes: int = 2,
                 pad_index: int = 0) -> None:
        super().__init__()
        if len(kernel_sizes) != len(num_channels) or not kernel_sizes:
            raise ValueError(f"one channel count per kernel size, got {list(kernel_sizes)} and {list(num_channels)}")
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.constant_embedding = nn.Embedding(vocab_size, embed_size)  # never trained (book 10.8.4)
        self.constant_embedding.weight.requires_grad_(False)
        self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k) for c, k in zip(num_channels, kernel_sizes))
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(sum(num_channels), num_classes)
        self.min_length = max(kernel_sizes)
        self.pad_index = pad_index

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) -> logits (B, num_classes); a text shorter than the widest kernel is padded."""
        if tokens.shape[1] < self.min_length:
            tokens = F.pad(tokens, (0, self.min_length - tokens.shape[1]), value=self.pad_index)
        embeddings = torch.cat((self.embedding(tokens), self.constant_embedding(tokens)), dim=2)  # (B, T, 2E)
        embeddings = embeddings.permute(0, 2, 1)  # (B, 2E, T): channels first, as Conv1d wants
        pooled = [F.relu(conv(embeddings)).amax(dim=2) for conv in self.convs]  # max over time: (B, C_i) each
        return self.decoder(self.dropout(torch.cat(pooled, dim=1)))  # (B, sum C) -> (B, num_classes)
