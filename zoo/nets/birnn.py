"""The bidirectional recurrent sentiment classifier of book 10.7.2 (``BiRNN``): an embedding, a 2-layer
bidirectional LSTM, and a linear layer on the concatenated outputs of the first and the last time step.

The book feeds reviews padded to 500 tokens and reads ``outputs[0]`` and ``outputs[-1]``: for a short review the
last step has read hundreds of padding tokens. With ``packed=True`` and the lengths of the batch, the LSTM reads
packed sequences (``nn.utils.rnn.pack_padded_sequence``) and the "last step" is each review's own last token: no
padding in the encoding; not the book's model, so off by default. It is about the result, not speed: on a CPU
PyTorch's LSTM reads packed sequences several times slower than a padded batch (bench/text_classifiers.py); to skip
padding cheaply, use the datamodule's ``length_buckets`` instead.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["BiRNNNet"]


class BiRNNNet(nn.Module):
    """Args:
        vocab_size: tokens in the vocabulary.
        embed_size: embedding size (book: 100).
        num_hiddens: LSTM units per direction (book: 100).
        num_layers: stacked LSTM layers (book: 2).
        num_classes: outputs (book: 2).
        packed: read packed sequences of the given lengths (see the module docstring).
    """

    def __init__(self, vocab_size: int, embed_size: int = 100, num_hiddens: int = 100, num_layers: int = 2,
                 num_classes: int = 2, packed: bool = False) -> None:
        super().__init__()
        self.packed = packed
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers, bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, num_classes)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) -> logits (B, num_classes)."""
        embeddings = self.embedding(tokens.T)  # (T, B, E): the LSTM is sequence-first
        if self.packed and lengths is not None:
            packed = pack_padded_sequence(embeddings, lengths.clamp(min=1).cpu(), enforce_sorted=False)
            outputs, _ = pad_packed_sequence(self.encoder(packed)[0])  # (T', B, 2H)
            last = outputs[lengths.clamp(min=1) - 1, torch.arange(tokens.shape[0])]  # (B, 2H) each review's last
        else:
            outputs, _ = self.encoder(embeddings)  # (T, B, 2H)
            last = outputs[-1]
        return self.decoder(torch.cat((outputs[0], last), dim=-1))  # (B, 4H) -> (B, num_classes)
